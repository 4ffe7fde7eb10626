import type { MetricProviderPlan } from '../plan';
import type { ProviderProblem } from './spec';

/**
 * The one reading of a MetricTemplate provider's `address` at synth (issue 9, "one owner per
 * rule"): what is wrong with it as a URL, in a fixed order. Each spec words its own message (its
 * example, its fix, the Flagger error it stands for); this function only says which fault it is.
 */
export type AddressFault =
  /** WHATWG URL cannot parse it (Go's url.Parse of an empty or relative address: "is not a valid URL"). */
  | { readonly fault: 'not-a-url' }
  /** A scheme the provider cannot speak (Go parses it, every query fails: "unsupported protocol scheme"). */
  | { readonly fault: 'scheme'; readonly url: URL }
  /** No host to connect to. */
  | { readonly fault: 'no-host'; readonly url: URL }
  /** user:password@ in the address: it would sit in git; the Secret holds credentials. */
  | { readonly fault: 'credentials'; readonly url: URL }
  /** A query or fragment, where Flagger appends the API path to the address as text. */
  | { readonly fault: 'query-or-fragment'; readonly url: URL };

export interface AddressRules {
  /** Schemes allowed, with the colon (default `http:` and `https:`). */
  readonly schemes?: readonly string[];
  /** Refuse user:password@ (default true). */
  readonly credentials?: boolean;
  /** Refuse a query or fragment (default false). */
  readonly queryOrFragment?: boolean;
}

const HTTP_SCHEMES: readonly string[] = ['http:', 'https:'];

/** The first fault of `address` under `rules`, or undefined when it is a usable URL. */
export function addressFault(address: string, rules: AddressRules = {}): AddressFault | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return { fault: 'not-a-url' };
  }
  if (!(rules.schemes ?? HTTP_SCHEMES).includes(url.protocol)) return { fault: 'scheme', url };
  if (url.host === '') return { fault: 'no-host', url };
  if ((rules.credentials ?? true) && (url.username !== '' || url.password !== '')) return { fault: 'credentials', url };
  if (rules.queryOrFragment && (url.search !== '' || url.hash !== '')) return { fault: 'query-or-fragment', url };
  return undefined;
}

/** An address for a message, any user:password@ masked. */
export function maskedAddress(address: string): string {
  return address.replace(/\/\/[^/@]*@/, '//***@');
}

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
    const problem = apiUrlProblem(provider.address);
    if (problem) problems.push({ field: 'address', message: `${problem} (type ${type}): write the API's base URL, e.g. ${o.example}` });
  }
  if (provider.secretRef === undefined || provider.secretRef === '') {
    problems.push({ field: 'secretRef', message: `is required for type ${type}: name a Secret in the template's namespace with ${keys.join(' and ')}; Flagger fails the check without it` });
  }
  return problems;
}

function apiUrlProblem(address: string): string | undefined {
  const f = addressFault(address, { queryOrFragment: true });
  switch (f?.fault) {
    case undefined:
      return undefined;
    case 'not-a-url':
      return `"${maskedAddress(address)}" is not a URL`;
    case 'scheme':
    case 'no-host':
      return `"${f.url.origin}" is not an http or https URL`;
    case 'credentials':
      return `${f.url.protocol}//${f.url.host} must not embed credentials (they belong in the Secret)`;
    case 'query-or-fragment':
      return `${f.url.origin}${f.url.pathname} must not carry a query or fragment (Flagger appends the API path to it)`;
  }
}

/**
 * The address problems of a provider whose constructor parses the address as a URL (graphite,
 * influxdb): Flagger refuses an empty or unparseable address ("<type> address <a> is not a valid
 * URL"); an address that is not http(s) parses in Go but every query then fails ("unsupported
 * protocol scheme"), so synth refuses it as well.
 */
export function httpAddressProblems(type: string, address: string | undefined, example: string): ProviderProblem[] {
  if (address === undefined || address.trim() === '') {
    return [{ field: 'address', message: `is required for type ${type}; Flagger refuses the template without it (e.g. ${example})` }];
  }
  const f = addressFault(address, { credentials: false });
  if (f === undefined) return [];
  if (f.fault === 'not-a-url') {
    return [{ field: 'address', message: `${JSON.stringify(address)} is not a valid URL; write the full http(s) URL of the server (e.g. ${example})` }];
  }
  return [{ field: 'address', message: `${JSON.stringify(address)} must be an http or https URL (e.g. ${example}); Flagger's HTTP client cannot query ${f.url.protocol.slice(0, -1)}` }];
}
