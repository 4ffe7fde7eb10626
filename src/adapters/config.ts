import * as path from 'path';
import type * as Yaml from 'yaml';
import { cachedParse } from './config-cache';
import { ConfigError, ValidationError } from '../errors';
import { describeAjvError } from '../model/state';
// Compiled from CONFIG_SCHEMA (config-schema.ts) at build time, like the state file's validator.
import { validate } from './config-validator.generated';
import { isSafeRelativePath } from '../constructs/output-dir';
import { LIMITS, isParserStackOverflow, nodeDepthExceeds, readTextFile } from '../limits';
import { staysInside } from './repo-files';
import { CONTROLLER_FLAGS, ControllerSettingsInput, controllerSettingProblems, splitFlaggerList } from '../model/controller-settings';
import { DRIVER_ENV, DRIVER_ENV_FLAGS, DriverSettingsInput } from '../model/driver-settings';
import { DEFAULT_PULL_REQUEST, PullRequestConfig, REVIEW_PROVIDERS, ReviewProvider } from './review/review-config';

export const CONFIG_FILE = 'canarykit.yaml';

/** How commits reach the remote. */
export type GitMode = 'push' | 'pull-request';

/** `canarykit.yaml`: how the step driver synthesizes, observes and commits in this repository. */
export interface CanarykitConfig {
  /** Shell command that regenerates `outdir` from the app (or YAML) and `stateDir`. */
  synth: string;
  outdir: string;
  stateDir: string;
  /**
   * Settings Flagger users give its controller once (model/controller-settings.ts: read by
   * `canarykit compile` and so by the driver's synth, and passed to a cdk8s app's CanaryApp;
   * model/driver-settings.ts: used by the driver when it notifies). Unset keys are Flagger's defaults,
   * owned by those modules (the mesh provider's by compile/support.ts).
   */
  controller: ControllerSettingsInput & DriverSettingsInput;
  prometheus: {
    /** Overrides every Prometheus address of the plans (the driver often runs outside the cluster). */
    address?: string;
    timeoutSeconds: number;
  };
  git: {
    remote: string;
    branch: string;
    mode: GitMode;
    /** Set exactly when `mode` is `pull-request`. */
    pullRequest?: PullRequestConfig;
    committer: { name: string; email: string };
    /** Ticks re-derived after a rejected push before giving up. */
    maxAttempts: number;
  };
}

export const DEFAULT_CONFIG: CanarykitConfig = {
  synth: 'npx tsx src/main.ts',
  outdir: 'dist',
  stateDir: 'state',
  controller: {},
  prometheus: { timeoutSeconds: 5 },
  git: { remote: 'origin', branch: 'main', mode: 'push', committer: { name: 'canarykit', email: 'canarykit@localhost' }, maxAttempts: 3 },
};



/** The yaml package, loaded on first use: a tick whose canarykit.yaml parse is cached never loads it (issue 14). */
function parseDocument(text: string): Yaml.Document.Parsed {
  return (require('yaml') as typeof Yaml).parseDocument(text);
}

