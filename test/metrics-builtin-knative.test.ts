import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's knative observer (pkg/metrics/observers/knative.go), run against
// a real Prometheus holding Envoy cluster series as Knative's Kourier gateway exports them
// (cluster `<namespace>/<revision>`). scheduler_metrics.go sets {{ route }} to the latest created
// revision; canarykit's construct sets it to the canary revision's (derived) name.

const CANARY_REV = 'podinfo-8a30d9439e';
const PRIMARY_REV = 'podinfo-1c0ffee000';
const vars: TemplateVars = { ...PODINFO_VARS, route: CANARY_REV };

describe('knative built-in query text (observers/knative.go)', () => {
  it('success rate: non-5xx share of the latest revision\'s Envoy cluster, selected by {{ namespace }}/{{ route }}', () => {
    const q = builtinQuery('request-success-rate', 'knative', { ...vars, target: 'ignored', service: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test/${CANARY_REV}", envoy_response_code!~"5.*"}[1m]))
        / sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test/${CANARY_REV}",}[1m])) * 100`),
    );
  });

  it('duration: p99 of upstream_rq_time, already milliseconds (no * 1000)', () => {
    const q = builtinQuery('request-duration', 'knative', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(
      squash(`histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"test/${CANARY_REV}",}[30s])) by (le))`),
    );
  });
});

// Canary revision cluster: 95% non-5xx (a 404 counts as success), p99 375 ms (rank 9.9 of 10 lies
// halfway through 250..500). Decoys a wrong selector would pick up: the primary revision, the
// same revision name in another namespace, and a cluster whose name only starts with the
// canary's (the regex is anchored) - all failing and slow.
function kourierData(): OpenMetricsWriter {
  const canary = { envoy_cluster_name: `test/${CANARY_REV}` };
  const w = new OpenMetricsWriter()
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '200' }, 18)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '404' }, 1)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '503' }, 1);
  for (const envoy_cluster_name of [`test/${PRIMARY_REV}`, `other/${CANARY_REV}`, `test/${CANARY_REV}-private`]) {
    w.counter('envoy_cluster_upstream_rq', { envoy_cluster_name, envoy_response_code: '500' }, 100);
    w.histogram('envoy_cluster_upstream_rq_time', { envoy_cluster_name }, { '1000': 0, '10000': 100 }, 1);
  }
  // Two gateway pods, half the traffic each: the query sums them by le.
  const half = Object.fromEntries(Object.entries({ '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 }).map(([le, r]) => [le, r / 2]));
  w.histogram('envoy_cluster_upstream_rq_time', { ...canary, pod: '3scale-kourier-gateway-a' }, half, 1)
    .histogram('envoy_cluster_upstream_rq_time', { ...canary, pod: '3scale-kourier-gateway-b' }, half, 1);
  return w;
}

describeWithPrometheus('knative built-in queries against Prometheus', () => {
  const prom = usePrometheus(kourierData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'knative', v);

  it('success rate with 1 in 20 requests a 503 is 95', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(95, 9);
  });

  it('p99 duration interpolates within the millisecond buckets: 375', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(375, 9);
  });

  it('the primary revision\'s cluster answers for itself, not for the canary: p99 9910 ms', async () => {
    expect(await valueOf('request-duration', { ...vars, route: PRIMARY_REV })).toBeCloseTo(9910, 9);
  });

  it('a revision without an Envoy cluster has no data', async () => {
    const query = builtinQuery('request-success-rate', 'knative', { ...vars, route: 'podinfo-absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
