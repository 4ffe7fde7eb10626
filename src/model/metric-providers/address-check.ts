import type { MetricProviderPlan } from '../plan';
import type { ProviderProblem } from './spec';

/**
 * The problems synth can see in an HTTP API provider's settings (Datadog, New Relic, Dynatrace):
 * an address that is no http(s) URL (Flagger's request would fail every check), and a missing
 * secretRef where Flagger's constructor needs keys from the Secret (it gets none without one).
 */
export function apiProviderProblems(provider: MetricProviderPlan, keys: readonly string[], o: { example: string; addressRequired?: string }): ProviderProblem[] {
  const problems: ProviderProblem[] = [];
  const type = provider.type;
  if (provider.address === undefined || provider.address === '') {
    if (o.addressRequired) problems.push({ field: 'address', message: `is required for type ${type}: ${o.addressRequired}` });
  } else {
    const problem = urlProblem(provider.address);
    if (problem) problems.push({ field: 'address', message: `${problem} (type ${type}): write the API's base URL, e.g. ${o.example}` });
  }
  if (provider.secretRef === undefined || provider.secretRef === '') {
    problems.push({ field: 'secretRef', message: `is required for type ${type}: name a Secret in the template's namespace with ${keys.join(' and ')}; Flagger fails the check without it` });
  }
  return problems;
}

function urlProblem(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return `"${address.replace(/\/\/[^/@]*@/, '//***@')}" is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${url.origin}" is not an http or https URL`;
  if (url.username !== '' || url.password !== '') return `${url.protocol}//${url.host} must not embed credentials (they belong in the Secret)`;
  if (url.search !== '' || url.hash !== '') return `${url.origin}${url.pathname} must not carry a query or fragment (Flagger appends the API path to it)`;
  return undefined;
}
