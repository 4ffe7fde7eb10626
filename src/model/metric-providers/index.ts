import { MetricProviderType } from '../plan';
import { MetricProviderSpec } from './spec';
import { PROMETHEUS_SPEC } from './prometheus';
import { EXTERNALMETRICS_SPEC } from './externalmetrics';
import { KEPTN_SPEC } from './keptn';

export type { MetricProviderSpec, ProviderProblem } from './spec';

/**
 * What synth knows of each metrics provider, one line each; the type makes each key name its own
 * spec. Flagger's factory (pkg/metrics/providers/factory.go) is the list to match.
 */
export const METRIC_PROVIDER_SPECS = {
  prometheus: PROMETHEUS_SPEC,
  externalmetrics: EXTERNALMETRICS_SPEC,
  keptn: KEPTN_SPEC,
} satisfies { [K in MetricProviderType]?: MetricProviderSpec<K> };

/** The spec of a provider type, or undefined while canarykit has none for it. */
export function metricProviderSpec(type: MetricProviderType): MetricProviderSpec | undefined {
  return (METRIC_PROVIDER_SPECS as Partial<Record<MetricProviderType, MetricProviderSpec>>)[type];
}
