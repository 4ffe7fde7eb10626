import { MetricProviderSpec, ProviderProblem } from './spec';

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

/**
 * Flagger refuses an empty or unparseable address ("<type> address <a> is not a valid URL"); an
 * address that is not http(s) parses in Go but every query then fails ("unsupported protocol
 * scheme"), so synth refuses it as well.
 */
export function httpAddressProblems(type: string, address: string | undefined, example: string): ProviderProblem[] {
  if (address === undefined || address.trim() === '') {
    return [{ field: 'address', message: `is required for type ${type}; Flagger refuses the template without it (e.g. ${example})` }];
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return [{ field: 'address', message: `${JSON.stringify(address)} is not a valid URL; write the full http(s) URL of the server (e.g. ${example})` }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return [{ field: 'address', message: `${JSON.stringify(address)} must be an http or https URL (e.g. ${example}); Flagger's HTTP client cannot query ${url.protocol.slice(0, -1)}` }];
  }
  return [];
}
