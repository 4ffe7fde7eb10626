import { afterAll, beforeAll, expect, it } from 'vitest';
import { readyDeployment } from './support/driver-fixture';
import { providerScenario, runRollout } from './support/driver-scenario';
import { OpenMetricsWriter, PrometheusServer, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The step driver on Contour and Traefik canaries, end to end: real git remote, real Prometheus
 * holding each provider's own traffic series (observers/contour.go, observers/traefik.go), the
 * routing object committed at every stage as pkg/router/contour.go / traefik.go SetRoutes writes it.
 */


/** Envoy cluster series of `<ns>_podinfo-canary_9898`: `rps` requests, `errorRatio` of them 503s, 20-50 ms. */
function envoyTraffic(w: OpenMetricsWriter, ns: string, rps: number, errorRatio: number): void {
  const cluster = { envoy_cluster_name: `${ns}_podinfo-canary_9898` };
  w.counter('envoy_cluster_upstream_rq', { ...cluster, envoy_response_code: '200' }, rps * (1 - errorRatio));
  if (errorRatio > 0) w.counter('envoy_cluster_upstream_rq', { ...cluster, envoy_response_code: '503' }, rps * errorRatio);
  w.histogram('envoy_cluster_upstream_rq_time', cluster, { '10': 0, '25': rps / 2, '50': rps, '100': rps }, rps * 30);
}

/** Traefik service series of `<ns>-podinfo-canary-9898@kubernetescrd`: all 200s, 20-50 ms. */
function traefikTraffic(w: OpenMetricsWriter, ns: string, rps: number): void {
  const service = { service: `${ns}-podinfo-canary-9898@kubernetescrd`, code: '200', method: 'GET', protocol: 'http' };
  w.histogram('traefik_service_request_duration_seconds', service, { '0.01': 0, '0.025': rps / 2, '0.05': rps, '0.1': rps }, rps * 0.03);
}

describeWithPrometheus('the step driver on Contour and Traefik canaries', () => {
  let prom: PrometheusServer;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    const w = new OpenMetricsWriter(3600);
    envoyTraffic(w, 'ctgood', 10, 0);
    envoyTraffic(w, 'ctbad', 10, 0.2);
    traefikTraffic(w, 'tfgood', 10);
    for (const ns of ['ctgood', 'ctbad', 'tfgood']) {
      readyDeployment(w, ns, 'podinfo', 2);
      readyDeployment(w, ns, 'podinfo-primary', 2);
    }
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    for (const c of cleanups) await c();
  });

  const scenario = (namespace: string, provider: 'contour' | 'traefik') => providerScenario(namespace, provider, () => prom.url, cleanups);
  const run = runRollout;

  const proxyWeights = (s: ReturnType<typeof scenario>): number[] =>
    s.routed('httpproxy-podinfo.yaml').spec.routes[0].services.map((x: { weight?: number }) => x.weight ?? 0);
  const traefikWeights = (s: ReturnType<typeof scenario>): number[] =>
    s.routed('traefikservice-podinfo.yaml').spec.weighted.services.map((x: { weight?: number }) => x.weight ?? 0);

  it('Contour with healthy Envoy metrics: HTTPProxy weights 80/20, 60/40, promotion, back to 100/0', async () => {
    const s = scenario('ctgood', 'contour');
    expect(await run(s, proxyWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 60/40',
      'Promoting 60/40',
      'Finalising 100/0',
      'Succeeded 100/0',
    ]);
  });

  it('Contour with 20% 503s on the canary cluster: failed checks up to the threshold, rolled back to 100/0', async () => {
    const s = scenario('ctbad', 'contour');
    // success rate 80 < 99: one failed check per interval, rollback when failedChecks reaches threshold 2.
    expect(await run(s, proxyWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 80/20 failedChecks=1',
      'Progressing 80/20 failedChecks=2',
      'Failed 100/0',
    ]);
  });

  it('Traefik with healthy metrics: the canary appears in the TraefikService while it has weight', async () => {
    const s = scenario('tfgood', 'traefik');
    expect(await run(s, traefikWeights)).toEqual([
      'Progressing 80/20',
      'Progressing 60/40',
      'Promoting 60/40',
      'Finalising 100',
      'Succeeded 100',
    ]);
  });
});
