import type { MetricProviderPlan } from '../plan';
import type { ProviderProblem } from './spec';

/**
 * Fields of a MetricTemplate provider that Flagger's provider of its type never reads: canarykit
 * refuses them rather than ignore them silently (as it refuses a Canary field of another router).
 */
export function unreadFields(provider: MetricProviderPlan, fields: readonly (keyof MetricProviderPlan)[], why: string): ProviderProblem[] {
  return fields
    .filter((f) => provider[f] !== undefined && provider[f] !== false)
    .map((f) => ({ field: f, message: `is not read by type ${provider.type} (${why}); remove it` }));
}
