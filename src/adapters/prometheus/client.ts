import { ConfigError, PrometheusError } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { MetricProviderPlan } from '../../model/plan';
import { addressFault, maskedAddress } from '../../model/metric-providers/address-check';
import { HttpAnswer, TransportFailure, exchange } from '../metrics/http-exchange';
import { QueryValue, Sample, collapseWhitespace, parseVector, queryUrl, singleValue } from './vector';

export type { QueryValue, Sample } from './vector';

/** Credentials for a Prometheus behind authentication (Flagger's secretRef keys). */
export type PrometheusCredentials =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string };

/** Environment variables the driver reads credentials from (Secret data never goes to git). */
export const PROMETHEUS_ENV = {
  token: 'CANARYKIT_PROMETHEUS_TOKEN',
  username: 'CANARYKIT_PROMETHEUS_USERNAME',
  password: 'CANARYKIT_PROMETHEUS_PASSWORD',
} as const;

/**
 * Reads Prometheus credentials from the environment: `CANARYKIT_PROMETHEUS_TOKEN` (Bearer), or
 * `CANARYKIT_PROMETHEUS_USERNAME` plus `CANARYKIT_PROMETHEUS_PASSWORD` (basic). Empty values count
 * as unset.
 * @returns undefined when none is set.
 * @throws ConfigError when only half of a basic pair is set, or both a token and a pair are set.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): PrometheusCredentials | undefined {
  const token = env[PROMETHEUS_ENV.token] || undefined;
  const username = env[PROMETHEUS_ENV.username] || undefined;
  const password = env[PROMETHEUS_ENV.password] || undefined;
  if (token !== undefined && (username !== undefined || password !== undefined)) {
    throw new ConfigError(
      `set either ${PROMETHEUS_ENV.token} or ${PROMETHEUS_ENV.username} and ${PROMETHEUS_ENV.password}, not both`,
    );
  }
  if (token !== undefined) return { type: 'bearer', token };
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) {
    const missing = username === undefined ? PROMETHEUS_ENV.username : PROMETHEUS_ENV.password;
    throw new ConfigError(`basic authentication for Prometheus needs ${missing} to be set as well`);
  }
  return { type: 'basic', username, password };
}

/** How to reach one Prometheus server. */
export interface PrometheusClientOptions {
  /** Base URL, e.g. `http://prometheus.monitoring:9090` (a path prefix is kept). */
  address: string;
  /** Extra request headers, Flagger's map of string lists (e.g. `X-Scope-OrgID`). */
  headers?: Record<string, string[]>;
  credentials?: PrometheusCredentials;
  /**
   * Accept any TLS certificate. To trust a private CA instead, start node with
   * `NODE_EXTRA_CA_CERTS=/path/ca.pem`.
   */
  insecureSkipVerify?: boolean;
  /** Whole-request timeout in milliseconds (Flagger: 5 s). */
  timeoutMs?: number;
}

/** One series of a range query. */
export interface RangeSeries {
  labels: Record<string, string>;
  points: { time: Date; value: number }[];
}


/** What metric checks and readiness need from a metrics backend. */
export interface MetricsClient {
  /** Server address without credentials, for messages. */
  readonly address: string;
  /** Runs an instant query the way Flagger does: the last series' value, or no data. */
  query(promql: string, at?: Date): Promise<QueryValue>;
  /** Runs an instant query and returns every series with its labels. */
  querySeries(promql: string, at?: Date): Promise<Sample[]>;
}

/** Flagger's prometheus provider default timeout. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Flagger's prometheus provider over Node's fetch: GET `<address>/api/v1/query`, whitespace
 * collapsed, `time=` when given, one timeout for the whole exchange.
 */
export class PrometheusClient implements MetricsClient {
  readonly address: string;
  private readonly base: URL;
  private readonly headers: Headers;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly insecureSkipVerify: boolean;

  /** @throws ConfigError when the address is not an http(s) URL or embeds credentials. */
  constructor(options: PrometheusClientOptions) {
    const fault = addressFault(options.address);
    if (fault?.fault === 'not-a-url') throw new ConfigError(`Prometheus address "${maskedAddress(options.address)}" is not a valid URL`);
    // Credentials are named before the scheme.
    if (fault !== undefined && (fault.url.username !== '' || fault.url.password !== '')) {
      throw new ConfigError(
        `Prometheus address ${fault.url.origin} must not embed credentials: set ${PROMETHEUS_ENV.token} or ` +
          `${PROMETHEUS_ENV.username}/${PROMETHEUS_ENV.password}`,
      );
    }
    if (fault !== undefined) throw new ConfigError(`Prometheus address "${maskedAddress(options.address)}" must be an http or https URL`);
    const base = new URL(options.address);
    this.base = base;
    this.address = base.href.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = new Headers();
    for (const [name, values] of Object.entries(options.headers ?? {})) {
      for (const value of values) this.headers.append(name, value);
    }
    this.secrets = [];
    const credentials = options.credentials;
    if (credentials?.type === 'bearer') {
      this.headers.set('Authorization', `Bearer ${credentials.token}`);
      this.secrets.push(credentials.token);
    } else if (credentials?.type === 'basic') {
      const encoded = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
      this.headers.set('Authorization', `Basic ${encoded}`);
      this.secrets.push(credentials.password, encoded);
    }
    // undici is loaded by the exchange, only for a server whose certificate is not checked.
    this.insecureSkipVerify = options.insecureSkipVerify === true;
  }

