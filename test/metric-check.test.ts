import { describe, expect, it } from 'vitest';
import { builtinQuery, BuiltinMetricName } from '../src/constructs/metrics/builtin';
import { CheckResult, checkMetric, checkMetrics, describeCheck, judgeValue } from '../src/adapters/prometheus/metric-check';
import { MetricProviderPlan, PlannedMetric } from '../src/model/plan';
import { clientForProvider, PrometheusClient } from '../src/adapters/prometheus/client';
import { describeWithPrometheus, freePort, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

const provider: MetricProviderPlan = { type: 'prometheus', address: 'http://prometheus.invalid:9090' };

function custom(name: string, range: PlannedMetric['thresholdRange'], query = 'vector(1)'): PlannedMetric {
  return { name, query, interval: '1m', thresholdRange: range, provider, builtin: false };
}

function builtin(metric: BuiltinMetricName, target: string, range: PlannedMetric['thresholdRange'], address = provider.address): PlannedMetric {
  const vars = { name: target, namespace: 'test', target, service: target, ingress: target, route: target, interval: '1m', variables: {} };
  const { query, unit } = builtinQuery(metric, 'istio', vars);
  return { name: metric, query, interval: '1m', thresholdRange: range, provider: { ...provider, address }, builtin: true, unit };
}

describe('judgeValue', () => {
  const rate = (range: PlannedMetric['thresholdRange']) => builtin('request-success-rate', 'x', range);
  const duration = (range: PlannedMetric['thresholdRange']) => builtin('request-duration', 'x', range);

  it('passes on the bounds themselves and fails outside them', () => {
    expect(judgeValue(rate({ min: 99 }), 99).outcome).toBe('pass');
    expect(judgeValue(rate({ min: 99 }), 98.99).outcome).toBe('fail');
    expect(judgeValue(rate({ max: 5 }), 5).outcome).toBe('pass');
    expect(judgeValue(rate({ max: 5 }), 5.01).outcome).toBe('fail');
    expect(judgeValue(rate({ min: 1, max: 2 }), 0.5).outcome).toBe('fail');
  });

  it('passes anything when no bound is set', () => {
    const result = judgeValue(custom('anything', {}), -1e9);
    expect(result.outcome).toBe('pass');
    expect(result.message).toContain('no bounds');
  });

  // scheduler_metrics.go: `else if metric.Threshold > val` (success rate) / `val > metric.Threshold` (duration, queries).
  it.each([
    { name: 'success rate at the threshold passes', metric: () => ({ ...rate({}), threshold: 99 }), value: 99, outcome: 'pass' },
    { name: 'success rate below the threshold fails', metric: () => ({ ...rate({}), threshold: 99 }), value: 98.9, outcome: 'fail' },
    { name: 'success rate with the default threshold 0 passes', metric: () => ({ ...rate({}), threshold: 0 }), value: 0, outcome: 'pass' },
    { name: 'duration above the threshold fails', metric: () => ({ ...duration({}), threshold: 500 }), value: 501, outcome: 'fail' },
    { name: 'duration at the threshold (truncated) passes', metric: () => ({ ...duration({}), threshold: 500 }), value: 500.7, outcome: 'pass' },
    { name: 'custom query above the default threshold 0 fails', metric: () => ({ ...custom('errors', {}), threshold: 0 }), value: 0.01, outcome: 'fail' },
    { name: 'custom query at 0 passes the default threshold', metric: () => ({ ...custom('errors', {}), threshold: 0 }), value: 0, outcome: 'pass' },
    { name: 'custom query below a negative threshold passes', metric: () => ({ ...custom('delta', {}), threshold: -1 }), value: -2, outcome: 'pass' },
  ])('without thresholdRange compares against threshold: $name', ({ metric, value, outcome }) => {
    const result = judgeValue(metric(), value);
    expect(result.outcome).toBe(outcome);
    expect(result.message).toContain('threshold');
  });

  it('truncates milliseconds and their bounds to integers before comparing', () => {
    expect(judgeValue(duration({ max: 500 }), 500.9)).toMatchObject({ outcome: 'pass', value: 500 });
    expect(judgeValue(duration({ max: 499.9 }), 499.5).outcome).toBe('pass');
    expect(judgeValue(duration({ max: 499.9 }), 500).outcome).toBe('fail');
    expect(judgeValue(duration({ min: 10.7 }), 10.2).outcome).toBe('pass');
  });

  it('does not truncate percentages or custom values', () => {
    expect(judgeValue(rate({ min: 99.5 }), 99.4).outcome).toBe('fail');
    expect(judgeValue(custom('ratio', { max: 0.5 }), 0.51)).toMatchObject({ outcome: 'fail', value: 0.51 });
  });

  it('explains a failure with the value and the bound crossed', () => {
    expect(judgeValue(rate({ min: 99 }), 95).message).toBe('metric "request-success-rate" value 95 is below the minimum 99');
    expect(judgeValue(duration({ max: 500 }), 612.4).message).toBe(
      'metric "request-duration" value 612ms is above the maximum 500ms',
    );
  });
});

describe('describeCheck', () => {
  const base = { metric: 'request-success-rate', thresholdRange: { min: 99 }, unit: 'percent' as const, message: '' };

  it('renders one line per outcome', () => {
    expect(describeCheck({ ...base, outcome: 'pass', value: 99.5 })).toBe('request-success-rate: 99.5 (min 99) pass');
    expect(describeCheck({ ...base, outcome: 'fail', value: 95.00000000000001 })).toBe('request-success-rate: 95 (min 99) fail');
    expect(describeCheck({ ...base, outcome: 'no-data' })).toBe('request-success-rate: no data (min 99) no-data');
    expect(describeCheck({ ...base, outcome: 'error', errorKind: 'unreachable' })).toBe(
      'request-success-rate: query failed (min 99) error',
    );
    expect(
      describeCheck({ metric: 'request-duration', thresholdRange: { min: 1, max: 500 }, unit: 'milliseconds', message: '', outcome: 'pass', value: 375 }),
    ).toBe('request-duration: 375ms (min 1ms, max 500ms) pass');
    expect(describeCheck({ metric: 'ratio', thresholdRange: {}, message: '', outcome: 'pass', value: 0.000125 })).toBe('ratio: 0.000125 pass');
  });
});

describe('checkMetric without a server', () => {
  // A provider answering NaN (Stackdriver's proto3 "NaN", a Datadog null-filled series…) must not
  // pass: NaN compares false against every bound. prometheus.go treats NaN as ErrNoValuesFound.
  it('reads NaN from any provider as no data, never as a pass', async () => {
    const nan = { address: 'https://api.datadoghq.com', query: async () => ({ kind: 'value' as const, value: NaN }) };
    const metric: PlannedMetric = { name: 'errors', query: 'avg:errors{*}', interval: '1m', thresholdRange: { max: 1 }, builtin: false, provider: { type: 'datadog' } };
    expect(await checkMetric(metric, nan)).toMatchObject({ outcome: 'no-data' });
  });

  it('turns an unreachable Prometheus into an error naming the address, never the token', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const client = new PrometheusClient({ address, credentials: { type: 'bearer', token: 'tok-xyz' } });
    const result = await checkMetric(builtin('request-success-rate', 'podinfo', { min: 99 }, address), client, QUERY_TIME);
    expect(result).toMatchObject({ outcome: 'error', errorKind: 'unreachable', metric: 'request-success-rate' });
    expect(result.message).toContain(address);
    expect(result.message).toContain('request-success-rate');
    expect(result.message).not.toContain('tok-xyz');
  });

  it('turns missing provider credentials into a config error and still checks the other metrics', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const secret = { ...custom('secured', { max: 1 }), provider: { type: 'prometheus' as const, address, secretRef: 'prom-auth' } };
    const open = { ...custom('open', { max: 1 }), provider: { type: 'prometheus' as const, address } };
    const results = await checkMetrics([secret, open], (p) => clientForProvider({ ...p, address: p.address as string }, { env: {} }), QUERY_TIME);
    expect(results.map((r) => [r.metric, r.outcome])).toEqual([
      ['secured', 'error'],
      ['open', 'error'],
    ]);
    expect(results[0]).toMatchObject({ errorKind: 'config' });
    expect(results[0].message).toContain('prom-auth');
    expect(results[1]).toMatchObject({ errorKind: 'unreachable' });
  });
});

