import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { step } from '../src/driver/driver';
import { DURATION_BUCKETS, statusValue } from '../src/adapters/flagger-metrics';
import { parseListen } from '../src/adapters/exporter';
import { TEST_CONFIG, appJson, istioTraffic, readyDeployment, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, freePort, startPrometheus, startScrapingPrometheus } from './support/prometheus';

/*
 * Done-when of issue 13: a rollout driven tick by tick against a real (backfilled) Prometheus,
 * a real `canarykit exporter` process following the bare remote from its own clone, and a second
 * real Prometheus scraping that exporter every second. At each stage the Flagger series
 * (pkg/metrics/recorder.go: names, labels, values) are asserted as Prometheus stored them, and
 * every PromQL query of the Grafana dashboard is run against them.
 */

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const OK = 'expok';
const BAD = 'expbad';

describe('flagger metric conventions (pkg/metrics/recorder.go SetStatus)', () => {
  it.each([
    ['Progressing', 0],
    ['Failed', 2],
    ['Succeeded', 1],
    ['Initialized', 1],
    ['Promoting', 1],
    ['Finalising', 1],
    ['WaitingPromotion', 1],
  ] as const)('status of %s is %i', (phase, value) => {
    expect(statusValue(phase)).toBe(value);
  });
  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9090')).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(() => parseListen('8080')).toThrow(/--listen must be HOST:PORT/);
  });
});

function analysisData(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  istioTraffic(w, OK, 10, 0);
  istioTraffic(w, BAD, 10, 0.05);
  for (const ns of [OK, BAD]) {
    readyDeployment(w, ns, 'podinfo', 2);
    readyDeployment(w, ns, 'podinfo-primary', 2);
  }
  return w;
}

interface Series {
  metric: Record<string, string>;
  value: number;
}

