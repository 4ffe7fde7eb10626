import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's appmesh observer (pkg/metrics/observers/appmesh.go), which both
// `appmesh` and `appmesh:v1beta2` use (observers/factory.go matches the prefix), run against a
// real Prometheus holding the App Mesh Envoy sidecars' upstream request series.

const vars = PODINFO_VARS;
const POD = 'kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"';

describe('appmesh built-in query text (observers/appmesh.go)', () => {
  it.each(['appmesh', 'appmeshv1beta2'] as const)('%s success rate: non-5xx upstream requests over all, for the pods of {{ target }}', (provider) => {
    const q = builtinQuery('request-success-rate', provider, { ...vars, service: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(envoy_cluster_upstream_rq{${POD}, envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{${POD}}[1m])) * 100`),
    );
  });

  it.each(['appmesh', 'appmeshv1beta2'] as const)('%s duration: p99 of the millisecond histogram, no scaling', (provider) => {
    const q = builtinQuery('request-duration', provider, { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(squash(`histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{${POD}}[30s])) by (le))`));
  });
});

// Canary pods `podinfo-<replicaset>-<pod>` (two of them, half the traffic each): 95% non-5xx (a
// 404 counts as success), p99 375 ms (rank 9.9 of 10 halfway through 250..500). Decoys a wrong
// selector would pick up carry only errors and slow requests: the primary's pods (one name
// segment too many for the pattern), the same pod name in another namespace, and a pod of another
// Deployment whose name starts with the target's (`podinfo-api-...`).
function envoyData(): OpenMetricsWriter {
  const pods = [{ kubernetes_namespace: 'test', kubernetes_pod_name: 'podinfo-5d8f7c9b4-abcde' }, { kubernetes_namespace: 'test', kubernetes_pod_name: 'podinfo-5d8f7c9b4-fghij' }];
  const cluster = { envoy_cluster_name: 'cds_egress_global_backend1_http_9898' };
  const w = new OpenMetricsWriter();
  for (const pod of pods) {
    w.counter('envoy_cluster_upstream_rq', { ...pod, ...cluster, envoy_response_code: '200' }, 9)
      .counter('envoy_cluster_upstream_rq', { ...pod, ...cluster, envoy_response_code: '404' }, 0.5)
      .counter('envoy_cluster_upstream_rq', { ...pod, ...cluster, envoy_response_code: '503' }, 0.5)
      .histogram('envoy_cluster_upstream_rq_time', { ...pod, ...cluster }, { '25': 2.5, '50': 4, '100': 4.5, '250': 4.9, '500': 5 }, 1);
  }
  const decoys = [
    { kubernetes_namespace: 'test', kubernetes_pod_name: 'podinfo-primary-6c9d8b7f5-klmno' },
    { kubernetes_namespace: 'other', kubernetes_pod_name: 'podinfo-5d8f7c9b4-abcde' },
    { kubernetes_namespace: 'test', kubernetes_pod_name: 'podinfo-api-7f6d5c4b3-pqrst' },
  ];
  for (const pod of decoys) {
    w.counter('envoy_cluster_upstream_rq', { ...pod, ...cluster, envoy_response_code: '500' }, 100)
      .histogram('envoy_cluster_upstream_rq_time', { ...pod, ...cluster }, { '1000': 0, '10000': 100 }, 1000);
  }
  return w;
}

describeWithPrometheus('appmesh built-in queries against Prometheus', () => {
  const prom = usePrometheus(envoyData);
  const valueOf = (metric: BuiltinMetricName, provider: 'appmesh' | 'appmeshv1beta2', v: TemplateVars = vars) => builtinValue(prom.url, metric, provider, v);

  it.each(['appmesh', 'appmeshv1beta2'] as const)('%s success rate with 1 in 20 requests a 503 is 95', async (provider) => {
    expect(await valueOf('request-success-rate', provider)).toBeCloseTo(95, 9);
  });

  it.each(['appmesh', 'appmeshv1beta2'] as const)('%s p99 duration interpolates within the millisecond buckets: 375', async (provider) => {
    expect(await valueOf('request-duration', provider)).toBeCloseTo(375, 9);
  });

  it('a target without Envoy series has no data', async () => {
    const query = builtinQuery('request-success-rate', 'appmeshv1beta2', { ...vars, target: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
