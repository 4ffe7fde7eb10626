import { MetricProviderType } from '../plan';
import { MetricProviderSpec } from './spec';
import { PROMETHEUS_SPEC } from './prometheus';
import { INFLUXDB_SPEC } from './influxdb';
import { DATADOG_SPEC } from './datadog';
import { EXTERNALMETRICS_SPEC } from './externalmetrics';
import { STACKDRIVER_SPEC } from './stackdriver';
import { CLOUDWATCH_SPEC } from './cloudwatch';
import { NEWRELIC_SPEC } from './newrelic';
import { GRAPHITE_SPEC } from './graphite';
import { DYNATRACE_SPEC } from './dynatrace';
import { KEPTN_SPEC } from './keptn';
import { SPLUNK_SPEC } from './splunk';

export type { MetricProviderSpec, ProviderProblem } from './spec';

/**
 * What synth knows of each metrics provider, one line each; the type makes each key name its own
 * spec. Flagger's factory (pkg/metrics/providers/factory.go) is the list to match.
 */
export const METRIC_PROVIDER_SPECS = {
  prometheus: PROMETHEUS_SPEC,
  influxdb: INFLUXDB_SPEC,
  datadog: DATADOG_SPEC,
  externalmetrics: EXTERNALMETRICS_SPEC,
  stackdriver: STACKDRIVER_SPEC,
  cloudwatch: CLOUDWATCH_SPEC,
  newrelic: NEWRELIC_SPEC,
  graphite: GRAPHITE_SPEC,
  dynatrace: DYNATRACE_SPEC,
  keptn: KEPTN_SPEC,
  splunk: SPLUNK_SPEC,
} satisfies { [K in MetricProviderType]: MetricProviderSpec<K> };

/** The spec of a provider type. */
export function metricProviderSpec(type: MetricProviderType): MetricProviderSpec | undefined {
  return (METRIC_PROVIDER_SPECS as Partial<Record<MetricProviderType, MetricProviderSpec>>)[type];
}
