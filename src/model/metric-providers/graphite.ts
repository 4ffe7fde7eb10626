import { MetricProviderSpec } from './spec';
import { httpAddressProblems } from './address-check';

/**
 * pkg/metrics/providers/graphite.go NewGraphiteProvider: the address must be a URL (an empty one is
 * refused too); with a secretRef, the Secret must hold `username` and `password` (basic auth).
 */
export const GRAPHITE_SPEC: MetricProviderSpec<'graphite'> = {
  type: 'graphite',
  secretKeys: ['username', 'password'],
  validate(provider) {
    return httpAddressProblems('graphite', provider.address, 'http://graphite.monitoring');
  },
};
