import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's contour observer (pkg/metrics/observers/contour.go), run against
// a real Prometheus holding Envoy cluster series as Contour's Envoy exports them.

const vars = PODINFO_VARS;

describe('contour built-in query text (observers/contour.go)', () => {
  it('success rate: non-5xx share of the canary Envoy cluster, selected by {{ service }}', () => {
    const q = builtinQuery('request-success-rate', 'contour', { ...vars, service: 'web', target: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test_web-canary_[0-9a-zA-Z-]+", envoy_response_code!~"5.*"}[1m]))
        / sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test_web-canary_[0-9a-zA-Z-]+",}[1m])) * 100`),
    );
  });

  it('duration: p99 of upstream_rq_time, already milliseconds (no * 1000)', () => {
    const q = builtinQuery('request-duration', 'contour', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(
      squash(`histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"test_podinfo-canary_[0-9a-zA-Z-]+",}[30s])) by (le))`),
    );
  });
});

// Canary cluster (Contour names it <namespace>_<service>_<port>): 96% non-5xx (a 404 counts as
// success), p99 375 ms (rank 9.9 of 10 falls halfway through 250..500). Decoys a wrong selector
// would pick up — the primary cluster, another namespace, a cluster whose name only starts
// with the canary's — carry only errors and slow requests.
function envoyData(): OpenMetricsWriter {
  const canary = { envoy_cluster_name: 'test_podinfo-canary_9898' };
  const w = new OpenMetricsWriter()
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '200' }, 23)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '404' }, 1)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '503' }, 1)
    .counter('envoy_cluster_upstream_rq', { envoy_cluster_name: 'test_podinfo-primary_9898', envoy_response_code: '500' }, 100)
    .counter('envoy_cluster_upstream_rq', { envoy_cluster_name: 'other_podinfo-canary_9898', envoy_response_code: '500' }, 100)
    .counter('envoy_cluster_upstream_rq', { envoy_cluster_name: 'test_podinfo-canary-x_9898', envoy_response_code: '500' }, 100);
  // Two Envoy pods, half the traffic each: the query sums them by le.
  const buckets = { '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 };
  const half = Object.fromEntries(Object.entries(buckets).map(([le, r]) => [le, r / 2]));
  w.histogram('envoy_cluster_upstream_rq_time', { ...canary, pod: 'envoy-a' }, half, 1)
    .histogram('envoy_cluster_upstream_rq_time', { ...canary, pod: 'envoy-b' }, half, 1)
    .histogram('envoy_cluster_upstream_rq_time', { envoy_cluster_name: 'test_podinfo-primary_9898' }, { '1000': 0, '10000': 100 }, 1);
  return w;
}

describeWithPrometheus('contour built-in queries against Prometheus', () => {
  const prom = usePrometheus(envoyData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'contour', v);

  it('success rate with 1 in 25 requests a 503 is 96', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(96, 9);
  });

  it('p99 duration interpolates within the millisecond buckets: 375', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(375, 9);
  });

  it('a service without an Envoy cluster has no data', async () => {
    const query = builtinQuery('request-success-rate', 'contour', { ...vars, service: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
