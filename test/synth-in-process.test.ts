import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileFiles } from '../src/compile';
import { inProcessCompile, runSynth } from '../src/adapters/synth';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CanaryApp } from '../src/constructs/canary-app';
import { runCli } from './support/cli';
import { healthyPodinfo } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { onPath } from './support/prometheus-server';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * A YAML-only repository's synth `canarykit compile -f apps/` (what `canarykit init` writes) runs
 * in the driver's process (issue 14: each synth paid ~0.35 s of process start and schema
 * compilation). Anything else is still run by the shell.
 */

describe('which synth commands run in-process', () => {
  it('exactly `canarykit compile` with -f/--file paths', () => {
    expect(inProcessCompile('canarykit compile -f apps/')).toEqual(['apps/']);
    expect(inProcessCompile('  canarykit compile -f apps --file more/flagger.yaml ')).toEqual(['apps', 'more/flagger.yaml']);
    for (const other of [
      'canarykit compile -f apps/ -o dist',
      'canarykit compile --state state -f apps',
      'canarykit compile -f "apps dir"',
      'canarykit compile -f $APPS',
      'canarykit compile -f apps/*.yaml',
      'canarykit compile -f apps > log',
      'canarykit compile',
      'npx canarykit compile -f apps',
      'npx tsx src/main.ts',
    ]) expect(inProcessCompile(other), other).toBeUndefined();
  });
});

describe('what a shell synth command is given', () => {
  it('CDK8S_OUTDIR and canarykit.yaml stateDir as CANARYKIT_STATE_DIR, which CanaryApp reads (constructs read no environment)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-synth-env-'));
    try {
      const script = `require('fs').writeFileSync('seen.json', JSON.stringify({ out: process.env.CDK8S_OUTDIR, state: process.env.CANARYKIT_STATE_DIR }))`;
      await runSynth(`node -e "${script}"`, dir, 'manifests', 'rollouts');
      expect(JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8'))).toEqual({ out: 'manifests', state: 'rollouts' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    vi.stubEnv('CANARYKIT_STATE_DIR', 'rollouts');
    try {
      expect(new CanaryApp({ outdir: 'x' }).stateDir).toBe('rollouts');
      expect(new CanaryApp({ outdir: 'x', stateDir: 'mine' }).stateDir).toBe('mine');
    } finally {
      vi.unstubAllEnvs();
    }
    expect(new CanaryApp({ outdir: 'x' }).stateDir).toBe(process.env.CANARYKIT_STATE_DIR ?? 'state');
  });
});

const deployment = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: podinfo, namespace: inproc }
spec:
  replicas: 2
  selector: { matchLabels: { app: podinfo } }
  template:
    metadata: { labels: { app: podinfo } }
    spec:
      containers: [{ name: podinfod, image: ${image}, ports: [{ name: http, containerPort: 9898 }] }]
`;
const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: inproc }
spec:
  provider: istio
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 20
    stepWeight: 10
    metrics: [{ name: request-success-rate, thresholdRange: { min: 99 }, interval: 1m }]
`;

describeWithPrometheus('synth: canarykit compile -f apps/ in the driver process', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    healthyPodinfo(w, 'inproc');
    prom = await startPrometheus(String(w));
    fx = createGitFixture({
      'apps/podinfo/deployment.yaml': deployment('podinfo:1.0.0'),
      'apps/podinfo/canary.yaml': CANARY,
      'canarykit.yaml': `synth: canarykit compile -f apps/\nprometheus:\n  address: ${prom.url}\n`,
    });
    // No canarykit on PATH: a synth run by the shell would fail with "command not found".
    vi.stubEnv('PATH', '/usr/local/bin:/usr/bin:/bin');
  }, 30_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await prom?.stop();
    fx?.cleanup();
  });

  it('ticks, and commits what compile writes, byte for byte', async () => {
    expect(onPath('canarykit')).toBe(false);
    const repo = fx.clone('inproc');
    const r = await runCli(['step', '--repo', repo], at(60));
    expect(r.err).toMatch(/^synced dist\/ with the app \([0-9a-f]{8}\)$/);
    expect(r.code).toBe(0);
    expect(fx.remoteGit('log', '-1', '--format=%s', 'main', '--', 'state')).toBe('canary(inproc/podinfo): initialize: create the primary');
    // The committed output is what compile renders from the same inputs and state.
    const [folder] = compileFiles(['apps/'], { stateDir: 'state', cwd: repo }).folders;
    expect(folder.dir).toBe('inproc/podinfo');
    for (const [name, content] of folder.files) {
      expect(fx.remoteGit('show', `main:dist/inproc/podinfo/${name}`) + '\n', name).toBe(content.endsWith('\n') ? content : `${content}\n`);
      expect(readFileSync(join(repo, 'dist/inproc/podinfo', name), 'utf8')).toBe(content);
    }
  });

  it('a broken input fails the tick with exit 2 naming the synth and the field, and commits nothing', async () => {
    fx.pushConcurrently({ 'apps/podinfo/canary.yaml': CANARY.replace('maxWeight: 20', 'maxWeight: 150') }, 'typo');
    const head = fx.remoteGit('rev-parse', 'main');
    const r = await runCli(['step', '--repo', fx.clone('inproc-broken')], at(120));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/synth command "canarykit compile -f apps\/" failed; nothing was committed/);
    expect(r.err).toMatch(/spec\.analysis\.maxWeight/);
    expect(fx.remoteGit('rev-parse', 'main')).toBe(head);
  });
});
