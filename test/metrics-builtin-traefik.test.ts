import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's traefik observer (pkg/metrics/observers/traefik.go), run against
// a real Prometheus holding Traefik's service histogram series.

const vars = PODINFO_VARS;
const SERVICE = 'service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd"';

describe('traefik built-in query text (observers/traefik.go)', () => {
  it('success rate: the +Inf buckets of non-5xx over all, for the canary service selected by {{ target }}', () => {
    const q = builtinQuery('request-success-rate', 'traefik', { ...vars, service: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(traefik_service_request_duration_seconds_bucket{${SERVICE}, code!~"5..", le="+Inf"}[1m]))
        / sum(rate(traefik_service_request_duration_seconds_bucket{${SERVICE}, le="+Inf"}[1m])) * 100`),
    );
  });

  it('duration: p99 of the seconds histogram, times 1000', () => {
    const q = builtinQuery('request-duration', 'traefik', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(squash(`histogram_quantile(0.99, sum(rate(traefik_service_request_duration_seconds_bucket{${SERVICE}}[30s])) by (le)) * 1000`));
  });
});

// Traefik labels a Kubernetes Service behind a TraefikService `<namespace>-<service>-<port>@kubernetescrd`.
// Canary: 90% non-5xx (a 404 counts as success); summed buckets give p99 0.375 s. Decoys: the
// primary service, another namespace, and the TraefikService itself, all failing slowly.
function traefikData(): OpenMetricsWriter {
  const canary = { service: 'test-podinfo-canary-80@kubernetescrd', method: 'GET', protocol: 'http' };
  const w = new OpenMetricsWriter()
    .histogram('traefik_service_request_duration_seconds', { ...canary, code: '200' }, { '0.025': 3, '0.05': 6, '0.1': 7, '0.25': 7.8, '0.5': 8 }, 1)
    .histogram('traefik_service_request_duration_seconds', { ...canary, code: '404' }, { '0.025': 1, '0.05': 1, '0.1': 1, '0.25': 1, '0.5': 1 }, 0.01)
    .histogram('traefik_service_request_duration_seconds', { ...canary, code: '503' }, { '0.025': 1, '0.05': 1, '0.1': 1, '0.25': 1, '0.5': 1 }, 0.01);
  for (const service of ['test-podinfo-primary-80@kubernetescrd', 'other-podinfo-canary-80@kubernetescrd', 'test-podinfo@kubernetescrd']) {
    w.histogram('traefik_service_request_duration_seconds', { service, method: 'GET', protocol: 'http', code: '500' }, { '10': 100 }, 1000);
  }
  return w;
}

describeWithPrometheus('traefik built-in queries against Prometheus', () => {
  const prom = usePrometheus(traefikData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'traefik', v);

  it('success rate with 1 in 10 requests a 503 is 90', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(90, 9);
  });

  it('p99 duration in milliseconds: 375', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(375, 9);
  });

  it('a target without a Traefik service series has no data', async () => {
    const query = builtinQuery('request-success-rate', 'traefik', { ...vars, target: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
