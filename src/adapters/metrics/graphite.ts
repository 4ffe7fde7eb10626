import * as posixPath from 'node:path/posix';
import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { GRAPHITE_SPEC } from '../../model/metric-providers/graphite';
import { addressFault, maskedAddress } from '../../model/metric-providers/address-check';
import { parseGoFloat } from './go-float';
import { HttpAnswer, TransportFailure, exchange } from './http-exchange';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/** Flagger's IsOnline query (pkg/metrics/providers/graphite.go IsOnline). */
export const GRAPHITE_ONLINE_QUERY = 'target=test';

// ---------------------------------------------------------------------------------------------
// Go's net/url and strconv, as far as Flagger's graphite provider leans on them. Pure.
// ---------------------------------------------------------------------------------------------

/** graphite.go trimQuery: every run of Go's `\s` (`[\t\n\f\r ]`) becomes one space; nothing is trimmed. */
export function collapseGoWhitespace(query: string): string {
  return query.replace(/[\t\n\f\r ]+/g, ' ');
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]$/;

/** Go's url.QueryEscape of raw bytes: unreserved bytes kept, space as `+`, every other byte `%XX`. */
export function goQueryEscape(value: Buffer | string): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's url.QueryUnescape to raw bytes (`+` is a space); undefined where Go fails (a `%` without two hex digits). */
export function goQueryUnescape(text: string): Buffer | undefined {
  const raw = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 0x25) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(b === 0x2b ? 0x20 : b);
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------------------------
// The render API request and answer (graphite.go RunQuery). Pure.
// ---------------------------------------------------------------------------------------------

/** Why a query cannot be sent as Flagger would send it. */
export interface QueryProblem {
  readonly problem: string;
}

/**
 * graphite.go RunQuery's URL: the query (whitespace collapsed) is the render call's query string,
 * parsed as Go's url.Parse(`./render?<query>`) and url.Values do, `format=json` set, and re-encoded
 * with the keys sorted (url.Values.Encode); the path is the address's path joined with `render`.
 *
 * Where Go would drop a parameter silently (a `;` in it, or a bad `%` escape), canarykit refuses
 * the query instead of sending a different one.
 */
export function renderUrl(base: URL, query: string): string | QueryProblem {
  const collapsed = collapseGoWhitespace(query);
  if (/[\x00-\x1f\x7f]/.test(collapsed)) return { problem: 'the query holds a control character, which Flagger cannot send either (url.Parse: invalid control character in URL)' };
  // url.Parse: everything from the first '#' is a fragment, which never reaches the server.
  const hash = collapsed.indexOf('#');
  const beforeFragment = hash < 0 ? collapsed : collapsed.slice(0, hash);
  if (hash >= 0 && goQueryUnescape(collapsed.slice(hash + 1).replace(/\+/g, '%2B')) === undefined) {
    return { problem: 'the text after "#" holds a bad % escape (url.Parse fails); write # as %23' };
  }
  const values = new Map<string, { key: Buffer; values: Buffer[] }>();
  for (const pair of beforeFragment.split('&')) {
    if (pair.includes(';')) return { problem: `parameter "${pair}" holds a ";", which Flagger's Go URL parser drops without a word; write ; as %3B` };
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = goQueryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = goQueryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === undefined || value === undefined) return { problem: `parameter "${pair}" holds a % that is not followed by two hex digits, which Flagger's Go URL parser drops without a word; write % as %25` };
    const id = key.toString('latin1');
    const entry = values.get(id) ?? { key, values: [] };
    entry.values.push(value);
    values.set(id, entry);
  }
  values.set('format', { key: Buffer.from('format'), values: [Buffer.from('json')] });
  const encoded = [...values.values()]
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .flatMap((e) => e.values.map((v) => `${goQueryEscape(e.key)}=${goQueryEscape(v)}`))
    .join('&');
  return `${base.origin}${posixPath.join('/', base.pathname, 'render')}?${encoded}`;
}

/**
 * graphite.go RunQuery's pick: of every series (target) in order, every datapoint in order, the
 * **last** one whose value is not null. No series, or only null values: no data
 * (ErrNoValuesFound). What Go's json.Unmarshal into graphiteResponse refuses is a problem.
 * A NaN value (a `"nan"` string) counts as no data, as canarykit treats Prometheus' NaN.
 */
export function pickGraphiteValue(body: string): QueryValue | QueryProblem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { problem: 'the answer is not JSON' };
  }
  if (parsed === null) return { kind: 'no-data' };
  if (!Array.isArray(parsed)) return { problem: 'the answer is not a JSON array of series' };
  let value: number | undefined;
  for (const [i, series] of parsed.entries()) {
    if (series === null) continue;
    if (typeof series !== 'object' || Array.isArray(series)) return { problem: `series ${i} is not an object` };
    let datapoints: unknown = null;
    for (const [key, field] of Object.entries(series as Record<string, unknown>)) {
      // encoding/json matches field names case-insensitively; a later key wins.
      const name = key.toLowerCase();
      if (name === 'target' && field !== null && typeof field !== 'string') return { problem: `series ${i} has a target that is not a string` };
      if (name === 'datapoints') datapoints = field;
    }
    if (datapoints === null) continue;
    if (!Array.isArray(datapoints)) return { problem: `series ${i} has datapoints that are not a list` };
    for (const [j, point] of datapoints.entries()) {
      const read = readDatapoint(point);
      if (typeof read === 'string') return { problem: `series ${i} datapoint ${j}: ${read}` };
      if (read !== null) value = read;
    }
  }
  if (value === undefined || Number.isNaN(value)) return { kind: 'no-data' };
  return { kind: 'value', value };
}

