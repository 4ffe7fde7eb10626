import { afterAll, beforeAll, expect, it } from 'vitest';
import { readyDeployment } from './support/driver-fixture';
import { providerScenario, runRollout } from './support/driver-scenario';
import { OpenMetricsWriter, PrometheusServer, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The step driver on App Mesh canaries, end to end: real git remote, real Prometheus holding the
 * Envoy sidecars' series the appmesh observer reads (observers/appmesh.go), the weighted route
 * committed at every stage as pkg/router/appmesh_v1beta2.go / appmesh.go SetRoutes writes it.
 */


/** Envoy upstream series of two canary pods `podinfo-<rs>-<pod>`: `rps` requests, `errorRatio` of them 503s, 20-50 ms. */
function envoyTraffic(w: OpenMetricsWriter, ns: string, rps: number, errorRatio: number): void {
  for (const pod of ['podinfo-5d8f7c9b4-abcde', 'podinfo-5d8f7c9b4-fghij']) {
    const labels = { kubernetes_namespace: ns, kubernetes_pod_name: pod, envoy_cluster_name: 'cds_ingress_global_podinfo-canary_http_9898' };
    const r = rps / 2;
    w.counter('envoy_cluster_upstream_rq', { ...labels, envoy_response_code: '200' }, r * (1 - errorRatio));
    if (errorRatio > 0) w.counter('envoy_cluster_upstream_rq', { ...labels, envoy_response_code: '503' }, r * errorRatio);
    w.histogram('envoy_cluster_upstream_rq_time', labels, { '10': 0, '25': r / 2, '50': r, '100': r }, r * 30);
  }
}

describeWithPrometheus('the step driver on App Mesh canaries', () => {
  let prom: PrometheusServer;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    const w = new OpenMetricsWriter(3600);
    envoyTraffic(w, 'amgood', 10, 0);
    envoyTraffic(w, 'ambad', 10, 0.2);
    for (const ns of ['amgood', 'ambad']) {
      readyDeployment(w, ns, 'podinfo', 2);
      readyDeployment(w, ns, 'podinfo-primary', 2);
    }
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    for (const c of cleanups) await c();
  });

  const scenario = (namespace: string, provider: 'appmesh' | 'appmeshv1beta2') => providerScenario(namespace, provider, () => prom.url, cleanups);
  const run = runRollout;

  // Weighted targets are written canary first; reported here as primary/canary.
  const routerWeights = (s: ReturnType<typeof scenario>): number[] =>
    s.routed('virtualrouter-podinfo.yaml').spec.routes[0].httpRoute.action.weightedTargets.map((t: { weight: number }) => t.weight).reverse();
  const serviceWeights = (s: ReturnType<typeof scenario>): number[] =>
    s.routed('virtualservice-podinfo.amgood.yaml').spec.routes[0].http.action.weightedTargets.map((t: { weight: number }) => t.weight).reverse();
  const badServiceWeights = (s: ReturnType<typeof scenario>): number[] =>
    s.routed('virtualservice-podinfo.ambad.yaml').spec.routes[0].http.action.weightedTargets.map((t: { weight: number }) => t.weight).reverse();

  it('App Mesh v1beta2 with healthy Envoy metrics: VirtualRouter weights 80/20, 60/40, promotion, back to 100/0', async () => {
    const s = scenario('amgood', 'appmeshv1beta2');
    expect(await run(s, routerWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 60/40',
      'Promoting 60/40',
      'Finalising 100/0',
      'Succeeded 100/0',
    ]);
  });

  it('App Mesh v1beta1 with healthy Envoy metrics: VirtualService <svc>.<ns> weights step the same way', async () => {
    const s = scenario('amgood', 'appmesh');
    expect(await run(s, serviceWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 60/40',
      'Promoting 60/40',
      'Finalising 100/0',
      'Succeeded 100/0',
    ]);
  });

  it('App Mesh v1beta1 with 20% 503s on the canary pods: failed checks up to the threshold, rolled back to 100/0', async () => {
    const s = scenario('ambad', 'appmesh');
    // success rate 80 < 99: one failed check per interval, rollback when failedChecks reaches threshold 2.
    expect(await run(s, badServiceWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 80/20 failedChecks=1',
      'Progressing 80/20 failedChecks=2',
      'Failed 100/0',
    ]);
  });
});
