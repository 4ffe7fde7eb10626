import { MetricProviderSpec } from './spec';
import { httpAddressProblems } from './address-check';

/**
 * pkg/metrics/providers/influxdb.go NewInfluxdbProvider: the address must be a URL (an empty one
 * is refused, although Flagger's docs example has none); with a secretRef, the Secret must hold
 * `token` and `org`.
 */
export const INFLUXDB_SPEC: MetricProviderSpec<'influxdb'> = {
  type: 'influxdb',
  secretKeys: ['token', 'org'],
  validate(provider) {
    return httpAddressProblems('influxdb', provider.address, 'http://influxdb.monitoring:8086');
  },
};