async function query(prom: string, expr: string): Promise<Series[]> {
  const r = await fetch(`${prom}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

describeWithPrometheus('canarykit exporter scraped by a real Prometheus during a real rollout', () => {
  let analysis: PrometheusServer;
  let scraper: Pick<PrometheusServer, 'url' | 'stop'>;
  let fx: GitFixture;
  let driver: string;
  let follower: string;
  let exporter: ChildProcess;
  let exporterUrl: string;
  let exporterLog = '';
  const clock = { now: at(60) };
  const app = (image: string) => appJson({ canaries: [OK, BAD].map((namespace) => ({ namespace, image, threshold: 2 })) });

  beforeAll(async () => {
    analysis = await startPrometheus(String(analysisData()));
    fx = createGitFixture({ 'app.json': app('podinfo:6.0.0') });
    driver = fx.clone('driver');
    follower = fx.clone('exporter');
    const port = await freePort();
    exporterUrl = `http://127.0.0.1:${port}`;
    exporter = spawn(TSX, [join(ROOT, 'test/support/canarykit-cli.ts'), 'exporter', '--repo', follower, '--listen', `127.0.0.1:${port}`, '--fetch-interval', '1s'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exporter.stderr?.on('data', (c: Buffer) => (exporterLog = (exporterLog + c.toString()).slice(-4000)));
    await waitFor('the exporter to serve /healthz', async () => ((await fetch(`${exporterUrl}/healthz`)).status === 200 ? true : undefined), 90_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${exporterLog}`);
    });
    scraper = await startScrapingPrometheus([`127.0.0.1:${port}`], 1);
  }, 180_000);

  afterAll(async () => {
    if (exporter && exporter.exitCode === null) {
      const exited = new Promise((r) => exporter.once('exit', r));
      exporter.kill('SIGTERM');
      await exited;
    }
    await scraper?.stop();
    await analysis?.stop();
    fx?.cleanup();
  });

  const tick = async () => {
    clock.now = new Date(clock.now.getTime() + 60_000);
    return step({ repoDir: driver, config: TEST_CONFIG, select: { all: true } }, realDeps(driver, analysis.url, clock));
  };

  /** Waits until the exporter read the remote tip and Prometheus scraped it afterwards. */
  const scraped = async (): Promise<void> => {
    const tip = fx.remoteGit('rev-parse', 'main');
    await waitFor(`the exporter to read ${tip}`, async () => ((await (await fetch(`${exporterUrl}/healthz`)).text()).includes(tip) ? true : undefined));
    const since = Date.now() / 1000;
    await waitFor('a scrape after the exporter read the tip', async () => {
      const [up] = await query(scraper.url, 'timestamp(up{job="canarykit"})');
      return up && up.value > since + 0.5 ? true : undefined;
    });
  };
  const one = async (expr: string): Promise<number> => {
    const r = await query(scraper.url, expr);
    expect(r, expr).toHaveLength(1);
    return r[0].value;
  };
  const weights = async (ns: string): Promise<Record<string, number>> =>
    Object.fromEntries((await query(scraper.url, `flagger_canary_weight{namespace="${ns}"}`)).map((s) => [s.metric.workload, s.value]));

  it('serves the Flagger series at every stage of a promotion and a rollback, and the dashboard queries return them', async () => {
    // The follower clone's work tree and local branch are never touched.
    const followerHead = git(follower, ['rev-parse', 'HEAD']);

    await tick();
    await tick();
    await scraped();
    expect(await weights(OK)).toEqual({ podinfo: 0, 'podinfo-primary': 100 });
    expect(await one(`flagger_canary_status{name="podinfo",namespace="${OK}"}`)).toBe(1);
    expect(await one(`flagger_canary_total{namespace="${OK}"}`)).toBe(1);
    expect((await query(scraper.url, 'flagger_info')).map((s) => s.metric)).toEqual([
      expect.objectContaining({ __name__: 'flagger_info', mesh_provider: 'istio', version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version }),
    ]);
    expect(await one(`flagger_canary_successes_total{name="podinfo",namespace="${OK}",deployment_strategy="canary",analysis_status="completed"}`)).toBe(0);
    expect(await one(`flagger_canary_duration_seconds_count{name="podinfo",namespace="${OK}"}`)).toBe(0);

    // A release starts a run; three analysis stages later the canary carries 30 %.
    fx.pushConcurrently({ 'app.json': app('podinfo:6.1.0') }, 'release 6.1.0');
    for (let i = 0; i < 4; i++) await tick();
    await scraped();
    expect(await weights(OK)).toEqual({ podinfo: 30, 'podinfo-primary': 70 });
    expect(await one(`flagger_canary_status{name="podinfo",namespace="${OK}"}`)).toBe(0);
    expect(await one(`flagger_canary_metric_analysis{name="podinfo",namespace="${OK}",metric="request-success-rate"}`)).toBe(100);
    // request-duration is exported in seconds, as Flagger does (val.Seconds()); p99 is in the 50 ms bucket.
    const seconds = await one(`flagger_canary_metric_analysis{name="podinfo",namespace="${OK}",metric="request-duration"}`);
    expect(seconds).toBeGreaterThan(0.025);
    expect(seconds).toBeLessThanOrEqual(0.05);
    expect(await one(`canarykit_canary_metric_threshold{name="podinfo",namespace="${OK}",metric="request-duration",bound="max"}`)).toBe(0.5);
    // Stages 10, 20, 30 each followed a Progressing stage that was live for one 60 s tick.
    expect(await one(`flagger_canary_duration_seconds_count{name="podinfo",namespace="${OK}"}`)).toBe(3);
    expect(await one(`flagger_canary_duration_seconds_sum{name="podinfo",namespace="${OK}"}`)).toBe(180);
    // The erroring canary: at 10 %, two failed checks have held it there; still running.
    expect(await weights(BAD)).toEqual({ podinfo: 10, 'podinfo-primary': 90 });
    expect(await one(`flagger_canary_status{name="podinfo",namespace="${BAD}"}`)).toBe(0);
    expect(await one(`flagger_canary_metric_analysis{name="podinfo",namespace="${BAD}",metric="request-success-rate"}`)).toBe(95);
    expect(await one(`flagger_canary_failures_total{name="podinfo",namespace="${BAD}",deployment_strategy="canary",analysis_status="completed"}`)).toBe(0);

    // To the end: 40, 50, promote, finalise, succeeded. Each stage is scraped before the next
    // tick, so the range query below sees every weight the canary carried.
    for (let i = 0; i < 5; i++) {
      await tick();
      await scraped();
    }
    const remoteSubjects = fx.remoteGit('log', '--format=%s', 'main');
    expect(remoteSubjects).toContain(`canary(${OK}/podinfo): succeeded`);
    expect(await weights(OK)).toEqual({ podinfo: 0, 'podinfo-primary': 100 });
    expect(await one(`flagger_canary_status{name="podinfo",namespace="${OK}"}`)).toBe(1);
    expect(await one(`flagger_canary_successes_total{name="podinfo",namespace="${OK}",deployment_strategy="canary",analysis_status="completed"}`)).toBe(1);
    expect(await one(`flagger_canary_failures_total{name="podinfo",namespace="${OK}",analysis_status="completed"}`)).toBe(0);
    // The erroring canary reached the threshold and rolled back.
    expect(fx.remoteGit('log', '--format=%s', 'main')).toContain(`canary(${BAD}/podinfo): roll back`);
    expect(await weights(BAD)).toEqual({ podinfo: 0, 'podinfo-primary': 100 });
    expect(await one(`flagger_canary_status{name="podinfo",namespace="${BAD}"}`)).toBe(2);
    expect(await one(`flagger_canary_failures_total{name="podinfo",namespace="${BAD}",deployment_strategy="canary",analysis_status="completed"}`)).toBe(1);
    expect(await one(`flagger_canary_successes_total{name="podinfo",namespace="${BAD}",analysis_status="completed"}`)).toBe(0);
    // Analysis stages: start..50 are Progressing; each next stage (10..50 and promote) observes 60 s.
    expect(await one(`flagger_canary_duration_seconds_count{name="podinfo",namespace="${OK}"}`)).toBe(6);
    expect(await one(`flagger_canary_duration_seconds_sum{name="podinfo",namespace="${OK}"}`)).toBe(360);
    expect(await one(`flagger_canary_duration_seconds_bucket{name="podinfo",namespace="${OK}",le="30"}`)).toBe(0);
    expect(await one(`flagger_canary_duration_seconds_bucket{name="podinfo",namespace="${OK}",le="60"}`)).toBe(6);
    expect((await query(scraper.url, `flagger_canary_duration_seconds_bucket{namespace="${OK}"}`)).length).toBe(DURATION_BUCKETS.length + 1);
    // Over time, Prometheus saw the weight rise and fall.
    const range = await query(scraper.url, `max_over_time(flagger_canary_weight{namespace="${OK}",workload="podinfo"}[10m])`);
    expect(range[0].value).toBe(50);

    // Every dashboard query, with Grafana's variables filled in, returns the expected series.
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/canarykit-rollouts.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string; refId: string }[] }[];
      templating: { list: { name: string; query?: { query: string } }[] };
    };
    const fill = (expr: string): string =>
      expr.replace(/\$namespace/g, `(${OK}|${BAD})`).replace(/\$name/g, 'podinfo').replace(/\$__rate_interval/g, '1m').replace(/\$__range/g, '1h');
    const results: Record<string, Series[]> = {};
    for (const panel of dashboard.panels) {
      for (const t of panel.targets) {
        const r = await query(scraper.url, fill(t.expr));
        expect(r.length, `${panel.title} ${t.refId}: ${t.expr}`).toBeGreaterThan(0);
        results[`${panel.title}/${t.refId}`] = r;
      }
    }
    const byNs = (key: string) => Object.fromEntries(results[key].map((s) => [`${s.metric.namespace}/${s.metric.workload ?? s.metric.name}`, s.value]));
    expect(byNs('Phase/A')).toEqual({ [`${OK}/podinfo`]: 1, [`${BAD}/podinfo`]: 2 });
    expect(byNs('Rollouts succeeded/A')).toEqual({ [`${OK}/podinfo`]: 1, [`${BAD}/podinfo`]: 0 });
    expect(byNs('Rollouts failed/A')).toEqual({ [`${OK}/podinfo`]: 0, [`${BAD}/podinfo`]: 1 });
    expect(byNs('Traffic weight: primary and canary/A')).toEqual({
      [`${OK}/podinfo`]: 0, [`${OK}/podinfo-primary`]: 100, [`${BAD}/podinfo`]: 0, [`${BAD}/podinfo-primary`]: 100,
    });
    expect(byNs('Mean analysis stage duration/A')[`${OK}/podinfo`]).toBe(60);
    // The erroring canary never measured request-duration: its failing success rate ended each
    // analysis first (observe.ts stops at the first failed metric, as Flagger's runMetricChecks).
    expect(results['Metric analysis against thresholds/A'].map((s) => `${s.metric.namespace} ${s.metric.metric}`).sort()).toEqual([
      `${BAD} request-success-rate`, `${OK} request-duration`, `${OK} request-success-rate`,
    ]);
    expect(results['Metric analysis against thresholds/B'].map((s) => `${s.metric.metric} ${s.metric.bound} ${s.value}`)).toContain('request-success-rate min 99');
    expect(byNs('Canaries per namespace/A')).toEqual({ [`${OK}/undefined`]: 1, [`${BAD}/undefined`]: 1 });
    // The variable queries of the dashboard find both namespaces.
    const nsVar = dashboard.templating.list.find((v) => v.name === 'namespace')!.query!.query;
    expect(nsVar).toBe('label_values(flagger_canary_status, namespace)');
    expect((await query(scraper.url, 'group by (namespace) (flagger_canary_status)')).map((s) => s.metric.namespace).sort()).toEqual([BAD, OK]);

    // Read-only: the follower's work tree, index and branch are as cloned.
    expect(git(follower, ['rev-parse', 'HEAD'])).toBe(followerHead);
    expect(git(follower, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(git(follower, ['rev-parse', 'refs/remotes/origin/main'])).toBe(fx.remoteGit('rev-parse', 'main'));

    // Only GET/HEAD; unknown paths 404.
    expect((await fetch(`${exporterUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${exporterUrl}/nope`)).status).toBe(404);
    const text = await (await fetch(`${exporterUrl}/metrics`)).text();
    expect(text).toContain('# TYPE flagger_canary_duration_seconds histogram');
    expect(text).toContain('# TYPE flagger_canary_successes_total counter');
  }, 600_000);
});
