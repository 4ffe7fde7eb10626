import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's gloo observer (pkg/metrics/observers/gloo.go), run against a real
// Prometheus holding Envoy cluster series as Gloo's gateway-proxy exports them.

const vars = PODINFO_VARS;
const CLUSTER = 'envoy_cluster_name=~"test-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+"';

describe('gloo built-in query text (observers/gloo.go)', () => {
  it('success rate: non-5xx share of the canary Upstream\'s Envoy cluster, selected by {{ target }}', () => {
    const q = builtinQuery('request-success-rate', 'gloo', { ...vars, service: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(envoy_cluster_upstream_rq{${CLUSTER}, envoy_response_code!~"5.*"}[1m]))
        / sum(rate(envoy_cluster_upstream_rq{${CLUSTER},}[1m])) * 100`),
    );
  });

  it('duration: p99 of upstream_rq_time, already milliseconds (no * 1000)', () => {
    const q = builtinQuery('request-duration', 'gloo', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(squash(`histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{${CLUSTER},}[30s])) by (le))`));
  });
});

// Gloo names an Upstream's Envoy cluster `<upstream>_<upstream namespace>`; Flagger's canary
// Upstream is `<namespace>-<svc>-canaryupstream-<port>`. Canary: 95% non-5xx (a 404 counts as
// success), p99 375 ms. Decoys a wrong selector would pick up: the primary Upstream, another
// namespace, another target whose name starts with the canary's, and a cluster without the
// `_<namespace>` suffix; all fail slowly.
function glooData(): OpenMetricsWriter {
  const canary = { envoy_cluster_name: 'test-podinfo-canaryupstream-80_test', gloo: 'gateway-proxy' };
  const w = new OpenMetricsWriter()
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '200' }, 18)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '404' }, 1)
    .counter('envoy_cluster_upstream_rq', { ...canary, envoy_response_code: '503' }, 1);
  const decoys = ['test-podinfo-primaryupstream-80_test', 'other-podinfo-canaryupstream-80_other', 'test-podinfox-canaryupstream-80_test', 'test-podinfo-canaryupstream-80'];
  for (const name of decoys) w.counter('envoy_cluster_upstream_rq', { envoy_cluster_name: name, gloo: 'gateway-proxy', envoy_response_code: '500' }, 100);
  w.histogram('envoy_cluster_upstream_rq_time', canary, { '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 }, 1);
  for (const name of decoys) w.histogram('envoy_cluster_upstream_rq_time', { envoy_cluster_name: name, gloo: 'gateway-proxy' }, { '1000': 0, '10000': 100 }, 1);
  return w;
}

describeWithPrometheus('gloo built-in queries against Prometheus', () => {
  const prom = usePrometheus(glooData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'gloo', v);

  it('success rate with 1 in 20 requests a 503 is 95', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(95, 9);
  });

  it('p99 duration interpolates within the millisecond buckets: 375', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(375, 9);
  });

  it('a target without a canary Upstream cluster has no data', async () => {
    const query = builtinQuery('request-success-rate', 'gloo', { ...vars, target: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
