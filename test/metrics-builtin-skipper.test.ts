import { describe, expect, it } from 'vitest';
import { builtinQuery } from '../src/constructs/metrics/builtin';
import { TemplateVars } from '../src/constructs/metrics/template';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import { BuiltinMetricName } from '../src/model/builtin-metrics';
import { PODINFO_VARS, builtinValue, squash } from './support/builtin-metrics';
import { describeWithPrometheus, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

// Built-in metrics of Flagger's skipper observer (pkg/metrics/observers/skipper.go: routePattern,
// encodeModelForSkipper), run against a real Prometheus holding Skipper's route metrics.

const vars = PODINFO_VARS;
const ROUTE = 'route=~"kube(ew)?_test__podinfo_canary__.*__podinfo_canary(_[0-9]+)?"';

describe('skipper built-in query text (observers/skipper.go)', () => {
  it('success rate: the +Inf buckets of non-5xx over all, for the canary Ingress route to the canary Service', () => {
    const q = builtinQuery('request-success-rate', 'skipper', vars);
    expect(q.unit).toBe('percent');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(skipper_response_duration_seconds_bucket{${ROUTE},code!~"5..",le="+Inf"}[1m])) /
        sum(rate(skipper_response_duration_seconds_bucket{${ROUTE},le="+Inf"}[1m])) * 100`),
    );
  });

  it('duration: mean of the serve-route histogram, times 1000', () => {
    const q = builtinQuery('request-duration', 'skipper', { ...vars, interval: '30s' });
    expect(q.unit).toBe('milliseconds');
    expect(squash(q.query)).toBe(
      squash(`sum(rate(skipper_serve_route_duration_seconds_sum{${ROUTE}}[30s])) / sum(rate(skipper_serve_route_duration_seconds_count{${ROUTE}}[30s])) * 1000`),
    );
  });

  it('encodeModelForSkipper: non-word characters of namespace, ingress and service become _', () => {
    const q = builtinQuery('request-duration', 'skipper', { ...vars, namespace: 'shop-prod', ingress: 'web.front', service: 'web-app' });
    expect(q.query).toContain('route=~"kube(ew)?_shop_prod__web_front_canary__.*__web_app_canary(_[0-9]+)?"');
  });
});

// Skipper's route ID: kube[ew]_<ns>__<ingress>__<host>__<path>__<backend service>, non-word
// characters as `_`. Canary: the podinfo-canary Ingress's path to podinfo-canary, split over a
// north-south and an east-west route: 95% non-5xx (a 404 counts as success), mean 0.25 s. Decoys:
// the same Ingress's primary path, the user's apex Ingress, another namespace; all fail slowly.
function skipperData(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  const canary = ['kube_test__podinfo_canary__app_example_com____podinfo_canary', 'kubeew_test__podinfo_canary__podinfo_test_svc____podinfo_canary_1'];
  for (const route of canary) {
    w.histogram('skipper_response_duration_seconds', { route, method: 'GET', code: '200' }, { '0.01': 2, '1': 9 }, 1);
    w.histogram('skipper_response_duration_seconds', { route, method: 'GET', code: '404' }, { '0.01': 0.5, '1': 0.5 }, 0.1);
    w.histogram('skipper_response_duration_seconds', { route, method: 'GET', code: '503' }, { '0.01': 0.5, '1': 0.5 }, 0.1);
    w.histogram('skipper_serve_route_duration_seconds', { route, method: 'GET', code: '200' }, { '0.01': 1, '1': 5 }, 1.25);
  }
  const decoys = ['kube_test__podinfo_canary__app_example_com____podinfo_primary', 'kube_test__podinfo__app_example_com____podinfo', 'kube_other__podinfo_canary__app_example_com____podinfo_canary'];
  for (const route of decoys) {
    w.histogram('skipper_response_duration_seconds', { route, method: 'GET', code: '500' }, { '100': 100 }, 10000);
    w.histogram('skipper_serve_route_duration_seconds', { route, method: 'GET', code: '500' }, { '100': 100 }, 10000);
  }
  return w;
}

describeWithPrometheus('skipper built-in queries against Prometheus', () => {
  const prom = usePrometheus(skipperData);
  const valueOf = (metric: BuiltinMetricName, v: TemplateVars = vars) => builtinValue(prom.url, metric, 'skipper', v);

  it('success rate with 1 in 20 requests a 503 is 95', async () => {
    expect(await valueOf('request-success-rate')).toBeCloseTo(95, 9);
  });

  it('mean duration in milliseconds: 250', async () => {
    expect(await valueOf('request-duration')).toBeCloseTo(250, 9);
  });

  it('an ingress without a canary route has no data', async () => {
    const query = builtinQuery('request-success-rate', 'skipper', { ...vars, ingress: 'absent' }).query;
    expect(await new PrometheusClient({ address: prom.url }).query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });
});
