import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthProxy, startBearerProxy } from './support/auth-proxy';
import { runCli } from './support/cli';
import { appJson, healthyPodinfo } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * A Prometheus that requires a bearer token: a real Prometheus behind a loopback reverse proxy
 * that answers 401 without `Authorization: Bearer <token>`. The real `canarykit step` (in-process
 * CLI, synth command as a child process) must send CANARYKIT_PROMETHEUS_TOKEN with readiness and
 * built-in metric queries (no MetricTemplate, no secretRef), and without it the 401s are errored
 * checks that end in a rollback at threshold (Flagger scheduler.go: metric errors count as failed
 * checks; rollback once failedChecks reaches the threshold).
 */

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const TOKEN = 'prom-token-5f0c1d9e8b7a6c5d4e3f2a1b';
const NS = 'auth';

describeWithPrometheus('a Prometheus that requires a bearer token', () => {
  let prom: PrometheusServer;
  let proxy: AuthProxy;
  let fx: GitFixture;
  let repo: string;
  const outputs: string[] = [];
  beforeAll(async () => {
    prom = await startPrometheus(String(healthyPodinfo(new OpenMetricsWriter(), NS)));
    proxy = await startBearerProxy(() => prom.url, TOKEN);
    fx = createGitFixture({ 'app.json': appJson({ canaries: [{ namespace: NS, image: 'podinfo:1.0.0' }] }) });
    repo = fx.clone('driver');
    // The canary's metricsServer is the proxy: readiness and built-in metrics go through it.
    writeFileSync(join(repo, 'canarykit.yaml'), `synth: ${TSX} ${join(ROOT, 'test/support/synth-repo-cli.ts')} ${proxy.url}\n`);
    git(repo, ['add', 'canarykit.yaml']);
    git(repo, ['commit', '-qm', 'configure canarykit']);
    git(repo, ['push', '-q', 'origin', 'HEAD:main']);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await prom?.stop();
    fx?.cleanup();
  });

  async function step(seconds: number, token?: string) {
    const previous = process.env.CANARYKIT_PROMETHEUS_TOKEN;
    if (token === undefined) delete process.env.CANARYKIT_PROMETHEUS_TOKEN;
    else process.env.CANARYKIT_PROMETHEUS_TOKEN = token;
    try {
      const r = await runCli(['step', '--repo', repo, '--all'], at(seconds));
      outputs.push(r.out, r.err);
      return r;
    } finally {
      if (previous === undefined) delete process.env.CANARYKIT_PROMETHEUS_TOKEN;
      else process.env.CANARYKIT_PROMETHEUS_TOKEN = previous;
    }
  }
  const state = () => JSON.parse(fx.remoteGit('show', `main:state/${NS}/podinfo.json`));
  const weights = () => {
    const vs = parse(fx.remoteGit('show', `main:dist/${NS}/podinfo/virtualservice-podinfo.yaml`));
    return vs.spec.http[0].route.map((r: { weight: number }) => r.weight);
  };

  it('sends the driver token with readiness and built-in metric queries and advances', async () => {
    expect((await step(60, TOKEN)).code).toBe(0);
    expect((await step(120, TOKEN)).code).toBe(0);
    expect(state().phase).toBe('Initialized');
    fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: NS, image: 'podinfo:1.1.0' }] }) }, 'release 1.1.0');
    expect((await step(120, TOKEN)).code).toBe(0);
    expect((await step(180, TOKEN)).out).toContain('advance weight 0 -> 10');
    const before = proxy.seen.length;
    const r = await step(240, TOKEN);
    expect(r.code).toBe(0);
    expect(r.out).toContain('advance weight 10 -> 20');
    // Readiness of primary and canary, then both built-in metrics: all authenticated.
    const sent = proxy.seen.slice(before);
    expect(sent.length).toBe(4);
    expect(sent.every((h) => h === `Bearer ${TOKEN}`)).toBe(true);
    expect(state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 0 });
  }, 240_000);

  it('answers 401 without the token: errored checks, then a rollback at threshold', async () => {
    let r = await step(300);
    expect(r.code).toBe(0);
    expect(state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 1 });
    const held = fx.remoteGit('log', '-1', '--format=%B', 'main');
    expect(held).toMatch(/hold at weight 20: Readiness of primary could not be observed/);
    expect(held).toMatch(/HTTP 401: unauthorized: missing or invalid bearer token/);
    r = await step(360);
    expect(state()).toMatchObject({ phase: 'Progressing', failedChecks: 2 });
    r = await step(420);
    expect(r.code).toBe(0);
    expect(fx.remoteGit('log', '-1', '--format=%s', 'main')).toMatch(/roll back: Failed checks threshold reached 2/);
    expect(state()).toMatchObject({ phase: 'Failed', canaryWeight: 0 });
    expect(weights()).toEqual([100, 0]);
    // The token never reaches git or the output.
    expect(fx.remoteGit('log', '-p', '--format=%B', 'main')).not.toContain(TOKEN);
    expect(outputs.join('\n')).not.toContain(TOKEN);
  }, 240_000);
});
