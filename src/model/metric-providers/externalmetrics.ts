import { MetricProviderSpec, ProviderProblem } from './spec';

/**
 * What client-go's DefaultServerURL refuses of an address (NewExternalMetricsProvider fails with
 * it): an http(s) URL, or a host:port pair without a path. Credentials in the address would land
 * in git, so they are refused too.
 */
function addressProblem(address: string): string | undefined {
  const fix = 'write an http(s) URL such as https://external-metrics-server.default.svc:8443, or a host:port pair';
  if (address.trim() === '') return `is empty; ${fix}, or leave it out to ask the Kubernetes API server`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
  let url: URL;
  try {
    url = new URL(scheme ? address : `https://${address}`);
  } catch {
    return `"${address}" is not a URL or a host:port pair; ${fix}`;
  }
  if (scheme && url.protocol !== 'http:' && url.protocol !== 'https:') return `"${address}" must be an http or https URL; ${fix}`;
  if (url.host === '') return `"${address}" has no host; ${fix}`;
  if (!scheme && url.pathname !== '/' && url.pathname !== '') return `"${address}": a host:port pair takes no path (client-go: host must be a URL or a host:port pair); ${fix}`;
  if (url.username !== '' || url.password !== '') return `must not embed credentials (they would be committed to git): put the token in the Secret named by secretRef, key token`;
  return undefined;
}

/**
 * pkg/metrics/providers/externalmetrics.go NewExternalMetricsProvider: Flagger's rest config with
 * the template's address (optional), insecureSkipVerify and the Secret's `token` key; headers and
 * region are never read.
 */
export const EXTERNALMETRICS_SPEC: MetricProviderSpec<'externalmetrics'> = {
  type: 'externalmetrics',
  secretKeys: ['token'],
  validate(provider) {
    const problems: ProviderProblem[] = [];
    if (provider.address !== undefined) {
      const p = addressProblem(provider.address);
      if (p) problems.push({ field: 'address', message: p });
    }
    // headers and region are never read (as in Flagger) and accepted, so Flagger's YAML compiles unchanged.
    return problems;
  },
};
