import { MetricProviderSpec } from './spec';
import { apiProviderProblems } from './address-check';

const KEYS = ['dynatrace_token'] as const;

/**
 * pkg/metrics/providers/dynatrace.go NewDynatraceProvider: the environment's address is required
 * ("dynatrace endpoint is not set"); the Secret must hold dynatrace_token.
 */
export const DYNATRACE_SPEC: MetricProviderSpec<'dynatrace'> = {
  type: 'dynatrace',
  secretKeys: KEYS,
  validate: (provider) =>
    apiProviderProblems(provider, KEYS, {
      example: 'https://<environment-id>.live.dynatrace.com',
      addressRequired: 'set it to the Dynatrace environment, e.g. https://<environment-id>.live.dynatrace.com; Flagger fails the check without it',
    }),
};
