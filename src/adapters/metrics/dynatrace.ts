import { ConfigError } from '../../errors';
import { DYNATRACE_SPEC } from '../../model/metric-providers/dynatrace';
import { JsonApi, baseAddress, field, intervalMillis } from './http-api';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/** Flagger's `dynatraceDeltaMultiplierOnMetricInterval`: the query window is ten intervals. */
export const DYNATRACE_WINDOW_INTERVALS = 10;

/**
 * pkg/metrics/providers/dynatrace.go: RunQuery is `GET <address>/api/v2/metrics/query` with
 * `metricSelector`, `resolution=Inf` and `from`/`to` in Unix milliseconds (to = now in whole
 * seconds, from = to - 10 × interval), header `Authorization: Api-Token <token>`, and reads the
 * first value of the last data series of the first result. IsOnline is
 * `GET <address>/api/v2/metrics?pageSize=1` and wants HTTP 200. The template's `headers` are not
 * sent (Flagger sends them to Prometheus only).
 */
export const DYNATRACE: MetricProviderModule<'dynatrace'> = {
  spec: DYNATRACE_SPEC,
  connect(provider, ctx): MetricSource {
    if (!provider.address) throw new ConfigError('dynatrace endpoint is not set: set the MetricTemplate\'s spec.provider.address to https://<environment-id>.live.dynatrace.com');
    const address = baseAddress('dynatrace', provider.address);
    const token = ctx.credentials.dynatrace_token;
    if (token === undefined) throw new ConfigError(`dynatrace credentials do not contain dynatrace_token: ${ctx.credentialHint('dynatrace_token')}`);
    // Go: 10 * md.Milliseconds(), whole milliseconds.
    const fromDelta = DYNATRACE_WINDOW_INTERVALS * Math.trunc(intervalMillis('dynatrace', ctx.interval));
    const api = new JsonApi({ type: 'dynatrace', address, secrets: [token], timeoutMs: ctx.timeoutMs, insecureSkipVerify: provider.insecureSkipVerify });
    const headers = { Authorization: `Api-Token ${token}` };
    return {
      address,
      async query(query, at) {
        // Go: time.Now().Unix() * 1000, so `to` is on a whole second.
        const now = Math.floor((at ?? new Date()).getTime() / 1000) * 1000;
        const url = new URL(`${address}/api/v2/metrics/query`);
        // Go's url.Values.Encode orders the parameters by name.
        url.search = new URLSearchParams({ from: String(now - fromDelta), metricSelector: query, resolution: 'Inf', to: String(now) }).toString();
        return pickDynatraceValue(api, await api.get('dynatrace query', url, headers));
      },
      async isOnline() {
        await api.get('dynatrace metrics API check', new URL(`${address}/api/v2/metrics?pageSize=1`), headers);
      },
    };
  },
};

/**
 * Flagger's RunQuery value: the first result (one per metric of the selector), the last of its
 * data series (one per dimension tuple), that series' first value (with resolution=Inf there is
 * one). No result, no data series or no value is no data (ErrNoValuesFound). A `null` value is no
 * data (Flagger reads 0: Go decodes `null` into a float64; README "What differs").
 */
function pickDynatraceValue(api: JsonApi, answer: { status: number; body: string }): QueryValue {
  const what = 'dynatrace query';
  const body = api.json(what, answer);
  const bad = (why: string) => api.error(what, 'bad-response', `${why}: '${api.excerpt(answer)}'`, answer.status);
  const list = (value: unknown, name: string): unknown[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw bad(`${name} is not a list`);
    return value;
  };
  const isObject = (v: unknown) => v === null || (typeof v === 'object' && !Array.isArray(v));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('the answer is not a JSON object');
  const results = list(field(body, 'result'), 'result');
  if (results.length < 1) return { kind: 'no-data' };
  if (!isObject(results[0])) throw bad('a result is not an object');
  const data = list(field(results[0], 'data'), 'data');
  if (data.length < 1) return { kind: 'no-data' };
  const series = data[data.length - 1];
  if (!isObject(series)) throw bad('a data series is not an object');
  const values = list(field(series, 'values'), 'values');
  if (values.length < 1) return { kind: 'no-data' };
  const value = values[0];
  // Go decodes null into 0, so Flagger passes a `max` bound on a missing bucket; canarykit reads no data.
  if (value === null) return { kind: 'no-data' };
  if (typeof value !== 'number') throw bad('the value is not a number');
  return { kind: 'value', value };
}
