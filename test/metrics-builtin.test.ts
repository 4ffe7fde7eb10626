import { describe, expect, it } from 'vitest';
import { builtinQuery, isBuiltinMetric } from '../src/constructs/metrics/builtin';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { ProviderName } from '../src/providers/registry';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

const vars = PODINFO_VARS;

/** Whitespace is insignificant in PromQL outside strings, and these queries have none in strings. */

describe('builtinQuery text', () => {
  it('istio success rate is Flagger query over the canary workload', () => {
    const { query, unit } = builtinQuery('request-success-rate', 'istio', vars);
    expect(unit).toBe('percent');
    expect(squash(query)).toBe(
      squash(`sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="test",
        destination_workload=~"podinfo", response_code!~"5.*"}[1m]))
        / sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="test",
        destination_workload=~"podinfo"}[1m])) * 100`),
    );
  });

  it('istio duration is the p99 of the milliseconds histogram', () => {
    const { query, unit } = builtinQuery('request-duration', 'istio', { ...vars, interval: '30s' });
    expect(unit).toBe('milliseconds');
    expect(squash(query)).toBe(
      squash(`histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",
        destination_workload_namespace="test", destination_workload=~"podinfo"}[30s])) by (le))`),
    );
  });

  it('nginx queries select the canary upstream of the original ingress', () => {
    const v = { ...vars, ingress: 'public' };
    expect(squash(builtinQuery('request-success-rate', 'nginx', v).query)).toBe(
      squash(`sum(rate(nginx_ingress_controller_requests{namespace="test", ingress="public", canary!="", status!~"5.*"}[1m]))
        / sum(rate(nginx_ingress_controller_requests{namespace="test", ingress="public", canary!=""}[1m])) * 100`),
    );
    expect(squash(builtinQuery('request-duration', 'nginx', v).query)).toBe(
      squash(`sum(rate(nginx_ingress_controller_response_duration_seconds_sum{namespace="test", ingress="public", canary!=""}[1m]))
        / sum(rate(nginx_ingress_controller_response_duration_seconds_count{namespace="test", ingress="public", canary!=""}[1m])) * 1000`),
    );
  });

  it('kubernetes and gatewayapi share the generic HTTP observer, duration converted to ms', () => {
    for (const provider of ['kubernetes', 'gatewayapi'] as const) {
      expect(squash(builtinQuery('request-success-rate', provider, vars).query)).toBe(
        squash(`sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test",
          kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*"}[1m]))
          / sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test",
          kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) * 100`),
      );
      const duration = builtinQuery('request-duration', provider, vars);
      expect(duration.unit).toBe('milliseconds');
      expect(squash(duration.query)).toBe(
        squash(`histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{kubernetes_namespace="test",
          kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) by (le)) * 1000`),
      );
    }
  });

  it('knows the reserved names', () => {
    expect(isBuiltinMetric('request-success-rate')).toBe(true);
    expect(isBuiltinMetric('request-duration')).toBe(true);
    expect(isBuiltinMetric('error-rate')).toBe(false);
  });
});

