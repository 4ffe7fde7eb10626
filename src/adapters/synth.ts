import { spawn } from 'child_process';
import * as path from 'path';
import { SynthError, UserError } from '../errors';
import { gitDirOf } from './git/tick-lock';
import { ControllerSettingsInput } from '../model/controller-settings';
import { DRIVER_ENV } from '../model/driver-settings';

/**
 * The `-f` paths of a synth command that is exactly `canarykit compile -f PATH…` (what `canarykit
 * init` writes for a YAML-only repository), else undefined. Such a synth runs in the driver's own
 * process (runSynth): no process start, no second load of the CLI, per synth of every tick.
 */
export function inProcessCompile(command: string): string[] | undefined {
  const words = command.trim().split(/\s+/);
  if (words[0] !== 'canarykit' || words[1] !== 'compile' || words.length < 4 || words.length % 2 !== 0) return undefined;
  const files: string[] = [];
  for (let i = 2; i < words.length; i += 2) {
    // Anything a shell would interpret (quotes, variables, globs, redirections) keeps the shell.
    if ((words[i] !== '-f' && words[i] !== '--file') || !/^[\w./@+-]+$/.test(words[i + 1])) return undefined;
    files.push(words[i + 1]);
  }
  return files;
}

/**
 * Every path the synth reads or writes, relative to the repository, when it is the in-process
 * `canarykit compile` (its `-f` paths, the state and output folders, canarykit.yaml); undefined
 * for any other synth command (a cdk8s app may read anything) or an input outside the repository.
 */
export function synthPaths(command: string, outdir: string, stateDir: string, configFile: string): string[] | undefined {
  const files = inProcessCompile(command);
  if (!files) return undefined;
  const all = [...files, stateDir, outdir, configFile].map((p) => path.posix.normalize(p));
  if (all.some((p) => path.posix.isAbsolute(p) || p === '..' || p.startsWith('../') || p === '.')) return undefined;
  return all;
}

/** Canaries (`namespace/name`) whose state files alone changed since the last synth of the same app. */
export interface SynthScope {
  readonly canaries: readonly string[];
}

/** What a synth wrote, as far as the driver can rely on it. */
export interface SynthWrote {
  /**
   * True when the synth wrote the folders of the scope's canaries and nothing else of the output
   * (the in-process compile's partial write): then nothing else under the output folder can have
   * changed, and the tick need not look through all of it for a sync commit (issue 14: a `git
   * status` of a 1,000-canary output folder was a quarter of a one-canary tick's extra cost).
   */
  readonly onlyScoped: boolean;
}

/**
 * Runs the configured synth command in the repository (shell syntax allowed), with the output
 * folder passed the way cdk8s passes it (CDK8S_OUTDIR) and canarykit.yaml's stateDir as
 * CANARYKIT_STATE_DIR, which CanaryApp reads. Output is captured and shown only on failure.
 * `canarykit compile -f PATH…` is run in this process instead, with canarykit.yaml's folders, as
 * the CLI would run it (see inProcessCompile).
 */
export async function runSynth(command: string, cwd: string, outdir: string, stateDir?: string, scope?: SynthScope, controller?: ControllerSettingsInput): Promise<SynthWrote> {
  const files = stateDir === undefined ? undefined : inProcessCompile(command);
  if (files) {
    // Loaded on use: the compiler pulls in cdk8s, which ticks without a synth never need.
    const { compile } = await import('../compile');
    try {
      const r = await compile({ files, outdir, stateDir, cwd, only: scope?.canaries, parseCache: parseCacheFile(cwd), controller });
      return { onlyScoped: r.onlyScoped };
    } catch (e) {
      if (e instanceof UserError) throw new SynthError(`synth command "${command}" failed; nothing was committed:\n${e.message}`);
      throw e;
    }
  }
  // Any other synth may rewrite anything under the output folder.
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, shell: true, env: { ...synthEnv(process.env), CDK8S_OUTDIR: outdir, ...(stateDir === undefined ? {} : { CANARYKIT_STATE_DIR: stateDir }), ...controllerEnv(controller) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => reject(new SynthError(`synth command "${command}" could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve({ onlyScoped: false });
      else reject(new SynthError(`synth command "${command}" failed (exit ${code}); nothing was committed:\n${tail(output)}`));
    });
  });
}

/**
 * canarykit.yaml's `controller:` for a cdk8s app, which CanaryApp reads (its CONTROLLER_ENV), as
 * JSON; nothing when empty, so apps see no new variable. A `canarykit compile` synth run through
 * the shell reads canarykit.yaml itself and checks the two agree.
 */
export function controllerEnv(controller: ControllerSettingsInput | undefined): Record<string, string> {
  if (!controller || Object.keys(controller).length === 0) return {};
  return { CANARYKIT_CONTROLLER: JSON.stringify(controller) };
}

/** Where the in-process compile keeps parsed inputs: the clone's git dir, never the work tree. */
function parseCacheFile(cwd: string): string | undefined {
  try {
    return path.join(gitDirOf(cwd), 'canarykit', 'parse-cache.json');
  } catch {
    return undefined;
  }
}

const FLAGGER_SECRET_ENV: ReadonlySet<string> = new Set(Object.values(DRIVER_ENV));

/** The driver's credentials are not the app's business: synth runs without them. */
export function synthEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    // Flagger's notifier and event webhook variables (model/driver-settings.ts DRIVER_ENV) are the driver's too.
    if (!/^CANARYKIT_(GITHUB_TOKEN|PROMETHEUS_|ALERT_)/.test(k) && !FLAGGER_SECRET_ENV.has(k)) out[k] = v;
  }
  return out;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
