import { MetricProviderType } from '../../model/plan';
import { MetricProviderModule } from './source';
import { PROMETHEUS } from './prometheus';
import { EXTERNALMETRICS } from './externalmetrics';
import { KEPTN } from './keptn';

/**
 * Every metrics provider canarykit queries, one line each; the type makes each key name its own
 * module. Flagger's factory (pkg/metrics/providers/factory.go) is the list to match.
 */
export const METRIC_PROVIDERS = {
  prometheus: PROMETHEUS,
  externalmetrics: EXTERNALMETRICS,
  keptn: KEPTN,
} satisfies { [K in MetricProviderType]?: MetricProviderModule<K> & { spec: { type: K } } };

/** The module of a provider type, or undefined while canarykit has none for it. */
export function metricProviderModule(type: MetricProviderType): MetricProviderModule | undefined {
  return (METRIC_PROVIDERS as Partial<Record<MetricProviderType, MetricProviderModule>>)[type];
}