/** Parses and validates canarykit.yaml text, applying defaults. */
export function parseConfig(text: string, where: string): CanarykitConfig {
  const doc = parseDocument(text);
  if (doc.errors.some((e) => isParserStackOverflow(e.message)) || (doc.errors.length === 0 && nodeDepthExceeds(doc.contents, LIMITS.depth))) {
    throw new ValidationError([{ path: where, message: `nests more than ${LIMITS.depth} levels deep; canarykit.yaml is a short settings file` }], `invalid ${where}`);
  }
  if (doc.errors.length > 0) {
    throw new ValidationError(doc.errors.map((e) => ({ path: `${where}:${e.linePos?.[0]?.line ?? '?'}`, message: e.message })), `invalid ${where}`);
  }
  let raw: Partial<CanarykitConfig> & { git?: { pullRequest?: Partial<PullRequestConfig> } };
  try {
    raw = (doc.toJS({ maxAliasCount: LIMITS.aliases }) ?? {}) as Partial<CanarykitConfig> & { git?: { pullRequest?: Partial<PullRequestConfig> } };
  } catch (e) {
    throw new ValidationError([{ path: where, message: `${(e as Error).message}; write the values out instead of using YAML aliases` }], `invalid ${where}`);
  }
  if (!validate(raw)) {
    const provider = REVIEW_PROVIDERS[(raw as { git?: { pullRequest?: { provider?: unknown } } }).git?.pullRequest?.provider === 'gitlab' ? 'gitlab' : 'github'];
    throw new ValidationError(configProblems(validate.errors ?? [], where, provider), `invalid ${where}`);
  }
  const controller = controllerSection(raw.controller as Record<string, unknown> | undefined);
  const controllerProblems = controllerSettingProblems(controller, `${where}#/controller/`);
  if (controllerProblems.length > 0) throw new ValidationError(controllerProblems, `invalid ${where}`);
  const folderProblems = repoFolderProblems(raw.outdir ?? DEFAULT_CONFIG.outdir, raw.stateDir ?? DEFAULT_CONFIG.stateDir, where);
  if (folderProblems.length > 0) throw new ValidationError(folderProblems, `invalid ${where}`);
  const git = { ...DEFAULT_CONFIG.git, ...raw.git, committer: { ...DEFAULT_CONFIG.git.committer, ...raw.git?.committer } };
  if (raw.git?.pullRequest) {
    const provider = raw.git.pullRequest.provider ?? DEFAULT_PULL_REQUEST.provider;
    git.pullRequest = { ...DEFAULT_PULL_REQUEST, ...raw.git.pullRequest, apiUrl: raw.git.pullRequest.apiUrl ?? REVIEW_PROVIDERS[provider].defaultApiUrl } as PullRequestConfig;
  }
  return {
    synth: raw.synth ?? DEFAULT_CONFIG.synth,
    outdir: raw.outdir ?? DEFAULT_CONFIG.outdir,
    stateDir: raw.stateDir ?? DEFAULT_CONFIG.stateDir,
    controller,
    prometheus: { ...DEFAULT_CONFIG.prometheus, ...raw.prometheus },
    git,
  };
}

/** `controller:` with Flagger's comma-separated lists (its Helm values' form) split as Flagger splits them. */
function controllerSection(raw: Record<string, unknown> | undefined): CanarykitConfig['controller'] {
  const out: Record<string, unknown> = { ...raw };
  for (const f of CONTROLLER_FLAGS) {
    if (f.kind === 'list' && typeof out[f.key] === 'string') out[f.key] = splitFlaggerList(out[f.key] as string);
  }
  return out as CanarykitConfig['controller'];
}

/** The rendering settings of `controller:` (what compile and CanaryApp read), without the driver's. */
export function renderSettings(controller: CanarykitConfig['controller']): ControllerSettingsInput {
  const out: Record<string, unknown> = {};
  for (const f of CONTROLLER_FLAGS) if (controller[f.key] !== undefined) out[f.key] = controller[f.key];
  return out as ControllerSettingsInput;
}

type AjvError = NonNullable<typeof validate.errors>[number];

/** ajv errors as problems; the pull-request rules get messages naming the field and the fix. */
function configProblems(
  errors: readonly AjvError[],
  where: string,
  provider: (typeof REVIEW_PROVIDERS)[ReviewProvider],
): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const e of errors) {
    // The if/then/else wrapper error only repeats the errors of its branch.
    if (e.keyword === 'if') continue;
    let at = e.instancePath || '/';
    let message = describeAjvError(e);
    const missing = e.keyword === 'required' ? String(e.params.missingProperty) : undefined;
    if (missing === 'pullRequest' || (missing === 'repository' && at === '/git/pullRequest')) {
      at = '/git/pullRequest/repository';
      message = `required when git.mode is pull-request: the ${provider.label} repository (${provider.repositoryHint.replace(/^must be /, '')})`;
    } else if (e.keyword === 'false schema' && at === '/git/pullRequest') {
      message = 'only used with git.mode: pull-request (set git.mode or remove git.pullRequest)';
    } else if (e.keyword === 'additionalProperties' && at === '/controller' && String(e.params.additionalProperty) in DRIVER_ENV) {
      // Flagger's URL and token flags: secrets, which canarykit never reads from git.
      const key = String(e.params.additionalProperty) as keyof typeof DRIVER_ENV;
      at = `/controller/${key}`;
      message = `Flagger's -${DRIVER_ENV_FLAGS[key]} is a secret and is not read from git: set ${DRIVER_ENV[key]} in the step driver's environment instead`;
    } else if (e.keyword === 'pattern' && at === '/git/pullRequest/repository') {
      message = provider.repositoryHint;
    } else if (e.keyword === 'pattern' && at === '/git/pullRequest/apiUrl') {
      message = `must be an http or https URL without credentials (the token comes from ${provider.tokenEnv})`;
    } else if (e.keyword === 'pattern' && at === '/git/pullRequest/branchPrefix') {
      message = 'must be the start of a git branch name, e.g. canarykit/ (letters, digits, ".", "_", "-", "/"; no "..", "//" or leading "/", "-", ".")';
    }
    out.push({ path: `${where}#${at}`, message });
  }
  return out;
}

