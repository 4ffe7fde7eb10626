import { REVIEW_PROVIDERS } from './review/review-config';
import { CONTROLLER_FLAGS } from '../model/controller-settings';
import { DRIVER_FLAGS } from '../model/driver-settings';

/** A Flagger list flag: its comma-separated string (as in Flagger's Helm values) or a YAML list. */
const LIST = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } as const;

/**
 * `controller:`: every setting of model/controller-settings.ts and model/driver-settings.ts, under
 * its camelCase key. Values are checked again by controllerSettingProblems (config.ts), which gives
 * Flagger-worded messages; the schema rejects unknown keys and wrong types.
 */
const CONTROLLER_PROPERTIES = Object.fromEntries([
  ...CONTROLLER_FLAGS.map((f) => [f.key, f.kind === 'list' ? LIST : { type: f.kind === 'bool' ? 'boolean' : 'string' }]),
  ...DRIVER_FLAGS.map((f) => [f.key, { type: 'string' }]),
]);

/** A prefix that makes a valid git branch name: no `..`, `//`, `/.`, spaces or `~^:?*[\\`, no leading `/`, `-` or `.`. */
const BRANCH_PREFIX_PATTERN = '^(?![/.-])(?!.*\\.\\.)(?!.*/\\.)(?!.*//)(?!.*\\.lock/)[A-Za-z0-9._/-]+$';

/** A Prometheus query that takes longer than this is not an answer a tick can wait for. */
const MAX_TIMEOUT_SECONDS = 300;

/** JSON schema of canarykit.yaml (before defaults); scripts/gen-validators.ts compiles it. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    synth: { type: 'string', minLength: 1 },
    outdir: { type: 'string', minLength: 1 },
    stateDir: { type: 'string', minLength: 1 },
    controller: {
      type: 'object',
      additionalProperties: false,
      properties: CONTROLLER_PROPERTIES,
    },
    prometheus: {
      type: 'object',
      additionalProperties: false,
      properties: { address: { type: 'string', pattern: '^https?://' }, timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: MAX_TIMEOUT_SECONDS } },
    },
    git: {
      type: 'object',
      additionalProperties: false,
      properties: {
        remote: { type: 'string', minLength: 1 },
        branch: { type: 'string', minLength: 1 },
        mode: { enum: ['push', 'pull-request'] },
        pullRequest: {
          type: 'object',
          additionalProperties: false,
          properties: {
            provider: { enum: Object.keys(REVIEW_PROVIDERS) },
            repository: { type: 'string' },
            apiUrl: { type: 'string', pattern: '^https?://[^/@\\s]+(/\\S*)?$' },
            branchPrefix: { type: 'string', minLength: 1, pattern: BRANCH_PREFIX_PATTERN },
          },
          // The repository's shape depends on the provider (GitHub when none is given).
          if: { required: ['provider'], properties: { provider: { const: 'gitlab' } } },
          then: { properties: { repository: { pattern: REVIEW_PROVIDERS.gitlab.repositoryPattern } } },
          else: { properties: { repository: { pattern: REVIEW_PROVIDERS.github.repositoryPattern } } },
        },
        committer: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'email'],
          properties: { name: { type: 'string', minLength: 1 }, email: { type: 'string', minLength: 3 } },
        },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 20 },
      },
      // pull-request mode needs to know where to open pull requests; push mode must not be given
      // settings it would ignore.
      if: { required: ['mode'], properties: { mode: { const: 'pull-request' } } },
      then: { required: ['pullRequest'], properties: { pullRequest: { required: ['repository'] } } },
      else: { properties: { pullRequest: false } },
    },
  },
} as const;
