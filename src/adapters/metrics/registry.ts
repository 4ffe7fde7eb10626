import { MetricProviderType } from '../../model/plan';
import { MetricProviderModule } from './source';
import { PROMETHEUS } from './prometheus';
import { INFLUXDB } from './influxdb';
import { DATADOG } from './datadog';
import { EXTERNALMETRICS } from './externalmetrics';
import { STACKDRIVER } from './stackdriver';
import { CLOUDWATCH } from './cloudwatch';
import { NEWRELIC } from './newrelic';
import { GRAPHITE } from './graphite';
import { DYNATRACE } from './dynatrace';
import { KEPTN } from './keptn';
import { SPLUNK } from './splunk';

/**
 * Every metrics provider canarykit queries, one line each; the type makes each key name its own
 * module. Flagger's factory (pkg/metrics/providers/factory.go) is the list to match.
 */
export const METRIC_PROVIDERS = {
  prometheus: PROMETHEUS,
  influxdb: INFLUXDB,
  datadog: DATADOG,
  externalmetrics: EXTERNALMETRICS,
  stackdriver: STACKDRIVER,
  cloudwatch: CLOUDWATCH,
  newrelic: NEWRELIC,
  graphite: GRAPHITE,
  dynatrace: DYNATRACE,
  keptn: KEPTN,
  splunk: SPLUNK,
} satisfies { [K in MetricProviderType]: MetricProviderModule<K> & { spec: { type: K } } };

/** The module of a provider type. */
export function metricProviderModule(type: MetricProviderType): MetricProviderModule | undefined {
  return (METRIC_PROVIDERS as Partial<Record<MetricProviderType, MetricProviderModule>>)[type];
}