/** Overrides `prometheus.address` from the environment (the CronJob sets the in-cluster address). */
export const PROMETHEUS_ADDRESS_ENV = 'CANARYKIT_PROMETHEUS_ADDRESS';

/**
 * The address every metric query goes to when one overrides the plans' own: the environment first
 * (empty counts as unset, as a CI variable that is not defined expands to ""), then canarykit.yaml.
 */
export function prometheusAddressOverride(config: CanarykitConfig, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env[PROMETHEUS_ADDRESS_ENV];
  if (!fromEnv) return config.prometheus.address;
  if (!/^https?:\/\/\S+$/.test(fromEnv)) throw new ConfigError(`${PROMETHEUS_ADDRESS_ENV} must be an http or https URL (got "${fromEnv}")`);
  return fromEnv;
}

/**
 * The keys read from the clone's own `canarykit.yaml` before the sync, because they say where and
 * how to sync: git.remote, git.branch, git.committer (tells canarykit's unpushed commits from
 * people's), git.maxAttempts, outdir and stateDir (tell a killed tick's leftovers from people's
 * edits). Everything else is read again after the sync, from the remote tip (see loadConfig).
 * A file whose other keys are invalid still yields its bootstrap keys, so a fix pushed to the
 * remote is fetched; invalid bootstrap keys are an error naming the file and field.
 */
