import { MetricProviderSpec, ProviderProblem } from './spec';
import { addressFault } from './address-check';

/** The Secret key holding the Splunk Observability access token (splunk.go signalFxTokenSecretKey). */
export const SPLUNK_TOKEN_KEY = 'sf_token_key';

/** Schemes an address may have: Flagger derives both the ws(s) stream and the http(s) API endpoint from it. */
const SCHEMES = ['http:', 'https:', 'ws:', 'wss:'];

/**
 * pkg/metrics/providers/splunk.go NewSplunkProvider (Splunk Observability, SignalFlow): refuses an
 * empty address and credentials without `sf_token_key`. Without a secretRef Flagger passes no
 * credentials at all, so that failure is known at synth; the key itself is read by the driver.
 */
export const SPLUNK_SPEC: MetricProviderSpec<'splunk'> = {
  type: 'splunk',
  secretKeys: [SPLUNK_TOKEN_KEY],
  validate(provider) {
    const problems: ProviderProblem[] = [];
    const address = provider.address ?? '';
    if (address === '') {
      problems.push({ field: 'address', message: 'is required for type splunk ("splunk endpoint is not set" in Flagger); set the realm API endpoint, e.g. https://api.us1.signalfx.com' });
    } else {
      const fault = addressFault(address, { schemes: SCHEMES });
      if (fault?.fault === 'not-a-url' || fault?.fault === 'scheme' || fault?.fault === 'no-host') {
        problems.push({ field: 'address', message: `must be a URL like https://api.<REALM>.signalfx.com or wss://stream.<REALM>.signalfx.com (got ${JSON.stringify(address)})` });
      } else if (fault?.fault === 'credentials') {
        problems.push({ field: 'address', message: `must not embed credentials; put the access token in key ${SPLUNK_TOKEN_KEY} of the secretRef Secret` });
      }
    }
    if (provider.secretRef === undefined) {
      problems.push({ field: 'secretRef', message: `is required for type splunk: name a Secret with key ${SPLUNK_TOKEN_KEY} (Flagger fails with "splunk credentials does not contain sf_token_key" without it)` });
    }
    return problems;
  },
};
