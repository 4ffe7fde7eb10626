import { PrometheusClient } from '../../src/adapters/prometheus/client';
import { builtinQuery } from '../../src/constructs/metrics/builtin';
import { TemplateVars } from '../../src/constructs/metrics/template';
import { BuiltinMetricName } from '../../src/model/builtin-metrics';
import { ProviderName } from '../../src/providers/registry';
import { QUERY_TIME } from './prometheus';

/** The template variables of podinfo in namespace test, as Flagger renders its observers' queries. */
export const PODINFO_VARS: TemplateVars = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo',
  ingress: 'podinfo',
  route: 'podinfo',
  interval: '1m',
  variables: {},
};

/** A query without whitespace, to compare with Flagger's text however either is indented. */
export const squash = (q: string): string => q.replace(/\s+/g, '');

/** A built-in metric of `provider` evaluated by the real Prometheus at `address`; throws unless it is a value. */
export async function builtinValue(address: string, metric: BuiltinMetricName, provider: ProviderName, vars: TemplateVars = PODINFO_VARS): Promise<number> {
  const result = await new PrometheusClient({ address }).query(builtinQuery(metric, provider, vars).query, QUERY_TIME);
  if (result.kind !== 'value') throw new Error(`${metric}/${provider}: ${result.kind}`);
  return result.value;
}