// Canary traffic: 95% non-5xx (4xx count as success) and a p99 of 375 ms from buckets
// (rank 0.99 * 10 = 9.9 falls halfway through the 250..500 bucket). Decoy series that a wrong
// selector would pick up carry only errors and huge latencies.
const istioDest = { reporter: 'destination', destination_workload_namespace: 'test', destination_workload: 'podinfo' };
const latencyMs = { '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 };
const slow = { '1000': 0, '10000': 100 };

function trafficData(): OpenMetricsWriter {
  const w = new OpenMetricsWriter()
    .counter('istio_requests_total', { ...istioDest, response_code: '200' }, 9)
    .counter('istio_requests_total', { ...istioDest, response_code: '404' }, 0.5)
    .counter('istio_requests_total', { ...istioDest, response_code: '500' }, 0.5)
    .counter('istio_requests_total', { ...istioDest, reporter: 'source', response_code: '500' }, 100)
    .counter('istio_requests_total', { ...istioDest, destination_workload: 'podinfo-primary', response_code: '500' }, 100)
    .counter('istio_requests_total', { ...istioDest, destination_workload_namespace: 'other', response_code: '503' }, 100)
    // Two pods, half the traffic each: the query must sum them by le.
    .histogram('istio_request_duration_milliseconds', { ...istioDest, pod: 'a' }, half(latencyMs), 1)
    .histogram('istio_request_duration_milliseconds', { ...istioDest, pod: 'b' }, half(latencyMs), 1)
    .histogram('istio_request_duration_milliseconds', { ...istioDest, destination_workload: 'podinfo-primary' }, slow, 1);

  // NGINX: 95% success on the canary upstream, mean 2.5 s / 20 requests = 125 ms; the primary
  // upstream (no canary label) fails everything slowly.
  const canary = { namespace: 'test', ingress: 'podinfo', canary: 'test-podinfo-canary-9898' };
  const primary = { namespace: 'test', ingress: 'podinfo' };
  w.counter('nginx_ingress_controller_requests', { ...canary, status: '200' }, 19)
    .counter('nginx_ingress_controller_requests', { ...canary, status: '503' }, 1)
    .counter('nginx_ingress_controller_requests', { ...primary, status: '500' }, 50)
    .counter('nginx_ingress_controller_response_duration_seconds_sum', canary, 2.5)
    .counter('nginx_ingress_controller_response_duration_seconds_count', canary, 20)
    .counter('nginx_ingress_controller_response_duration_seconds_sum', primary, 1000)
    .counter('nginx_ingress_controller_response_duration_seconds_count', primary, 20);

  // Generic HTTP: 90% success across 200/500 histograms; summed buckets give p99 0.375 s.
  const pod = { kubernetes_namespace: 'test', kubernetes_pod_name: 'podinfo-7b9c5d6f4-x2k9p' };
  const primaryPod = { kubernetes_namespace: 'test', kubernetes_pod_name: 'podinfo-primary-7b9c5d6f4-x2k9p' };
  w.histogram('http_request_duration_seconds', { ...pod, status: '200' }, { '0.025': 4, '0.05': 7, '0.1': 8, '0.25': 8.8, '0.5': 9 }, 1)
    .histogram('http_request_duration_seconds', { ...pod, status: '500' }, { '0.025': 1, '0.05': 1, '0.1': 1, '0.25': 1, '0.5': 1 }, 0.01)
    .histogram('http_request_duration_seconds', { ...primaryPod, status: '500' }, { '10': 100 }, 1000);
  return w;
}

function half(buckets: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(buckets).map(([le, r]) => [le, r / 2]));
}

describeWithPrometheus('built-in queries against Prometheus', () => {
  const prom = usePrometheus(trafficData);
  const valueOf = (metric: BuiltinMetricName, provider: ProviderName) => builtinValue(prom.url, metric, provider);

  it('istio success rate with 5% 500s is 95', async () => {
    expect(await valueOf('request-success-rate', 'istio')).toBeCloseTo(95, 9);
  });

  it('istio p99 duration interpolates within the buckets: 375 ms', async () => {
    expect(await valueOf('request-duration', 'istio')).toBeCloseTo(375, 9);
  });

  it('nginx success rate counts only the canary upstream: 95', async () => {
    expect(await valueOf('request-success-rate', 'nginx')).toBeCloseTo(95, 9);
  });

  it('nginx duration is the canary mean in ms: 125', async () => {
    expect(await valueOf('request-duration', 'nginx')).toBeCloseTo(125, 9);
  });

  it('generic HTTP observer (kubernetes, gatewayapi): 90% success and p99 375 ms', async () => {
    for (const provider of ['kubernetes', 'gatewayapi'] as const) {
      expect(await valueOf('request-success-rate', provider)).toBeCloseTo(90, 9);
      expect(await valueOf('request-duration', provider)).toBeCloseTo(375, 9);
    }
  });

  it('a workload without traffic series has no data', async () => {
    const client = new PrometheusClient({ address: prom.url });
    const query = builtinQuery('request-success-rate', 'istio', { ...vars, target: 'absent' }).query;
    expect(await client.query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