/** graphiteDataPoint.UnmarshalJSON: `[value, timestamp]`; the value, null, or what is wrong. */
function readDatapoint(point: unknown): number | null | string {
  if (!Array.isArray(point) || point.length !== 2) return 'is not a [value, timestamp] pair';
  const [v, ts] = point as unknown[];
  if (ts !== null && typeof ts !== 'number') {
    if (typeof ts !== 'string' || !/^[+-]?\d+$/.test(ts) || BigInt(ts) > 2n ** 63n - 1n || BigInt(ts) < -(2n ** 63n)) return 'has a timestamp that is not a number';
  }
  if (typeof ts === 'number' && !Number.isFinite(ts)) return 'has a timestamp out of range';
  if (v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'has a value out of range';
  if (typeof v === 'string') return parseGoFloat(v) ?? 'has a value that is not a number';
  return 'has a value that is not a number';
}

// ---------------------------------------------------------------------------------------------
// The address (shared with the influxdb module).
// ---------------------------------------------------------------------------------------------

/**
 * A template's address as a base URL, for connect. @throws ConfigError when it is not an http(s)
 * URL, or embeds credentials (they would sit in git: the Secret holds them).
 */
export function baseAddress(type: string, address: string | undefined, secretKeys: string): URL {
  const text = address ?? '';
  const f = addressFault(text);
  if (f === undefined) return new URL(text);
  if (f.fault === 'not-a-url') throw new ConfigError(`${type} address "${maskedAddress(text)}" is not a valid URL`);
  // Credentials are named before the scheme, so that no message shows them.
  if (f.fault === 'credentials' || f.url.username !== '' || f.url.password !== '') {
    throw new ConfigError(`${type} address ${f.url.origin} must not embed credentials: put them in the Secret named by the template's secretRef (${secretKeys})`);
  }
  throw new ConfigError(`${type} address ${f.url.href} must be an http or https URL`);
}

// ---------------------------------------------------------------------------------------------
// The module.
// ---------------------------------------------------------------------------------------------

/**
 * pkg/metrics/providers/graphite.go: `GET <address>/render?<query>&format=json` with basic auth
 * from the Secret's `username` and `password` (when the template has a secretRef); the value is
 * the last non-null datapoint of the answer; IsOnline runs `target=test` and accepts no data.
 * Provider headers are not sent (Flagger's graphite provider ignores them).
 */
export const GRAPHITE: MetricProviderModule<'graphite'> = {
  spec: GRAPHITE_SPEC,
  connect(provider, ctx): MetricSource {
    const base = baseAddress('graphite', provider.address, 'keys username and password');
    let authorization: string | undefined;
    const secrets: string[] = [];
    if (provider.secretRef !== undefined) {
      // NewGraphiteProvider: "graphite credentials does not contain a username" (then password).
      for (const key of ['username', 'password']) {
        if (ctx.credentials[key] === undefined) throw new ConfigError(`graphite credentials do not contain a ${key}: ${ctx.credentialHint(key)}`);
      }
      const encoded = Buffer.from(`${ctx.credentials.username}:${ctx.credentials.password}`).toString('base64');
      authorization = `Basic ${encoded}`;
      secrets.push(ctx.credentials.password, encoded);
    }
    const address = base.href.replace(/\/$/, '');
    const fail = (kind: MetricsErrorKind, detail: string, status?: number): MetricsError =>
      new MetricsError(kind, redact(`graphite query to ${address} failed: ${detail}`, secrets), address, status);

    async function query(q: string): Promise<QueryValue> {
      const url = renderUrl(base, q);
      if (typeof url !== 'string') throw fail('bad-query', url.problem);
      let answer: HttpAnswer;
      try {
        answer = await exchange(url, { method: 'GET', headers: authorization ? { Authorization: authorization } : {} }, { timeoutMs: ctx.timeoutMs, insecureSkipVerify: provider.insecureSkipVerify });
      } catch (e) {
        if (e instanceof TransportFailure) throw fail(e.kind, e.message);
        throw e;
      }
      const { status, body } = answer;
      const note = truncationNote(body);
      // graphite.go: "error response: <body>" for any status from 400; the render API answers 400 to a target it cannot parse.
      if (status >= 400) throw fail(status === 400 ? 'bad-query' : 'http', `HTTP ${status}: ${excerpt(body.text, 300, secrets)}${note}`, status);
      if (body.truncated) throw fail('bad-response', `the answer is not a render result${note}`, status);
      const picked = pickGraphiteValue(body.text);
      if ('problem' in picked) throw fail('bad-response', `${picked.problem}: ${excerpt(body.text, 300, secrets)}`, status);
      return picked;
    }

    return {
      address,
      query: (q) => query(q),
      async isOnline() {
        try {
          await query(GRAPHITE_ONLINE_QUERY);
        } catch (e) {
          throw new Error(`running query failed: ${(e as Error).message}`);
        }
      },
    };
  },
};
