import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's kuma observer (pkg/metrics/observers/kuma.go, kuma_test.go), run
// against a real Prometheus holding Envoy series as Kuma's dataplanes export them: Kuma labels
// each series with the `service` tag of the dataplane, `<service>_<namespace>_svc_<port>`.

const vars = PODINFO_VARS;
const SERVICE = 'service=~"podinfo-canary_test_svc_[0-9a-zA-Z-]+"';

describe('kuma built-in query text (observers/kuma.go)', () => {
  it('success rate: non-5xx share of the canary dataplane, selected by {{ target }} and {{ namespace }} (trailing comma kept)', () => {
    const q = builtinQuery('request-success-rate', 'kuma', { ...vars, service: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(envoy_cluster_upstream_rq{${SERVICE}, envoy_response_code!~"5.*"}[1m]))
        / sum(rate(envoy_cluster_upstream_rq{${SERVICE},}[1m])) * 100`),
    );
  });

  it('duration: p99 of upstream_rq_time, already milliseconds (no * 1000)', () => {
    const q = builtinQuery('request-duration', 'kuma', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(squash(`histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{${SERVICE},}[30s])) by (le))`));
  });
});

// Canary dataplane: 96% non-5xx (a 404 counts as success) over two Envoy clusters; p99 375 ms
// (rank 9.9 of 10 falls halfway through 250..500). Decoys a wrong selector would pick up (the
// primary, another namespace, a namespace that only starts with `test`, the apex service) carry
// only errors and slow requests.
function kumaData(): OpenMetricsWriter {
  const canary = { service: 'podinfo-canary_test_svc_9898', mesh: 'default' };
  const w = new OpenMetricsWriter()
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_cluster_name: 'localhost_9898', envoy_response_code: '200' }, 20)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_cluster_name: 'localhost_9898', envoy_response_code: '404' }, 1)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_cluster_name: 'localhost_9898', envoy_response_code: '503' }, 1)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_cluster_name: 'kuma_envoy_admin', envoy_response_code: '200' }, 3);
  for (const service of ['podinfo-primary_test_svc_9898', 'podinfo-canary_other_svc_9898', 'podinfo-canary_testing_svc_9898', 'podinfo_test_svc_9898']) {
    w.counter('envoy_cluster_upstream_rq', { service, mesh: 'default', envoy_cluster_name: 'localhost_9898', envoy_response_code: '500' }, 100);
    w.histogram('envoy_cluster_upstream_rq_time', { service, mesh: 'default' }, { '1000': 0, '10000': 100 }, 1);
  }
  const buckets = { '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 };
  const half = Object.fromEntries(Object.entries(buckets).map(([le, r]) => [le, r / 2]));
  // Two canary pods, half the traffic each: the query sums them by le.
  w.histogram('envoy_cluster_upstream_rq_time', { ...canary, pod: 'podinfo-a' }, half, 1)
    .histogram('envoy_cluster_upstream_rq_time', { ...canary, pod: 'podinfo-b' }, half, 1);
  return w;
}

describeWithPrometheus('kuma built-in queries against Prometheus', () => {
  const prom = usePrometheus(kumaData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'kuma', v);

  it('success rate with 1 in 25 requests a 503 is 96', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(96, 9);
  });

  it('p99 duration in milliseconds: 375', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(375, 9);
  });

  it('a target without a canary dataplane series has no data', async () => {
    const query = builtinQuery('request-success-rate', 'kuma', { ...vars, target: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
