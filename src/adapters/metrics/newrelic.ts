import { ConfigError } from '../../errors';
import { NEWRELIC_DEFAULT_ADDRESS, NEWRELIC_SPEC } from '../../model/metric-providers/newrelic';
import { JsonApi, baseAddress, field, intervalMillis } from './http-api';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/** Flagger's IsOnline query (pkg/metrics/providers/newrelic.go). */
export const NEWRELIC_ONLINE_QUERY = 'SELECT * FROM Metric';

/**
 * pkg/metrics/providers/newrelic.go: RunQuery is `GET <address>/v1/accounts/<account id>/query`
 * with `nrql=<query> SINCE <interval in whole seconds> seconds ago` and header X-Query-Key; the
 * answer must hold exactly one result with a `result` number. IsOnline runs `SELECT * FROM Metric`
 * the same way and wants HTTP 200. The template's `headers` are not sent (Flagger sends them to
 * Prometheus only).
 */
export const NEWRELIC: MetricProviderModule<'newrelic'> = {
  spec: NEWRELIC_SPEC,
  connect(provider, ctx): MetricSource {
    const address = baseAddress('newrelic', provider.address || NEWRELIC_DEFAULT_ADDRESS);
    // Flagger's order: the account id first, then the query key.
    const accountId = ctx.credentials.newrelic_account_id;
    if (accountId === undefined) throw new ConfigError(`newrelic credentials do not contain the key 'newrelic_account_id': ${ctx.credentialHint('newrelic_account_id')}`);
    const queryKey = ctx.credentials.newrelic_query_key;
    if (queryKey === undefined) throw new ConfigError(`newrelic credentials do not contain the key 'newrelic_query_key': ${ctx.credentialHint('newrelic_query_key')}`);
    // Go: int64(md.Seconds()), truncated to whole seconds.
    const since = Math.trunc(intervalMillis('newrelic', ctx.interval) / 1000);
    const api = new JsonApi({ type: 'newrelic', address, secrets: [queryKey], timeoutMs: ctx.timeoutMs, insecureSkipVerify: provider.insecureSkipVerify });
    const endpoint = `${address}/v1/accounts/${encodeURIComponent(accountId)}/query`;
    const get = (what: string, nrql: string) => {
      const url = new URL(endpoint);
      url.search = new URLSearchParams({ nrql: `${nrql} SINCE ${since} seconds ago` }).toString();
      return api.get(what, url, { 'X-Query-Key': queryKey });
    };
    return {
      address,
      async query(query) {
        const what = 'newrelic query';
        return pickNewRelicValue(api, what, await get(what, query));
      },
      async isOnline() {
        await get('newrelic Insights API check', NEWRELIC_ONLINE_QUERY);
      },
    };
  },
};

/**
 * Flagger's RunQuery value: `results` must hold exactly one entry, and its `result` (what NRQL
 * names an arithmetic expression's value) must be a number; anything else, a null result included,
 * is no data (ErrNoValuesFound).
 */
function pickNewRelicValue(api: JsonApi, what: string, answer: { status: number; body: string }): QueryValue {
  const body = api.json(what, answer);
  const bad = (why: string) => api.error(what, 'bad-response', `${why}: '${api.excerpt(answer)}'`, answer.status);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('the answer is not a JSON object');
  const results = field(body, 'results');
  if (results !== undefined && results !== null && !Array.isArray(results)) throw bad('results is not a list');
  if (!Array.isArray(results) || results.length !== 1) return { kind: 'no-data' };
  const first = results[0];
  if (first !== null && (typeof first !== 'object' || Array.isArray(first))) throw bad('a result is not an object');
  const value = field(first, 'result');
  if (value === undefined || value === null) return { kind: 'no-data' };
  if (typeof value !== 'number') throw bad('the result is not a number');
  return { kind: 'value', value };
}
