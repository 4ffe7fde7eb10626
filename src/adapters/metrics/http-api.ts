import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { metricIntervalMillis } from '../../go-duration';
import { addressFault, maskedAddress } from '../../model/metric-providers/address-check';
import { HttpAnswer, TransportFailure, exchange } from './http-exchange';

/**
 * What the HTTPS JSON metrics providers (Datadog, New Relic, Dynatrace) share: one GET with the
 * provider's key headers, Flagger's 5 s timeout (here the driver's), a capped body, and errors that
 * name the provider and address but never a key.
 */

/**
 * A metric interval (`1m`, `30s`, `1m30s`) in milliseconds, as Go's `time.ParseDuration` reads it
 * (Flagger's providers parse `metricInterval` so; src/go-duration.ts). @throws ConfigError for text
 * Go rejects, with Flagger's "error parsing metric interval".
 */
export function intervalMillis(type: string, interval: string): number {
  const ms = metricIntervalMillis(interval);
  if (ms === undefined) throw new ConfigError(`${type}: error parsing metric interval "${interval}": write a duration such as 1m or 30s`);
  return ms;
}

/**
 * The provider's base address: Flagger appends paths to it as text, so a trailing slash is dropped.
 * The faults are address-check.ts's (the spec's synth check); this wording is the driver's.
 */
export function baseAddress(type: string, address: string): string {
  const f = addressFault(address, { queryOrFragment: true });
  if (f === undefined) return new URL(address).href.replace(/\/+$/, '');
  switch (f.fault) {
    case 'not-a-url':
      throw new ConfigError(`${type} address "${maskedAddress(address)}" is not a valid URL`);
    case 'scheme':
    case 'no-host':
      throw new ConfigError(`${type} address "${f.url.origin}" must be an http or https URL`);
    case 'credentials':
      throw new ConfigError(`${type} address ${f.url.origin} must not embed credentials: put them in the provider's Secret`);
    case 'query-or-fragment':
      throw new ConfigError(`${type} address ${f.url.origin}${f.url.pathname} must not carry a query or fragment`);
  }
}

export interface JsonApiOptions {
  /** Provider type, for messages (`datadog`). */
  type: string;
  /** Base address without trailing slash, for messages. */
  address: string;
  /** Credentials sent in headers: removed from every message in every form. */
  secrets: readonly string[];
  timeoutMs: number;
  insecureSkipVerify?: boolean;
}

/** An answer with status 200 (Flagger's providers refuse every other status). */
export interface ApiAnswer {
  status: number;
  body: string;
}

/** One provider's GETs. */
export class JsonApi {
  constructor(private readonly o: JsonApiOptions) {}

  /**
   * GET `url` with `headers`. @throws MetricsError: `timeout`, `unreachable`, `bad-query` (HTTP
   * 400), `http` (any other status but 200, as Flagger's `StatusCode != http.StatusOK`) or
   * `bad-response` (a body over the cap). `what` starts the message (`datadog query`).
   */
  async get(what: string, url: URL, headers: Record<string, string>): Promise<ApiAnswer> {
    let answer: HttpAnswer;
    try {
      answer = await exchange(url, { method: 'GET', headers }, { timeoutMs: this.o.timeoutMs, insecureSkipVerify: this.o.insecureSkipVerify });
    } catch (e) {
      if (e instanceof TransportFailure) throw this.error(what, e.kind, e.message);
      throw e;
    }
    const { status } = answer;
    const body = answer.body.text;
    const note = truncationNote(answer.body);
    if (status !== 200) {
      throw this.error(what, status === 400 ? 'bad-query' : 'http', `HTTP ${status}: ${excerpt(body, 300, this.o.secrets)}${note}`, status);
    }
    if (note) throw this.error(what, 'bad-response', `the answer is not a query result${note}`, status);
    return { status, body };
  }

  /** Parses a 200 answer as JSON. @throws MetricsError `bad-response` (Flagger's "error unmarshaling result"). */
  json(what: string, answer: ApiAnswer): unknown {
    try {
      return JSON.parse(answer.body);
    } catch {
      throw this.error(what, 'bad-response', `error unmarshaling result: '${excerpt(answer.body, 200, this.o.secrets)}'`, answer.status);
    }
  }

  /** A MetricsError naming the provider and address, keys removed. */
  error(what: string, kind: MetricsErrorKind, detail: string, status?: number): MetricsError {
    return new MetricsError(kind, redact(`${what} to ${this.o.address} failed: ${detail}`, this.o.secrets), this.o.address, status);
  }

  /** The answer's text for a message (Flagger echoes the body), redacted and shortened. */
  excerpt(answer: ApiAnswer): string {
    return excerpt(answer.body, 200, this.o.secrets);
  }
}

/** A JSON value's property, when it is an object. */
export function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
