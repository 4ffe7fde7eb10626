import * as posixPath from 'node:path/posix';
import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { INFLUXDB_SPEC } from '../../model/metric-providers/influxdb';
import { baseAddress, goQueryEscape } from './graphite';
import { HttpAnswer, TransportFailure, exchange } from './http-exchange';
import { FluxValue, firstRecord } from './influxdb-csv';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/** Flagger's IsOnline query (pkg/metrics/providers/influxdb.go IsOnline). */
export const INFLUXDB_ONLINE_QUERY = 'from(bucket: "default") |> range(start: -2h)';

/**
 * influxdb-client-go v2.14.0's query URL: the server URL with a `/` appended, `api/v2/` resolved
 * against it (http.NewService), `query` path-joined to that and `org` as the only parameter
 * (queryAPI.queryURL). The address's own query string does not survive the resolution.
 */
export function influxQueryUrl(base: URL, org: string): string {
  return `${base.origin}${posixPath.join('/', base.pathname, 'api/v2/query')}?org=${goQueryEscape(org)}`;
}

/**
 * The JSON body QueryAPI.Query posts: Go's json.Marshal of queryBody with DefaultDialect()
 * (annotations datatype, group, default; delimiter `,`; header true) and type `flux`, in the
 * struct's field order. encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029, so Flux's `|>`
 * goes as `|\u003e`.
 */
export function influxQueryBody(query: string): string {
  const goString = (s: string) => JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `{"dialect":{"annotations":["datatype","group","default"],"delimiter":",","header":true},"query":${goString(query)},"type":"flux"}`;
}

/**
 * api/http/service.go parseHTTPError and Error.Error(): a JSON body's `code: message`; otherwise
 * the status line and the body; failing both, the X-Influxdb-Error header or Go's defaults.
 */
export function influxErrorText(answer: Pick<HttpAnswer, 'status' | 'statusText' | 'headers'> & { text: string }): string {
  const statusLine = `${answer.status} ${answer.statusText}`.trim();
  let code = '';
  let message = '';
  const contentType = (answer.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (contentType === 'application/json') {
    try {
      const parsed = JSON.parse(answer.text) as { code?: unknown; message?: unknown };
      code = typeof parsed.code === 'string' ? parsed.code : '';
      message = typeof parsed.message === 'string' ? parsed.message : '';
    } catch {
      // The Go client reports its JSON decoder's error instead.
      return `an application/json error body that is not JSON: ${answer.text}`;
    }
  } else {
    code = statusLine;
    message = answer.text;
  }
  if (code === '' && message === '') {
    if (answer.status === 429) [code, message] = ['too many requests', 'exceeded rate limit'];
    else if (answer.status === 503) [code, message] = ['unavailable', 'service temporarily unavailable'];
    else [code, message] = [statusLine, answer.headers.get('x-influxdb-error') ?? ''];
  }
  return code !== '' && message !== '' ? `${code}: ${message}` : `Unexpected status code ${answer.status}`;
}

function describeValue(value: Exclude<FluxValue, null>): string {
  return `${value.type} ${typeof value.value === 'string' ? JSON.stringify(value.value) : String(value.value)}`;
}

/**
 * pkg/metrics/providers/influxdb.go (influxdb-client-go v2 QueryAPI(org).Query): `POST
 * <address>/api/v2/query?org=<org>` with `Authorization: Token <token>` (when a token is set), a
 * JSON body asking for annotated CSV, and the answer's **first record**: its `_value` when that is
 * a double, no data when it is empty (ErrNoValuesFound), a bad query for any other type. An answer
 * without records is the value 0, as Flagger returns it. IsOnline runs
 * `from(bucket: "default") |> range(start: -2h)` and needs only a 2xx answer.
 * Provider headers and insecureSkipVerify are not used (Flagger's influxdb client has neither).
 */
export const INFLUXDB: MetricProviderModule<'influxdb'> = {
  spec: INFLUXDB_SPEC,
  connect(provider, ctx): MetricSource {
    const base = baseAddress('influxdb', provider.address, 'keys token and org');
    let token = '';
    let org = '';
    if (provider.secretRef !== undefined) {
      // NewInfluxdbProvider: "does not contain an authentication token", then "... an organisation".
      const secret = ctx.credentials;
      if (secret.token === undefined) throw new ConfigError(`influxdb credentials do not contain an authentication token: ${ctx.credentialHint('token')}`);
      if (secret.org === undefined) throw new ConfigError(`influxdb credentials do not contain an organisation: ${ctx.credentialHint('org')}`);
      [token, org] = [secret.token, secret.org];
    }
    const address = base.href.replace(/\/$/, '');
    const url = influxQueryUrl(base, org);
    const secrets = token ? [token] : [];
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Accept-Encoding': 'gzip', 'User-Agent': 'canarykit' };
    if (token) headers.Authorization = `Token ${token}`;
    const fail = (kind: MetricsErrorKind, detail: string, status?: number): MetricsError =>
      new MetricsError(kind, redact(`influxdb query to ${address} failed: ${detail}`, secrets), address, status);

    /** One POST; a non-2xx answer throws as the Go client's DoPostRequest fails. */
    async function post(query: string): Promise<HttpAnswer> {
      let answer: HttpAnswer;
      try {
        answer = await exchange(url, { method: 'POST', headers, body: influxQueryBody(query) }, { timeoutMs: ctx.timeoutMs });
      } catch (e) {
        if (e instanceof TransportFailure) throw fail(e.kind, e.message);
        throw e;
      }
      if (answer.status < 200 || answer.status >= 300) {
        // InfluxDB answers 400 ("invalid") to Flux it cannot compile.
        const text = influxErrorText({ ...answer, text: answer.body.text });
        throw fail(answer.status === 400 ? 'bad-query' : 'http', `HTTP ${answer.status}: ${excerpt(text, 300, secrets)}${truncationNote(answer.body)}`, answer.status);
      }
      return answer;
    }

    async function query(q: string): Promise<QueryValue> {
      const answer = await post(q);
      // A body cut by the cap still serves when its first record lies before the cut.
      const first = firstRecord(answer.body.text, !answer.body.truncated);
      switch (first.kind) {
        case 'end':
          // influxdb.go RunQuery returns `0, nil` after a result without records, so a `max` bound
          // passes on a query that matches nothing. canarykit reads it as no data (README "What differs").
          return { kind: 'no-data' };
        case 'query-error':
          throw fail('bad-query', `query error: ${excerpt(first.message, 300, secrets)}`, answer.status);
        case 'parse-error':
          throw fail('bad-response', `${first.message}${truncationNote(answer.body)}`, answer.status);
        case 'record': {
          const value = first.values.get('_value') ?? null;
          if (value === null) return { kind: 'no-data' };
          if (value.type !== 'double') {
            throw fail('bad-query', `invalid response: the first record's _value is a ${describeValue(value)}, not a double; end the Flux query with |> toFloat()`, answer.status);
          }
          return Number.isNaN(value.value) ? { kind: 'no-data' } : { kind: 'value', value: value.value };
        }
      }
    }

    return {
      address,
      query: (q) => query(q),
      async isOnline() {
        try {
          await post(INFLUXDB_ONLINE_QUERY);
        } catch (e) {
          throw new Error(`error accessing influxdb query api: ${(e as Error).message}`);
        }
      },
    };
  },
};