// "good": 99.5% success, p99 375.5 ms (rank 9.9 is halfway through a 250..501 bucket);
// "bad": 90% success; "idle": counters that never move (0/0).
function data(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  const dest = (workload: string, code: string) => ({
    reporter: 'destination',
    destination_workload_namespace: 'test',
    destination_workload: workload,
    response_code: code,
  });
  w.counter('istio_requests_total', dest('good', '200'), 19.9)
    .counter('istio_requests_total', dest('good', '500'), 0.1)
    .counter('istio_requests_total', dest('bad', '200'), 9)
    .counter('istio_requests_total', dest('bad', '503'), 1)
    .counter('istio_requests_total', dest('idle', '200'), 0)
    .histogram(
      'istio_request_duration_milliseconds',
      { reporter: 'destination', destination_workload_namespace: 'test', destination_workload: 'good' },
      { '100': 9, '250': 9.8, '501': 10 },
      1,
    );
  return w;
}

describeWithPrometheus('metric checks against Prometheus', () => {
  const prom = usePrometheus(data);
  const check = (metric: PlannedMetric) => checkMetric(metric, new PrometheusClient({ address: prom.url }), QUERY_TIME);
  const at = (m: PlannedMetric) => ({ ...m, provider: { ...m.provider, address: prom.url } });

  it('passes a healthy canary', async () => {
    const result = await check(builtin('request-success-rate', 'good', { min: 99 }));
    expect(result.outcome).toBe('pass');
    expect(result.outcome === 'pass' && result.value).toBeCloseTo(99.5, 9);
    expect(describeCheck(result)).toBe('request-success-rate: 99.5 (min 99) pass');
  });

  it('fails a canary below its success-rate minimum', async () => {
    const result = await check(builtin('request-success-rate', 'bad', { min: 99 }));
    expect(result.outcome).toBe('fail');
    expect(result.message).toBe('metric "request-success-rate" value 90 is below the minimum 99');
  });

  it('compares the p99 duration as truncated milliseconds', async () => {
    // 375.5 ms truncates to 375: inside max 375, outside min 376.
    expect(await check(builtin('request-duration', 'good', { max: 375 }))).toMatchObject({ outcome: 'pass', value: 375 });
    expect(await check(builtin('request-duration', 'good', { max: 374.99 }))).toMatchObject({ outcome: 'fail', value: 375 });
    expect(await check(builtin('request-duration', 'good', { min: 376 }))).toMatchObject({ outcome: 'fail' });
  });

  it('reports no data, with the likely cause, when the canary gets no traffic', async () => {
    for (const target of ['idle', 'absent']) {
      const result = await check(builtin('request-success-rate', target, { min: 99 }));
      expect(result).toEqual({
        metric: 'request-success-rate',
        thresholdRange: { min: 99 },
        unit: 'percent',
        outcome: 'no-data',
        message: 'no values found for metric "request-success-rate": is the canary receiving traffic?',
      } satisfies CheckResult);
    }
  });

  it('suggests the query itself for a custom metric without data', async () => {
    const result = await check(custom('errors', { max: 1 }, 'sum(rate(no_such_metric_total[1m]))'));
    expect(result.outcome).toBe('no-data');
    expect(result.message).toContain('does the query select any series');
  });

  it('reports a rejected query as an error naming the metric, the address and the reason', async () => {
    const result = await check(custom('broken', { max: 1 }, 'sum(rate(x[1m])'));
    expect(result).toMatchObject({ outcome: 'error', errorKind: 'bad-query' });
    expect(result.message).toContain('metric "broken"');
    expect(result.message).toContain(prom.url);
    expect(result.message).toContain('HTTP 400');
  });

  it('checks every metric in spec order without stopping at a failure', async () => {
    const metrics = [
      at(builtin('request-success-rate', 'bad', { min: 99 })),
      at(custom('broken', {}, 'sum(')),
      at(builtin('request-duration', 'good', { max: 500 })),
      at(custom('bounded-ratio', { min: 0.9, max: 1 }, 'sum(rate(istio_requests_total{destination_workload="good", response_code="200"}[1m])) / 20')),
    ];
    const results = await checkMetrics(metrics, (p) => clientForProvider({ ...p, address: p.address as string }), QUERY_TIME);
    expect(results.map(describeCheck)).toEqual([
      'request-success-rate: 90 (min 99) fail',
      'broken: query failed error',
      'request-duration: 375ms (max 500ms) pass',
      'bounded-ratio: 0.995 (min 0.9, max 1) pass',
    ]);
  });
});
