import { ConfigError } from '../../errors';
import { DATADOG_DEFAULT_ADDRESS, DATADOG_SPEC } from '../../model/metric-providers/datadog';
import { JsonApi, baseAddress, field, intervalMillis } from './http-api';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/** Flagger's `datadogFromDeltaMultiplierOnMetricInterval`: the query window is ten intervals. */
export const DATADOG_WINDOW_INTERVALS = 10;

/**
 * pkg/metrics/providers/datadog.go: RunQuery is `GET <address>/api/v1/query?query=&from=&to=`
 * (Unix seconds, from = to - 10 × interval) with headers DD-API-KEY and DD-APPLICATION-KEY, and
 * reads the first point of the first series; IsOnline is `GET <address>/api/v1/validate` with the
 * same headers and wants HTTP 200. The template's `headers` are not sent (Flagger sends them to
 * Prometheus only).
 */
export const DATADOG: MetricProviderModule<'datadog'> = {
  spec: DATADOG_SPEC,
  connect(provider, ctx): MetricSource {
    const address = baseAddress('datadog', provider.address || DATADOG_DEFAULT_ADDRESS);
    const apiKey = ctx.credentials.datadog_api_key;
    if (apiKey === undefined) throw new ConfigError(`datadog credentials do not contain datadog_api_key: ${ctx.credentialHint('datadog_api_key')}`);
    const appKey = ctx.credentials.datadog_application_key;
    if (appKey === undefined) throw new ConfigError(`datadog credentials do not contain datadog_application_key: ${ctx.credentialHint('datadog_application_key')}`);
    // Go: int64(10 * md.Seconds()), truncated to whole seconds.
    const fromDelta = Math.trunc((DATADOG_WINDOW_INTERVALS * intervalMillis('datadog', ctx.interval)) / 1000);
    const api = new JsonApi({ type: 'datadog', address, secrets: [apiKey, appKey], timeoutMs: ctx.timeoutMs, insecureSkipVerify: provider.insecureSkipVerify });
    const headers = { 'DD-API-KEY': apiKey, 'DD-APPLICATION-KEY': appKey };
    return {
      address,
      async query(query, at) {
        const now = Math.floor((at ?? new Date()).getTime() / 1000);
        const url = new URL(`${address}/api/v1/query`);
        // Go's url.Values.Encode orders the parameters by name.
        url.search = new URLSearchParams({ from: String(now - fromDelta), query, to: String(now) }).toString();
        const answer = await api.get('datadog query', url, headers);
        return pickDatadogValue(api, answer);
      },
      async isOnline() {
        await api.get('datadog API key validation', new URL(`${address}/api/v1/validate`), headers);
      },
    };
  },
};

/**
 * Flagger's RunQuery value: the first series (of several, e.g. one per `by{host}` group), its
 * first, oldest point (the newest bucket is often incomplete), the point's second element. No
 * series or no point is no data (ErrNoValuesFound). A `null` value is no data (Flagger reads 0: Go
 * decodes `null` into a float64; README "What differs").
 */
function pickDatadogValue(api: JsonApi, answer: { status: number; body: string }): QueryValue {
  const what = 'datadog query';
  const body = api.json(what, answer);
  const bad = (why: string) => api.error(what, 'bad-response', `${why}: '${api.excerpt(answer)}'`, answer.status);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('the answer is not a JSON object');
  const series = field(body, 'series');
  if (series === undefined || series === null) return { kind: 'no-data' };
  if (!Array.isArray(series)) throw bad('series is not a list');
  if (series.length < 1) return { kind: 'no-data' };
  const pointlist = field(series[0], 'pointlist');
  if (pointlist !== undefined && pointlist !== null && !Array.isArray(pointlist)) throw bad('pointlist is not a list');
  if (!Array.isArray(pointlist) || pointlist.length < 1) return { kind: 'no-data' };
  const point = pointlist[0];
  if (point === null) return { kind: 'no-data' };
  if (!Array.isArray(point)) throw bad('a point is not a [timestamp, value] pair');
  if (point.length < 1) return { kind: 'no-data' };
  if (point.length < 2) throw bad('the first point has no value');
  const value = point[1];
  // Go decodes null into 0, so Flagger passes a `max` bound on a missing bucket; canarykit reads no data.
  if (value === null) return { kind: 'no-data' };
  if (typeof value !== 'number') throw bad('the value is not a number');
  return { kind: 'value', value };
}
