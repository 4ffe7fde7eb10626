import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { parseDocument } from 'yaml';
import { ValidationError } from '../errors';
import { describeAjvError } from './state';

export const CONFIG_FILE = 'canarykit.yaml';

/** How commits reach the remote. */
export type GitMode = 'push';

/** `canarykit.yaml`: how the step driver synthesizes, observes and commits in this repository. */
export interface CanarykitConfig {
  /** Shell command that regenerates `outdir` from the app (or YAML) and `stateDir`. */
  synth: string;
  outdir: string;
  stateDir: string;
  prometheus: {
    /** Overrides every Prometheus address of the plans (the driver often runs outside the cluster). */
    address?: string;
    timeoutSeconds: number;
  };
  git: {
    remote: string;
    branch: string;
    mode: GitMode;
    committer: { name: string; email: string };
    /** Ticks re-derived after a rejected push before giving up. */
    maxAttempts: number;
  };
}

export const DEFAULT_CONFIG: CanarykitConfig = {
  synth: 'npx tsx src/main.ts',
  outdir: 'dist',
  stateDir: 'state',
  prometheus: { timeoutSeconds: 5 },
  git: { remote: 'origin', branch: 'main', mode: 'push', committer: { name: 'canarykit', email: 'canarykit@localhost' }, maxAttempts: 3 },
};

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    synth: { type: 'string', minLength: 1 },
    outdir: { type: 'string', minLength: 1 },
    stateDir: { type: 'string', minLength: 1 },
    prometheus: {
      type: 'object',
      additionalProperties: false,
      properties: { address: { type: 'string', pattern: '^https?://' }, timeoutSeconds: { type: 'number', exclusiveMinimum: 0 } },
    },
    git: {
      type: 'object',
      additionalProperties: false,
      properties: {
        remote: { type: 'string', minLength: 1 },
        branch: { type: 'string', minLength: 1 },
        mode: { enum: ['push'] },
        committer: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'email'],
          properties: { name: { type: 'string', minLength: 1 }, email: { type: 'string', minLength: 3 } },
        },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 20 },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(SCHEMA);

/** Parses and validates canarykit.yaml text, applying defaults. */
export function parseConfig(text: string, where: string): CanarykitConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ValidationError(doc.errors.map((e) => ({ path: `${where}:${e.linePos?.[0]?.line ?? '?'}`, message: e.message })), `invalid ${where}`);
  }
  const raw = (doc.toJS() ?? {}) as Partial<CanarykitConfig>;
  if (!validate(raw)) {
    throw new ValidationError((validate.errors ?? []).map((e) => ({ path: `${where}#${e.instancePath || '/'}`, message: describeAjvError(e) })), `invalid ${where}`);
  }
  return {
    synth: raw.synth ?? DEFAULT_CONFIG.synth,
    outdir: raw.outdir ?? DEFAULT_CONFIG.outdir,
    stateDir: raw.stateDir ?? DEFAULT_CONFIG.stateDir,
    prometheus: { ...DEFAULT_CONFIG.prometheus, ...raw.prometheus },
    git: { ...DEFAULT_CONFIG.git, ...raw.git, committer: { ...DEFAULT_CONFIG.git.committer, ...raw.git?.committer } },
  };
}

/** Loads `<repo>/canarykit.yaml`, or the defaults when there is none. */
export function loadConfig(repoDir: string): CanarykitConfig {
  const file = path.join(repoDir, CONFIG_FILE);
  if (!fs.existsSync(file)) return DEFAULT_CONFIG;
  return parseConfig(fs.readFileSync(file, 'utf8'), CONFIG_FILE);
}

/** The commented file `canarykit init` writes. */
export function initConfigText(synth: string): string {
  return `# canarykit.yaml: how \`canarykit step\` synthesizes, observes and commits in this repository.

# Command that regenerates the output folder from your app and the state files.
# A cdk8s app:       npx tsx src/main.ts
# Flagger YAML only: npx canarykit compile -f apps/ -o dist --state state
synth: ${synth}

# Where synth writes manifests (one folder per canary) and where stage files live.
outdir: dist
stateDir: state

prometheus:
  # Overrides the metricsServer/MetricTemplate addresses of every canary, for a driver running
  # outside the cluster. Credentials come from the environment only:
  # CANARYKIT_PROMETHEUS_TOKEN, or CANARYKIT_PROMETHEUS_USERNAME and CANARYKIT_PROMETHEUS_PASSWORD.
  # address: http://prometheus.monitoring:9090
  timeoutSeconds: 5

git:
  remote: origin
  branch: main
  # push: every stage is a commit pushed to the branch Flux or Argo CD watches.
  mode: push
  committer:
    name: canarykit
    email: canarykit@localhost
  # A push rejected because the remote moved is re-derived from scratch at most this many times.
  maxAttempts: 3
`;
}
