import { MetricProviderType } from '../plan';
import { MetricProviderSpec } from './spec';
import { PROMETHEUS_SPEC } from './prometheus';
import { SPLUNK_SPEC } from './splunk';
import { CLOUDWATCH_SPEC } from './cloudwatch';
import { STACKDRIVER_SPEC } from './stackdriver';
import { INFLUXDB_SPEC } from './influxdb';
import { GRAPHITE_SPEC } from './graphite';
import { DATADOG_SPEC } from './datadog';
import { NEWRELIC_SPEC } from './newrelic';
import { DYNATRACE_SPEC } from './dynatrace';

export type { MetricProviderSpec, ProviderProblem } from './spec';

/**
 * What synth knows of each metrics provider, one line each; the type makes each key name its own
 * spec. Flagger's factory (pkg/metrics/providers/factory.go) is the list to match.
 */
export const METRIC_PROVIDER_SPECS = {
  prometheus: PROMETHEUS_SPEC,
  splunk: SPLUNK_SPEC,
  cloudwatch: CLOUDWATCH_SPEC,
  stackdriver: STACKDRIVER_SPEC,
  influxdb: INFLUXDB_SPEC,
  graphite: GRAPHITE_SPEC,
  datadog: DATADOG_SPEC,
  newrelic: NEWRELIC_SPEC,
  dynatrace: DYNATRACE_SPEC,
} satisfies { [K in MetricProviderType]?: MetricProviderSpec<K> };

/** The spec of a provider type, or undefined while canarykit has none for it. */
export function metricProviderSpec(type: MetricProviderType): MetricProviderSpec | undefined {
  return (METRIC_PROVIDER_SPECS as Partial<Record<MetricProviderType, MetricProviderSpec>>)[type];
}