export function loadBootstrapConfig(repoDir: string): CanarykitConfig {
  const file = path.join(repoDir, CONFIG_FILE);
  const text = readTextFile(file, CONFIG_FILE, LIMITS.fileBytes, 'canarykit.yaml must be a small YAML file');
  if (text === undefined) return DEFAULT_CONFIG;
  try {
    return cachedParse(repoDir, text, CONFIG_FILE, parseConfig);
  } catch (e) {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw e;
    const raw = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, any>;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw e;
    const git = raw.git && typeof raw.git === 'object' ? raw.git : undefined;
    const subset = {
      ...pick(raw, ['outdir', 'stateDir']),
      ...(git ? { git: pick(git, ['remote', 'branch', 'committer', 'maxAttempts']) } : {}),
    };
    return parseConfig(JSON.stringify(subset), CONFIG_FILE);
  }
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/**
 * `outdir` and `stateDir` are folders of the repository that canarykit writes and commits: plain
 * relative paths (no `..`, not the repository itself, not `.git`), neither inside the other (a
 * synth replaces `outdir` as a whole and would delete the state).
 */
function repoFolderProblems(outdir: string, stateDir: string, where: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const clean = (p: string): string => p.replace(/\/+$/, '');
  for (const [field, value] of [['outdir', outdir], ['stateDir', stateDir]] as const) {
    const v = clean(value);
    if (!isSafeRelativePath(v) || v.split('/')[0] === '.git') {
      out.push({ path: `${where}#/${field}`, message: `must be a folder inside the repository, as a relative path without "." or ".." segments and not .git, e.g. ${DEFAULT_CONFIG[field]} (got ${JSON.stringify(value)})` });
    }
  }
  if (out.length > 0) return out;
  const [o, st] = [clean(outdir), clean(stateDir)];
  if (o === st || st.startsWith(`${o}/`) || o.startsWith(`${st}/`)) {
    out.push({ path: `${where}#/stateDir`, message: `must not be or lie inside outdir "${outdir}" (or hold it): synth replaces outdir as a whole and would delete the state files` });
  }
  return out;
}

/**
 * Loads `<repo>/canarykit.yaml`, or the defaults when there is none. `cache: false` (for
 * `canarykit compile`, a user's command that writes only outdir/stateDir) neither reads nor
 * writes the clone's config cache.
 */
export function loadConfig(repoDir: string, options: { cache?: boolean } = {}): CanarykitConfig {
  const file = path.join(repoDir, CONFIG_FILE);
  const text = readTextFile(file, CONFIG_FILE, LIMITS.fileBytes, 'canarykit.yaml must be a small YAML file');
  // A symlink committed in the repository must not lead the driver's writes elsewhere (checked
  // every time, cached or not, and before a parse is cached: a refused file writes nothing).
  const folders = (config: CanarykitConfig): void => {
    for (const field of ['outdir', 'stateDir'] as const) {
      if (!staysInside(repoDir, config[field].replace(/\/+$/, ''))) {
        throw new ValidationError([{ path: `${CONFIG_FILE}#/${field}`, message: `${config[field]} leads out of the repository through a symbolic link; make it a real folder` }], `invalid ${CONFIG_FILE}`);
      }
    }
  };
  if (text === undefined) {
    folders(DEFAULT_CONFIG);
    return DEFAULT_CONFIG;
  }
  if (options.cache === false) {
    const config = parseConfig(text, CONFIG_FILE);
    folders(config);
    return config;
  }
  return cachedParse(repoDir, text, CONFIG_FILE, parseConfig, folders);
}

/** The commented file `canarykit init` writes. */
export function initConfigText(synth: string): string {
  return `# canarykit.yaml: how \`canarykit step\` synthesizes, observes and commits in this repository.

# Command that regenerates the output folder from your app and the state files.
# A cdk8s app:       the app command of cdk8s.yaml, e.g. npx tsx src/main.ts
# Flagger YAML only: canarykit compile -f apps/   (writes outdir and reads stateDir below)
synth: ${synth}

# Where synth writes manifests (one folder per canary) and where stage files live.
outdir: dist
stateDir: state

# Flagger controller flags (same names, camelCase; lists comma-separated as in Flagger's Helm
# values). compile, the driver's synth and CanaryApp read the first nine; the driver the last three.
# controller:
#   # -mesh-provider: the provider of a Canary without spec.provider (Flagger's default: istio).
#   meshProvider: linkerd
#   selectorLabels: app,name,app.kubernetes.io/name   # -selector-labels
#   includeLabelPrefix: ""                            # -include-label-prefix (* copies every label)
#   ingressAnnotationsPrefix: nginx.ingress.kubernetes.io
#   ingressClass: ""                                  # -ingress-class of Contour HTTPProxies
#   metricsServer: http://prometheus:9090             # -metrics-server
#   enableConfigTracking: true                        # -enable-config-tracking (false: no -primary ConfigMaps)
#   noCrossNamespaceRefs: false                       # -no-cross-namespace-refs
#   untrackedConfigMaps: ""                           # canarykit's own: ConfigMaps the cluster creates (istio-ca-root-cert)
#   clusterName: ""                                   # -cluster-name, shown in alerts
#   slackUser: flagger                                # -slack-user of the default notifier
#   slackChannel: ""                                  # -slack-channel of the default notifier
# URLs and tokens are never read from this file: the driver reads Flagger's variables
# EVENT_WEBHOOK_URL, SLACK_URL, SLACK_TOKEN, SLACK_PROXY_URL, MSTEAMS_URL and MSTEAMS_PROXY_URL.

prometheus:
  # Overrides the metricsServer/MetricTemplate addresses of every canary, for a driver running
  # outside the cluster (CANARYKIT_PROMETHEUS_ADDRESS in the environment overrides this). Credentials come from the environment only:
  # CANARYKIT_PROMETHEUS_TOKEN, or CANARYKIT_PROMETHEUS_USERNAME and CANARYKIT_PROMETHEUS_PASSWORD.
  # address: http://prometheus.monitoring:9090
  timeoutSeconds: 5

git:
  remote: origin
  branch: main
  # push: every stage is a commit pushed to the branch Flux or Argo CD watches.
  # pull-request: every stage is a pull request to that branch; merging it applies the stage.
  #   The token comes from the environment only: CANARYKIT_GITHUB_TOKEN (GitHub) or
  #   CANARYKIT_GITLAB_TOKEN (GitLab).
  mode: push
  # pullRequest:
  #   provider: github                    # or gitlab (merge requests)
  #   repository: owner/name              # GitLab: group/project or the numeric project id
  #   apiUrl: https://api.github.com      # https://<host>/api/v3 for GitHub Enterprise Server,
  #                                       # https://<host>/api/v4 for self-managed GitLab
  #   branchPrefix: canarykit/            # branch <branchPrefix><namespace>/<name>
  committer:
    name: canarykit
    email: canarykit@localhost
  # A push rejected because the remote moved is re-derived from scratch at most this many times.
  maxAttempts: 3
`;
}