  async query(promql: string, at?: Date): Promise<QueryValue> {
    return singleValue(await this.querySeries(promql, at));
  }

  async querySeries(promql: string, at?: Date): Promise<Sample[]> {
    const { status, body } = await this.get(queryUrl(this.base, promql, at));
    const parsed = parseVector(body, this.secrets);
    if (!Array.isArray(parsed)) throw this.error(parsed.kind, parsed.message, status);
    return parsed;
  }

  /**
   * `GET /api/v1/query_range` (for `canarykit report`): every series of `promql` over
   * [start, end] every `stepSeconds`, NaN and infinite points dropped.
   */
  async queryRange(promql: string, start: Date, end: Date, stepSeconds: number): Promise<RangeSeries[]> {
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query_range`;
    url.search = new URLSearchParams({
      query: collapseWhitespace(promql),
      start: (start.getTime() / 1000).toFixed(3),
      end: (end.getTime() / 1000).toFixed(3),
      step: String(stepSeconds),
    }).toString();
    const { status, body } = await this.get(url);
    let parsed: { status?: string; data?: { resultType?: string; result?: { metric?: Record<string, string>; values?: [number, string][] }[] } };
    try {
      parsed = JSON.parse(body);
    } catch {
      throw this.error('bad-response', 'the answer is not JSON', status);
    }
    if (parsed.status !== 'success' || parsed.data?.resultType !== 'matrix' || !Array.isArray(parsed.data.result)) {
      throw this.error('bad-response', `expected a matrix (got ${parsed.data?.resultType ?? parsed.status})`, status);
    }
    return parsed.data.result.map((r) => ({
      labels: r.metric ?? {},
      points: (r.values ?? []).map(([t, v]) => ({ time: new Date(t * 1000), value: Number(v) })).filter((p) => Number.isFinite(p.value)),
    }));
  }

  /** One GET with the client's headers and timeout; HTTP errors become PrometheusErrors. */
  private async get(url: URL): Promise<{ status: number; body: string }> {
    let answer: HttpAnswer;
    try {
      // Capped: an endless or huge answer costs at most 1 MiB; the timeout also bounds its time.
      answer = await exchange(url, { headers: this.headers }, { timeoutMs: this.timeoutMs, insecureSkipVerify: this.insecureSkipVerify });
    } catch (err) {
      if (err instanceof TransportFailure) throw this.error(err.kind, err.message);
      throw err;
    }
    const { status } = answer;
    const body = answer.body.text;
    const note = truncationNote(answer.body);
    if (status >= 400) {
      // Prometheus answers 400 for unparseable PromQL and 422 for queries it cannot execute.
      const kind = status === 400 || status === 422 ? 'bad-query' : 'http';
      throw this.error(kind, `HTTP ${status}: ${excerpt(prometheusErrorText(body), 300, this.secrets)}${note}`, status);
    }
    if (note) throw this.error('bad-response', `the answer is not a query result${note}`, status);
    return { status, body };
  }

  private error(kind: PrometheusError['kind'], detail: string, status?: number): PrometheusError {
    return new PrometheusError(kind, this.redact(`Prometheus query to ${this.address} failed: ${detail}`), this.address, status);
  }

  // A proxy in front of Prometheus may echo request headers back in an error body.
  private redact(text: string): string {
    return redact(text, this.secrets);
  }
}

/**
 * A client for a metric's provider. Environment credentials go to the driver's own Prometheus
 * (`driverAddress`: the canary's metricsServer, or the `prometheus.address` override), which
 * answers readiness and built-in metrics, and to providers that name a secretRef; never to another
 * server that did not ask for them.
 * @throws ConfigError when the provider names a secretRef but no credentials are set, or the
 *   address is invalid.
 */
export function clientForProvider(
  provider: MetricProviderPlan & { address: string },
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; driverAddress?: string } = {},
): PrometheusClient {
  const env = options.env ?? process.env;
  let credentials: PrometheusCredentials | undefined;
  if (provider.secretRef !== undefined) {
    credentials = credentialsFromEnv(env);
    if (credentials === undefined) {
      throw new ConfigError(
        `metrics provider ${provider.address} uses secret "${provider.secretRef}": set ${PROMETHEUS_ENV.token}, ` +
          `or ${PROMETHEUS_ENV.username} and ${PROMETHEUS_ENV.password}`,
      );
    }
  } else if (options.driverAddress !== undefined && sameServer(provider.address, options.driverAddress)) {
    credentials = credentialsFromEnv(env);
  }
  return new PrometheusClient({
    address: provider.address,
    headers: provider.headers,
    credentials,
    insecureSkipVerify: provider.insecureSkipVerify,
    timeoutMs: options.timeoutMs,
  });
}

/** Two addresses name the same server and path (trailing slashes aside). */
function sameServer(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\/+$/, '');
  return norm(a) === norm(b);
}

function prometheusErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; errorType?: unknown };
    if (typeof parsed.error === 'string') {
      return typeof parsed.errorType === 'string' ? `${parsed.errorType}: ${parsed.error}` : parsed.error;
    }
  } catch {
    // Not JSON: a proxy's HTML or text page; show it as is.
  }
  return body;
}
