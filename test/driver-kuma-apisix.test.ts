import { afterAll, beforeAll, expect, it } from 'vitest';
import { readyDeployment } from './support/driver-fixture';
import { providerScenario, runRollout } from './support/driver-scenario';
import { OpenMetricsWriter, PrometheusServer, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The step driver on Kuma and APISIX canaries, end to end: real git remote, real Prometheus holding
 * each provider's own traffic series (observers/kuma.go, observers/apisix.go), the routing object
 * committed at every stage as pkg/router/kuma.go / apisix.go SetRoutes writes it.
 */


/** Envoy series of the canary dataplane `podinfo-canary_<ns>_svc_9898`: `rps` requests, `errorRatio` of them 503s, 20-50 ms. */
function kumaTraffic(w: OpenMetricsWriter, ns: string, rps: number, errorRatio: number): void {
  const dataplane = { service: `podinfo-canary_${ns}_svc_9898`, mesh: 'default' };
  w.counter('envoy_cluster_upstream_rq', { ...dataplane, envoy_response_code: '200' }, rps * (1 - errorRatio));
  if (errorRatio > 0) w.counter('envoy_cluster_upstream_rq', { ...dataplane, envoy_response_code: '503' }, rps * errorRatio);
  w.histogram('envoy_cluster_upstream_rq_time', dataplane, { '10': 0, '25': rps / 2, '50': rps, '100': rps }, rps * 30);
}

/** APISIX prometheus plugin series of the canary route `<ns>_podinfo-podinfo-canary_method`: all 200s, 20-50 ms. */
function apisixTraffic(w: OpenMetricsWriter, ns: string, rps: number): void {
  const route = { route: `${ns}_podinfo-podinfo-canary_method`, service: '', node: '10.0.0.1' };
  w.counter('apisix_http_status', { ...route, code: '200' }, rps);
  w.histogram('apisix_http_latency', { ...route, type: 'request' }, { '10': 0, '25': rps / 2, '50': rps, '100': rps }, rps * 30);
}

describeWithPrometheus('the step driver on Kuma and APISIX canaries', () => {
  let prom: PrometheusServer;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    const w = new OpenMetricsWriter(3600);
    kumaTraffic(w, 'kmgood', 10, 0);
    kumaTraffic(w, 'kmbad', 10, 0.2);
    apisixTraffic(w, 'axgood', 10);
    for (const ns of ['kmgood', 'kmbad', 'axgood']) {
      readyDeployment(w, ns, 'podinfo', 2);
      readyDeployment(w, ns, 'podinfo-primary', 2);
    }
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    for (const c of cleanups) await c();
  });

  const scenario = (namespace: string, provider: 'kuma' | 'apisix') => providerScenario(namespace, provider, () => prom.url, cleanups);
  const run = runRollout;

  const trafficRouteWeights = (s: ReturnType<typeof scenario>): number[] => {
    const route = s.routed('trafficroute-podinfo.yaml');
    expect(route.metadata.namespace).toBeUndefined();
    return route.spec.conf.split.map((x: { weight: number }) => x.weight);
  };
  const apisixWeights = (s: ReturnType<typeof scenario>): number[] =>
    s.routed('apisixroute-podinfo-podinfo-canary.yaml').spec.http[0].backends.map((x: { weight: number }) => x.weight);

  it('Kuma with healthy Envoy metrics: TrafficRoute split 80/20, 60/40, promotion, back to 100/0', async () => {
    const s = scenario('kmgood', 'kuma');
    expect(await run(s, trafficRouteWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 60/40',
      'Promoting 60/40',
      'Finalising 100/0',
      'Succeeded 100/0',
    ]);
  });

  it('Kuma with 20% 503s on the canary dataplane: failed checks up to the threshold, rolled back to 100/0', async () => {
    const s = scenario('kmbad', 'kuma');
    expect(await run(s, trafficRouteWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 80/20 failedChecks=1',
      'Progressing 80/20 failedChecks=2',
      'Failed 100/0',
    ]);
  });

  it('APISIX with healthy route metrics: canary ApisixRoute backends 80/20, 60/40, promotion, back to 100/0', async () => {
    const s = scenario('axgood', 'apisix');
    expect(await run(s, apisixWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 60/40',
      'Promoting 60/40',
      'Finalising 100/0',
      'Succeeded 100/0',
    ]);
  });
});
