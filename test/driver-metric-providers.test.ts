import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject, Chart, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Canary, CanaryApp, Provider } from '../src';
import { step } from '../src/driver/driver';
import { CanaryState } from '../src/model/state';
import { DATADOG_API_KEY, DATADOG_APP_KEY, DatadogServer, closedAddress } from './support/datadog-server';
import { TEST_CONFIG, healthyPodinfo, realDeps } from './support/driver-fixture';
import { createGitFixture } from './support/git';
import { testMetricSource } from './support/metric-source';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The step driver with a Datadog MetricTemplate (pkg/metrics/providers/datadog.go through
 * pkg/controller/scheduler_metrics.go runMetricChecks), end to end: a real bare git remote, a real
 * Prometheus for readiness and the built-in metric, and a local Datadog API for the template's
 * query. The Datadog keys reach the driver as CANARYKIT_SECRET_* variables of its environment.
 */

const SECRET_ENV = {
  CANARYKIT_SECRET_MONITORING_DATADOG_DATADOG_API_KEY: DATADOG_API_KEY,
  CANARYKIT_SECRET_MONITORING_DATADOG_DATADOG_APPLICATION_KEY: DATADOG_APP_KEY,
};

/** The error-rate percentage the local Datadog answers for each namespace's canary. */
const ERROR_RATE: Record<string, number> = { ddgood: 0.5, ddbad: 12.5 };

interface App {
  namespace: string;
  image: string;
  datadog: string;
}

/** The test repository's app: a podinfo Canary (Istio) whose analysis has a Datadog template. */
function synth(repoDir: string, metricsServer: string): void {
  const spec = JSON.parse(fs.readFileSync(path.join(repoDir, 'app.json'), 'utf8')) as App;
  const app = new CanaryApp({ outdir: path.join(repoDir, 'dist'), stateRoot: repoDir });
  const chart = new Chart(app, `podinfo-${spec.namespace}`, { namespace: spec.namespace });
  const labels = { app: 'podinfo' };
  const target: ApiObject = new k8s.KubeDeployment(chart, 'podinfo', {
    metadata: { name: 'podinfo', labels },
    spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'podinfod', image: spec.image }] } } },
  });
  new Canary(chart, 'canary', {
    target,
    service: { port: 9898 },
    provider: Provider.istio({ hosts: ['app.example.com'] }),
    metricsServer,
    analysis: {
      interval: Duration.minutes(1),
      threshold: 2,
      stepWeight: 20,
      maxWeight: 40,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) },
        {
          name: 'error-percentage',
          thresholdRange: { max: 5 },
          interval: Duration.minutes(1),
          template: {
            name: 'error-percentage',
            namespace: 'monitoring',
            provider: { type: 'datadog', address: spec.datadog, secretRef: 'datadog' },
            query: 'sum:istio.mesh.request.count{destination_workload_namespace:{{ namespace }},destination_workload:{{ target }},response_code:5*}.as_count() / sum:istio.mesh.request.count{destination_workload_namespace:{{ namespace }},destination_workload:{{ target }}}.as_count() * 100',
          },
        },
      ],
    },
  });
  app.synth();
}

