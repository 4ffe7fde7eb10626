import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { TRAILER_KEYS, parseTrailers } from '../../src/model/commit-message';
import { GitFixture, createGitFixture, git } from './git';
import { at } from './prometheus-server';
import { podinfoDeploymentYaml } from './flagger-yaml';

/*
 * A YAML-only repository driven by real `canarykit step` processes of the built CLI
 * (bin/canarykit.js -> lib/), for the crash and race tests: one small Istio canary without
 * metrics (readiness only), a 15 s interval so a tick per data step fits Prometheus' window,
 * and as the synth command a thin client of a warm `canarykit compile` (synth-server.js: the same
 * compiler, kept loaded, so a hundred ticks fit the test's time). The client runs in the clone and
 * writes the output like writeFolders, so a killed tick's synth is a leftover like any other.
 */

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'canarykit.js');
export const NAMESPACE = 'crash';
export const INTERVAL_SECONDS = 15;

export function deploymentYaml(image: string): string {
  return podinfoDeploymentYaml(NAMESPACE, image);
}

const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: ${NAMESPACE}
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: ${INTERVAL_SECONDS}s
    threshold: 2
    maxWeight: 20
    stepWeight: 10
`;

/** The warm compiler the repository's synth command talks to (synth-server.js). */
export interface SynthServer {
  port: number;
  stop(): Promise<void>;
}

export async function startSynthServer(): Promise<SynthServer> {
  const child = spawn(process.execPath, [join(__dirname, 'synth-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    child.stdout!.once('data', (d) => res(Number(String(d).trim())));
    child.once('exit', (code) => rej(new Error(`synth server exited with ${code}`)));
  });
  return {
    port,
    stop: () => new Promise((res) => {
      child.once('exit', () => res());
      child.kill('SIGTERM');
    }),
  };
}

export function configYaml(prometheusUrl: string, synthPort: number, extra = ''): string {
  const client = join(__dirname, 'synth-client.js');
  return `synth: ${process.execPath} ${client} ${synthPort}\nprometheus:\n  address: ${prometheusUrl}\ngit:\n  committer: { name: canarykit, email: canarykit@example.test }\n${extra}`;
}

export function crashRepo(prometheusUrl: string, synthPort: number): GitFixture {
  return createGitFixture({
    'apps/podinfo/deployment.yaml': deploymentYaml('podinfo:1.0.0'),
    'apps/podinfo/canary.yaml': CANARY,
    'canarykit.yaml': configYaml(prometheusUrl, synthPort),
  });
}

export interface StepRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

/** Starts `canarykit step` in `clone` at simulated time `t` (seconds into the data window). */
export function startStep(clone: string, t: number, env: NodeJS.ProcessEnv = {}): StepRun {
  const child = spawn(process.execPath, [BIN, 'step', '--repo', clone], {
    cwd: ROOT,
    env: { ...process.env, CANARYKIT_NOW: at(t).toISOString(), LC_ALL: 'C', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, out, err })),
  );
  return { child, done };
}

export async function runStep(clone: string, t: number): Promise<{ code: number | null; out: string; err: string }> {
  return startStep(clone, t).done;
}

/** Polls until `file` exists or `run` exits; true when the file appeared. */
export async function waitForFile(file: string, run: StepRun, timeoutMs = 60_000): Promise<boolean> {
  let exited = false;
  void run.done.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) return true;
    if (exited) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${file}`);
}

/** One canarykit stage commit on the remote, read back from its trailers. */
export interface StageCommit {
  sha: string;
  subject: string;
  phase: string;
  weight: number;
  revision: string;
  failedChecks: number;
}

/** Every canary commit on the remote branch, oldest first, read back from its trailers. */
export function stageCommits(fx: GitFixture): StageCommit[] {
  const out = fx.remoteGit('log', '--reverse', '--format=%H%x00%B%x1e', 'main');
  return out
    .split('\x1e')
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r.includes('\0'))
    .map((r) => {
      const [sha, message] = r.split('\0');
      return { sha, subject: message.split('\n', 1)[0], t: parseTrailers(message) };
    })
    .filter((c) => c.subject.startsWith('canary('))
    .map(({ sha, subject, t }) => ({
      sha,
      subject,
      phase: t[TRAILER_KEYS.phase],
      weight: Number(t[TRAILER_KEYS.weight]),
      revision: t[TRAILER_KEYS.revision],
      failedChecks: Number(t[TRAILER_KEYS.failedChecks]),
    }));
}

/**
 * The remote's consistency at `rev`: the state file, the newest stage commit's trailers and the
 * VirtualService weights all say the same stage. Returns the stage.
 */
export function remoteStage(fx: GitFixture, rev = 'main'): { phase: string; weight: number; revision: string; failedChecks: number; routes: number[] } {
  const state = JSON.parse(fx.remoteGit('show', `${rev}:state/${NAMESPACE}/podinfo.json`));
  const vs = parse(fx.remoteGit('show', `${rev}:dist/${NAMESPACE}/podinfo/virtualservice-podinfo.yaml`));
  const routes = vs.spec.http[0].route.map((r: { weight: number }) => r.weight);
  return { phase: state.phase, weight: state.canaryWeight, revision: state.canaryRevision, failedChecks: state.failedChecks, routes };
}

export function cloneIsClean(clone: string): { head: string; status: string } {
  return { head: git(clone, ['rev-parse', 'HEAD']), status: git(clone, ['status', '--porcelain', '--untracked-files=all', '--ignored']) };
}
