import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { ProviderName } from '../src/providers/registry';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of the SMI family: Flagger pkg/metrics/observers/linkerd.go, osm.go, and
// factory.go's default (the Istio observer) for smi:v1alpha1/2/3, which have no case of their own.

const vars = PODINFO_VARS;


describe('SMI-family built-in query text', () => {
  it('linkerd: inbound response_total without failures, p99 of response_latency_ms (already ms, no scaling)', () => {
    expect(squash(builtinQuery('request-success-rate', 'linkerd', vars).query)).toBe(
      squash(`sum(rate(response_total{namespace="test", deployment=~"podinfo", classification!="failure", direction="inbound"}[1m]))
        / sum(rate(response_total{namespace="test", deployment=~"podinfo", direction="inbound"}[1m])) * 100`),
    );
    const d = builtinQuery('request-duration', 'linkerd', { ...vars, interval: '30s' });
    expect(d.unit).toBe('milliseconds');
    expect(squash(d.query)).toBe(
      squash(`histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="test", deployment=~"podinfo", direction="inbound"}[30s])) by (le))`),
    );
  });

  it('osm: osm_request_total by destination Deployment, p99 of osm_request_duration_ms', () => {
    expect(squash(builtinQuery('request-success-rate', 'osm', vars).query)).toBe(
      squash(`sum(rate(osm_request_total{destination_namespace="test", destination_kind="Deployment", destination_name="podinfo", response_code!~"5.*"}[1m]))
        / sum(rate(osm_request_total{destination_namespace="test", destination_kind="Deployment", destination_name="podinfo"}[1m])) * 100`),
    );
    expect(squash(builtinQuery('request-duration', 'osm', vars).query)).toBe(
      squash(`histogram_quantile(0.99, sum(rate(osm_request_duration_ms_bucket{destination_namespace="test", destination_kind="Deployment", destination_name="podinfo"}[1m])) by (le))`),
    );
  });

  it('smi:v1alpha1/2/3 fall through observers/factory.go to the Istio observer', () => {
    for (const provider of ['smiv1alpha1', 'smiv1alpha2', 'smiv1alpha3'] as const) {
      for (const metric of ['request-success-rate', 'request-duration'] as const) {
        expect(builtinQuery(metric, provider, vars).query).toBe(builtinQuery(metric, 'istio', vars).query);
      }
    }
  });
});

// Canary traffic of each mesh: 95% success (4xx count as success) and a p99 of 375 ms (rank
// 0.99 * 10 = 9.9 falls halfway through the 250..500 ms bucket). Decoys that a wrong selector
// would pick up carry only failures and huge latencies.
const latencyMs = { '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 };
const slow = { '1000': 0, '10000': 100 };

function trafficData(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  // Linkerd proxy metrics: classification is the proxy's verdict (5xx -> failure).
  const l5d = { namespace: 'test', deployment: 'podinfo', direction: 'inbound' };
  w.counter('response_total', { ...l5d, classification: 'success', status_code: '200' }, 18.5)
    .counter('response_total', { ...l5d, classification: 'success', status_code: '404' }, 0.5)
    .counter('response_total', { ...l5d, classification: 'failure', status_code: '503' }, 1)
    .counter('response_total', { ...l5d, direction: 'outbound', classification: 'failure', status_code: '503' }, 100)
    .counter('response_total', { ...l5d, deployment: 'podinfo-primary', classification: 'failure', status_code: '500' }, 100)
    .counter('response_total', { ...l5d, namespace: 'other', classification: 'failure', status_code: '500' }, 100)
    .histogram('response_latency_ms', { ...l5d, pod: 'a' }, half(latencyMs), 1)
    .histogram('response_latency_ms', { ...l5d, pod: 'b' }, half(latencyMs), 1)
    .histogram('response_latency_ms', { ...l5d, direction: 'outbound' }, slow, 1)
    .histogram('response_latency_ms', { ...l5d, deployment: 'podinfo-primary' }, slow, 1);

  // OSM (Envoy stats via its Prometheus relabelling).
  const osm = { destination_namespace: 'test', destination_kind: 'Deployment', destination_name: 'podinfo', source_name: 'loadtester' };
  w.counter('osm_request_total', { ...osm, response_code: '200' }, 18.5)
    .counter('osm_request_total', { ...osm, response_code: '404' }, 0.5)
    .counter('osm_request_total', { ...osm, response_code: '500' }, 1)
    .counter('osm_request_total', { ...osm, destination_name: 'podinfo-primary', response_code: '500' }, 100)
    .counter('osm_request_total', { ...osm, destination_kind: 'Pod', response_code: '500' }, 100)
    .histogram('osm_request_duration_ms', osm, latencyMs, 1)
    .histogram('osm_request_duration_ms', { ...osm, destination_name: 'podinfo-primary' }, slow, 1);

  // Istio telemetry, read for smi:* (80% success, p99 375 ms) so it differs from the others.
  const istio = { reporter: 'destination', destination_workload_namespace: 'test', destination_workload: 'podinfo' };
  w.counter('istio_requests_total', { ...istio, response_code: '200' }, 8)
    .counter('istio_requests_total', { ...istio, response_code: '500' }, 2)
    .counter('istio_requests_total', { ...istio, reporter: 'source', response_code: '500' }, 100)
    .histogram('istio_request_duration_milliseconds', istio, latencyMs, 1);
  return w;
}

function half(buckets: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(buckets).map(([le, r]) => [le, r / 2]));
}

describeWithPrometheus('SMI-family built-in queries against Prometheus', () => {
  const prom = usePrometheus(trafficData);
  const valueOf = (metric: BuiltinMetricName, provider: ProviderName, v = vars): Promise<number> => builtinValue(prom.url, metric, provider, v);

  it('linkerd: 95% success, p99 375 ms over the inbound canary Deployment only', async () => {
    expect(await valueOf('request-success-rate', 'linkerd')).toBeCloseTo(95, 9);
    expect(await valueOf('request-duration', 'linkerd')).toBeCloseTo(375, 9);
  });

  it('osm: 95% success, p99 375 ms over the destination Deployment only', async () => {
    expect(await valueOf('request-success-rate', 'osm')).toBeCloseTo(95, 9);
    expect(await valueOf('request-duration', 'osm')).toBeCloseTo(375, 9);
  });

  it('smi:v1alpha2 and smi:v1alpha3 read Istio telemetry: 80% success, p99 375 ms', async () => {
    for (const provider of ['smiv1alpha1', 'smiv1alpha2', 'smiv1alpha3'] as const) {
      expect(await valueOf('request-success-rate', provider)).toBeCloseTo(80, 9);
      expect(await valueOf('request-duration', provider)).toBeCloseTo(375, 9);
    }
  });

  it('a workload without series has no data', async () => {
    const client = new PrometheusClient({ address: prom.url });
    for (const provider of ['linkerd', 'osm'] as const) {
      expect(await client.query(builtinQuery('request-success-rate', provider, { ...vars, target: 'absent' }).query, QUERY_TIME)).toEqual({ kind: 'no-data' });
    }
  });
});
