import { MetricProviderSpec } from './spec';
import { apiProviderProblems } from './address-check';

/** pkg/metrics/providers/datadog.go: Flagger's default address when the template has none. */
export const DATADOG_DEFAULT_ADDRESS = 'https://api.datadoghq.com';

const KEYS = ['datadog_api_key', 'datadog_application_key'] as const;

/**
 * pkg/metrics/providers/datadog.go NewDatadogProvider: the address defaults to
 * https://api.datadoghq.com; the Secret must hold datadog_api_key and datadog_application_key.
 */
export const DATADOG_SPEC: MetricProviderSpec<'datadog'> = {
  type: 'datadog',
  secretKeys: KEYS,
  validate: (provider) => apiProviderProblems(provider, KEYS, { example: 'https://api.datadoghq.eu' }),
};
