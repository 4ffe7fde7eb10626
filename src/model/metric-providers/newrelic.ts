import { MetricProviderSpec } from './spec';
import { apiProviderProblems } from './address-check';

/** pkg/metrics/providers/newrelic.go: the Insights API Flagger queries when the template has no address. */
export const NEWRELIC_DEFAULT_ADDRESS = 'https://insights-api.newrelic.com';

const KEYS = ['newrelic_account_id', 'newrelic_query_key'] as const;

/**
 * pkg/metrics/providers/newrelic.go NewNewRelicProvider: the address defaults to the Insights API;
 * the Secret must hold newrelic_account_id and newrelic_query_key.
 */
export const NEWRELIC_SPEC: MetricProviderSpec<'newrelic'> = {
  type: 'newrelic',
  secretKeys: KEYS,
  validate: (provider) => apiProviderProblems(provider, KEYS, { example: 'https://insights-api.eu.newrelic.com' }),
};
