import { MetricProviderSpec } from './spec';

/** pkg/metrics/providers/prometheus.go NewPrometheusProvider: an address is required. */
export const PROMETHEUS_SPEC: MetricProviderSpec<'prometheus'> = {
  type: 'prometheus',
  secretKeys: ['username', 'password', 'token'],
  validate(provider) {
    return provider.address ? [] : [{ field: 'address', message: 'is required for type prometheus; Flagger fails the check without it' }];
  },
};
