import type { MetricProviderPlan, MetricProviderType } from '../plan';

/** One problem with a template's provider, found at synth before anything is written. */
export interface ProviderProblem {
  /** Field under the MetricTemplate's `spec.provider`, e.g. `address`. */
  readonly field: string;
  /** What is wrong and the fix. */
  readonly message: string;
}

/**
 * What synth knows of one Flagger metrics provider (pkg/metrics/providers/<type>.go): the Secret
 * keys it reads and the settings its constructor refuses. Pure; its client is
 * src/adapters/metrics/<type>.ts.
 */
export interface MetricProviderSpec<T extends MetricProviderType = MetricProviderType> {
  readonly type: T;
  /** The Secret data keys Flagger's provider reads (`datadog_api_key`…), in its order. */
  readonly secretKeys: readonly string[];
  /** Problems synth reports for this provider (a required address, a bad URL…). */
  validate(provider: MetricProviderPlan): ProviderProblem[];
}