describeWithPrometheus('the step driver with a Datadog MetricTemplate', () => {
  let prom: PrometheusServer;
  let datadog: DatadogServer;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    const w = new OpenMetricsWriter(3600);
    for (const ns of ['ddgood', 'ddbad', 'dddown', 'ddlost']) healthyPodinfo(w, ns);
    prom = await startPrometheus(String(w));
    datadog = await new DatadogServer((query) => {
      const ns = /destination_workload_namespace:([a-z]+)/.exec(query)?.[1] ?? '';
      const rate = ERROR_RATE[ns];
      if (rate === undefined) return undefined;
      // Two buckets: Flagger reads the first, oldest one.
      return [{ scope: '*', points: [[1772366400000, rate], [1772366460000, 99]] }];
    }).start();
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    await datadog?.stop();
    for (const c of cleanups) await c();
  });

  function scenario(namespace: string, datadogAddress: () => string) {
    let spec: App = { namespace, image: 'podinfo:6.0.0', datadog: datadogAddress() };
    const json = () => `${JSON.stringify(spec, null, 2)}\n`;
    const fx = createGitFixture({ 'app.json': json() });
    const clone = fx.clone('driver');
    cleanups.push(() => fx.cleanup());
    const clock = { now: at(60) };
    const logs: string[] = [];
    const deps = { ...realDeps(clone, prom.url, clock, logs), synth: async () => synth(clone, prom.url), metricSource: testMetricSource({ ...process.env, ...SECRET_ENV }) };
    const s = {
      logs,
      tick: (advanceSeconds = 60) => {
        clock.now = new Date(clock.now.getTime() + advanceSeconds * 1000);
        return step({ repoDir: clone, config: TEST_CONFIG, select: { all: true } }, deps);
      },
      release: () => {
        spec = { ...spec, image: 'podinfo:6.1.0' };
        fx.pushConcurrently({ 'app.json': json() }, 'release podinfo:6.1.0');
      },
      state: (): CanaryState => JSON.parse(fx.remoteGit('show', `main:state/${namespace}/podinfo.json`)),
      weights: (): number[] => parse(fx.remoteGit('show', `main:dist/${namespace}/podinfo/virtualservice-podinfo.yaml`)).spec.http[0].route.map((r: { weight: number }) => r.weight),
      remoteLog: (): string[] => fx.remoteGit('log', '--format=%s', 'main').split('\n'),
      body: (n: number): string => fx.remoteGit('log', '-1', '--format=%B', `main~${n}`),
      /** Bootstrap, Initialized, a release, its sync; then `n` ticks, the entries after each (repeats dropped). */
      async run(n: number, between?: (i: number) => Promise<void>): Promise<string[]> {
        await s.tick(0);
        await s.tick();
        s.release();
        await s.tick(0);
        const seen: string[] = [];
        for (let i = 0; i < n; i++) {
          await between?.(i);
          await s.tick();
          const st = s.state();
          const entry = `${st.phase} ${s.weights().join('/')}${st.failedChecks ? ` failedChecks=${st.failedChecks}` : ''}`;
          if (seen.at(-1) !== entry) seen.push(entry);
          if (st.phase === 'Succeeded' || st.phase === 'Failed') break;
        }
        return seen;
      },
    };
    return s;
  }

  const ddRequests = (ns: string) => datadog.to('/api/v1/query').filter((r) => r.query.get('query')?.includes(`destination_workload_namespace:${ns},`));

  it('a passing Datadog value (0.5 <= 5) advances the weight: commits 80/20, 60/40 on the remote, then promotion', async () => {
    const s = scenario('ddgood', () => datadog.address);
    expect(await s.run(12)).toEqual(['Progressing 80/20', 'Progressing 60/40', 'Promoting 60/40', 'Finalising 100/0', 'Succeeded 100/0']);
    expect(s.state().failedChecks).toBe(0);
    // The Datadog server received the rendered query with Flagger's headers and a 10-interval window.
    const reqs = ddRequests('ddgood');
    expect(reqs.length).toBeGreaterThanOrEqual(2);
    for (const r of reqs) {
      expect(r.method).toBe('GET');
      expect(r.headers['dd-api-key']).toBe(DATADOG_API_KEY);
      expect(r.headers['dd-application-key']).toBe(DATADOG_APP_KEY);
      expect(Number(r.query.get('to')) - Number(r.query.get('from'))).toBe(600);
      expect(r.query.get('query')).toBe('sum:istio.mesh.request.count{destination_workload_namespace:ddgood,destination_workload:podinfo,response_code:5*}.as_count() / sum:istio.mesh.request.count{destination_workload_namespace:ddgood,destination_workload:podinfo}.as_count() * 100');
    }
    // While initializing, the driver asked Datadog's validate endpoint (IsOnline) with the keys.
    const validate = datadog.to('/api/v1/validate');
    expect(validate.length).toBeGreaterThanOrEqual(1);
    expect(validate.every((r) => r.headers['dd-api-key'] === DATADOG_API_KEY && r.headers['dd-application-key'] === DATADOG_APP_KEY)).toBe(true);
  });

  it('a failing Datadog value (12.5 > 5) is a failed check: failedChecks+1 with no weight change, then rollback', async () => {
    const s = scenario('ddbad', () => datadog.address);
    expect(await s.run(12)).toEqual(['Progressing 80/20', 'Progressing 80/20 failedChecks=1', 'Progressing 80/20 failedChecks=2', 'Failed 100/0']);
    expect(ddRequests('ddbad').length).toBeGreaterThanOrEqual(2);
    expect(s.body(1)).toContain('- error-percentage: 12.5 (max 5)');
  });

  // scheduler.go advanceCanary skips the analysis while no traffic reaches the canary (weight 0), so
  // the first step to 20 happens before any query; every later check fails and nothing moves on.
  it('an unreachable Datadog from the start: failed checks at the first step, rollback, never promoted nor shifted further', async () => {
    const address = await closedAddress();
    const s = scenario('dddown', () => address);
    expect(await s.run(12)).toEqual(['Progressing 80/20', 'Progressing 80/20 failedChecks=1', 'Progressing 80/20 failedChecks=2', 'Failed 100/0']);
    expect(s.remoteLog().some((m) => /promot|-> 40/i.test(m))).toBe(false);
    const hold = s.body(1);
    expect(hold).toContain('hold at weight 20: error-percentage: query failed');
    expect(hold).toContain(`datadog query to ${address} failed: request failed`);
    expect(hold).not.toContain(DATADOG_API_KEY);
    expect(hold).not.toContain(DATADOG_APP_KEY);
  });

  it('Datadog lost after one passing step: the weight stays at 40, failed checks, rollback, never promoted', async () => {
    const lost = await new DatadogServer(() => [{ scope: '*', points: [[1772366400000, 0.5]] }]).start();
    const address = lost.address;
    const s = scenario('ddlost', () => address);
    const seen = await s.run(12, async (i) => {
      if (i === 2) await lost.stop();
    });
    expect(seen).toEqual(['Progressing 80/20', 'Progressing 60/40', 'Progressing 60/40 failedChecks=1', 'Progressing 60/40 failedChecks=2', 'Failed 100/0']);
    expect(s.body(1)).toContain(`datadog query to ${address} failed: request failed`);
    expect(lost.to('/api/v1/query').length).toBeGreaterThanOrEqual(1);
  });
});
