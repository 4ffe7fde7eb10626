import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's apisix observer (pkg/metrics/observers/apisix.go, apisix_test.go),
// run against a real Prometheus holding series of APISIX's prometheus plugin. With prefer_name the
// `route` label is the APISIX route name, `<namespace>_<ApisixRoute>_<http route>`.

const vars = PODINFO_VARS;
const ROUTE = 'route=~"test_podinfo-podinfo-canary_.+"';

describe('apisix built-in query text (observers/apisix.go)', () => {
  it('success rate: non-5xx share of the canary ApisixRoute, selected by {{ route }} and {{ target }}', () => {
    const q = builtinQuery('request-success-rate', 'apisix', { ...vars, service: 'ignored' });
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(squash(`sum(rate(apisix_http_status{${ROUTE}, code!~"5.."}[1m])) / sum(rate(apisix_http_status{${ROUTE}}[1m])) * 100`));
  });

  it('duration: p99 of the request latency histogram, already milliseconds (no * 1000)', () => {
    const q = builtinQuery('request-duration', 'apisix', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(squash(`histogram_quantile(0.99, sum(rate(apisix_http_latency_bucket{type=~"request", ${ROUTE}}[30s])) by (le))`));
  });

  it('{{ route }} is the routeRef name: another ApisixRoute name changes the selector', () => {
    expect(builtinQuery('request-success-rate', 'apisix', { ...vars, route: 'edge' }).query).toContain('route=~"test_edge-podinfo-canary_.+"');
  });
});

// Canary route: 96% non-5xx (a 404 counts as success) over two gateway nodes; p99 375 ms of the
// `request` latency (rank 9.9 of 10 falls halfway through 250..500). Decoys a wrong selector would
// pick up (the user's own route, another namespace, a route name that only starts with the
// canary's, and the canary's `upstream` latency) carry only errors and slow requests.
function apisixData(): OpenMetricsWriter {
  const canary = { route: 'test_podinfo-podinfo-canary_method', matched_host: 'app.example.com', service: '' };
  const w = new OpenMetricsWriter()
    .counter('apisix_http_status', { ...canary, code: '200', node: '10.0.0.1' }, 11)
    .counter('apisix_http_status', { ...canary, code: '200', node: '10.0.0.2' }, 12)
    .counter('apisix_http_status', { ...canary, code: '404', node: '10.0.0.1' }, 1)
    .counter('apisix_http_status', { ...canary, code: '503', node: '10.0.0.2' }, 1);
  for (const route of ['test_podinfo_method', 'other_podinfo-podinfo-canary_method', 'test_podinfo-podinfo-canary-x_method']) {
    w.counter('apisix_http_status', { route, matched_host: 'app.example.com', service: '', code: '500', node: '10.0.0.1' }, 100);
    w.histogram('apisix_http_latency', { route, type: 'request', service: '', node: '10.0.0.1' }, { '1000': 0, '10000': 100 }, 1);
  }
  const buckets = { '25': 5, '50': 8, '100': 9, '250': 9.8, '500': 10 };
  const half = Object.fromEntries(Object.entries(buckets).map(([le, r]) => [le, r / 2]));
  w.histogram('apisix_http_latency', { ...canary, type: 'request', node: '10.0.0.1' }, half, 1)
    .histogram('apisix_http_latency', { ...canary, type: 'request', node: '10.0.0.2' }, half, 1)
    .histogram('apisix_http_latency', { ...canary, type: 'upstream', node: '10.0.0.1' }, { '1000': 0, '10000': 100 }, 1);
  return w;
}

describeWithPrometheus('apisix built-in queries against Prometheus', () => {
  const prom = usePrometheus(apisixData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'apisix', v);

  it('success rate with 1 in 25 requests a 503 is 96', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(96, 9);
  });

  it('p99 request duration in milliseconds: 375', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(375, 9);
  });

  it('a target without a canary route series has no data', async () => {
    const query = builtinQuery('request-success-rate', 'apisix', { ...vars, target: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
