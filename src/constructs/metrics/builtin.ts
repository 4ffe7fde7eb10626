import { BuiltinMetricName } from '../../model/builtin-metrics';
import { ProviderName } from '../../providers/registry';
import { PROVIDERS } from '../../providers/registry';
import type { Observer } from '../../providers/module';
import { renderQuery, TemplateVars } from './template';

export { BUILTIN_METRICS, isBuiltinMetric } from '../../model/builtin-metrics';
export type { BuiltinMetricName } from '../../model/builtin-metrics';

/** A built-in metric's rendered PromQL and the unit its value is in. */
export interface BuiltinQuery {
  query: string;
  /** Success rate is a percentage (0-100); duration is milliseconds, compared truncated. */
  unit: 'percent' | 'milliseconds';
}

const UNITS: Record<BuiltinMetricName, BuiltinQuery['unit']> = {
  'request-success-rate': 'percent',
  'request-duration': 'milliseconds',
};

/**
 * Flagger's PromQL for a built-in metric under a traffic provider (its observer, owned by the
 * provider module), rendered with `vars` (`target` and `interval` select the canary workload and
 * the rate window; nginx uses `ingress`).
 */
export function builtinQuery(metric: BuiltinMetricName, provider: ProviderName, vars: TemplateVars): BuiltinQuery {
  const observer: Observer = PROVIDERS[provider].observer;
  return {
    query: renderQuery(observer.queries[metric], observer.encodeVars?.(vars) ?? vars, `built-in ${metric} (${observer.name})`),
    unit: UNITS[metric],
  };
}
