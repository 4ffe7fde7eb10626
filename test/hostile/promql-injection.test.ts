import { describe, expect, it } from 'vitest';
import { planMetrics } from '../../src/constructs/metrics/plan-metrics';
import { escapeForString } from '../../src/constructs/metrics/promql-escape';
import { TemplateVars, renderQuery } from '../../src/constructs/metrics/template';
import { TemplateRenderError } from '../../src/errors';
import { checkMetric } from '../../src/adapters/prometheus/metric-check';
import { PlannedMetric } from '../../src/model/plan';
import { PrometheusClient } from '../../src/adapters/prometheus/client';
import { OpenMetricsWriter, QUERY_TIME, describeWithPrometheus, usePrometheus } from '../support/prometheus';

// Values interpolated into PromQL must not change the query's structure (issue 7). Flagger
// substitutes raw (pkg/metrics/observers/render.go RenderQuery, called from
// pkg/controller/scheduler_metrics.go): these tests first show, against a real Prometheus, that the
// raw substitution lets a hostile variable make a failing check pass, then that canarykit's
// rendering keeps the check failing (or refuses the template).

// A Flagger-style success-rate template: the variable sits inside label matcher strings.
const SUCCESS_RATE = 'sum(rate(http_requests_total{app="{{ variables.app }}", status!~"5.."}[{{ interval }}])) / sum(rate(http_requests_total{app="{{ variables.app }}"}[{{ interval }}])) * 100';
const INJECTION = 'x"}[1m])) or vector(100) #';

const vars = (variables: Record<string, string>): TemplateVars => ({
  name: 'podinfo', namespace: 'test', target: 'podinfo', service: 'podinfo', ingress: 'podinfo', route: 'podinfo', interval: '1m', variables,
});

/** What Flagger's text/template produces: every action replaced by its value, verbatim. */
function flaggerRaw(template: string, v: TemplateVars): string {
  return template.replace(/\{\{\s*([a-z.]+)\s*\}\}/gi, (_m, expr: string) => (expr.startsWith('variables.') ? v.variables[expr.slice(10)] : String(v[expr as keyof TemplateVars])));
}

// podinfo answers half of its requests with 500: a success rate of 50%.
function data(): OpenMetricsWriter {
  return new OpenMetricsWriter()
    .counter('http_requests_total', { app: 'podinfo', status: '200' }, 5)
    .counter('http_requests_total', { app: 'podinfo', status: '500' }, 5);
}

const metric = (query: string): PlannedMetric => ({
  name: 'success-rate', query, interval: '1m', thresholdRange: { min: 99 }, provider: { type: 'prometheus', address: 'http://unused' }, builtin: false,
});

describeWithPrometheus('PromQL injection through template variables (real Prometheus)', () => {
  const prom = usePrometheus(data);
  const check = (query: string) => checkMetric(metric(query), new PrometheusClient({ address: prom.url }), QUERY_TIME);

  it('the honest check fails: 50% success is below the minimum 99', async () => {
    const result = await check(renderQuery(SUCCESS_RATE, vars({ app: 'podinfo' })));
    expect(result).toMatchObject({ outcome: 'fail', value: 50 });
  });

  it("Flagger's raw substitution of the hostile value makes the failing check pass (the attack is real)", async () => {
    const result = await check(flaggerRaw(SUCCESS_RATE, vars({ app: INJECTION })));
    expect(result).toMatchObject({ outcome: 'pass', value: 100 });
  });

  it('canarykit keeps the hostile value inside the string literal: the check does not pass', async () => {
    const query = renderQuery(SUCCESS_RATE, vars({ app: INJECTION }));
    expect(query).toContain('app="x\\"}[1m])) or vector(100) #"');
    const result = await check(query);
    // No series has that app label: no data, which counts as a failed check, never a pass.
    expect(result.outcome).toBe('no-data');
  });

  it('a value with a trailing backslash cannot escape the closing quote', async () => {
    const query = renderQuery('sum(rate(http_requests_total{app="{{ variables.a }}", status="500"}[1m]))', vars({ a: 'x\\' }));
    expect(query).toBe('sum(rate(http_requests_total{app="x\\\\", status="500"}[1m]))');
    const result = await check(query);
    expect(result.outcome).not.toBe('pass');
  });

  it('regex values keep their meaning, as in Flagger: alternation and valid escapes are not escaped', async () => {
    const template = 'sum(rate(http_requests_total{app=~"{{ variables.apps }}", status!~"{{ variables.bad }}"}[1m])) / sum(rate(http_requests_total{app=~"{{ variables.apps }}"}[1m])) * 100';
    const query = renderQuery(template, vars({ apps: 'podinfo|other', bad: '5\\\\d\\\\d' }));
    expect(query).toBe(flaggerRaw(template, vars({ apps: 'podinfo|other', bad: '5\\\\d\\\\d' })));
    expect(await check(query)).toMatchObject({ outcome: 'fail', value: 50 });
  });

  it('a value outside any string literal that is not a single token is refused, naming the variable', () => {
    const template = 'sum(rate(http_requests_total{app="podinfo", status!~"5.."}[{{ variables.window }}])) / sum(rate(http_requests_total{app="podinfo"}[1m])) * 100';
    expect(() => renderQuery(template, vars({ window: '1m])) or vector(100) #' }))).toThrow(TemplateRenderError);
    expect(() => renderQuery(template, vars({ window: '1m])) or vector(100) #' }))).toThrow(/variables\.window.*lands outside a string literal/);
    // Tokens Flagger templates use there stay accepted.
    expect(renderQuery(template, vars({ window: '5m' }))).toContain('[5m]');
  });

  it('through the construct planner: the refusal is a problem of the metric, so synth and compile exit 2', () => {
    const { problems } = planMetrics(
      [{ name: 'hostile', templateVariables: { n: '1 or vector(100)' }, template: { query: 'up > {{ variables.n }}' } } as never],
      { provider: 'istio', metricsServer: 'http://prometheus:9090', vars: vars({}) },
    );
    expect(problems).toEqual([expect.objectContaining({ path: 'analysis.metrics[0]', message: expect.stringMatching(/variables\.n.*lands outside a string literal/) })]);
  });
});

describe('escapeForString (PromQL/Go string escapes)', () => {
  it.each([
    ['plain', 'podinfo', 'podinfo'],
    ['a quote of the literal', 'a"b', 'a\\"b'],
    ['a valid escape kept', 'a\\"b', 'a\\"b'],
    ['an escaped backslash kept', 'a\\\\b', 'a\\\\b'],
    ['a backslash before a regex char', 'a\\.b', 'a\\\\.b'],
    ['a trailing backslash', 'x\\', 'x\\\\'],
    ['a newline', 'a\nb', 'a\\nb'],
    ['the other quote kind untouched', "a'b", "a'b"],
  ])('%s', (_name, value, expected) => {
    expect(escapeForString(value, '"')).toBe(expected);
  });
});
