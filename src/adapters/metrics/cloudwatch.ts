import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt } from '../../redact';
import { metricIntervalMillis } from '../../go-duration';
import { CLOUDWATCH_SPEC } from '../../model/metric-providers/cloudwatch';
import { addressFault } from '../../model/metric-providers/address-check';
import { MetricProviderModule, MetricSource, QueryValue } from './source';
import { AwsCredentialSource, awsCredentialChain } from './aws-credentials';
import { HttpAnswer, TransportFailure, exchange } from './http-exchange';

/**
 * pkg/metrics/providers/cloudwatch.go: GetMetricData with the template's query as the
 * MetricDataQueries, over [now - 10 x interval, now], MaxDatapoints 20, in `provider.region`; the
 * value is the first value of the first MetricDataResult.
 *
 * Wire protocol: AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`), one of
 * the protocols CloudWatch serves (the others: the Query protocol aws-sdk-go v1 used in Flagger, and
 * Smithy RPC v2 CBOR that the newest SDKs prefer). Requests are signed with AWS Signature Version 4
 * (the `aws4` package, loaded inside connect).
 */

/** Flagger's cloudWatchStartDeltaMultiplierOnMetricInterval. */
export const CLOUDWATCH_START_DELTA_MULTIPLIER = 10;
/** Flagger's GetMetricDataInput.MaxDatapoints. */
export const CLOUDWATCH_MAX_DATAPOINTS = 20;
/** Flagger's cloudWatchMaxRetries (the SDK retries throttling, 5xx and connection errors that often). */
export const CLOUDWATCH_MAX_RETRIES = 3;
export const CLOUDWATCH_TARGET = 'GraniteServiceVersion20100801.GetMetricData';
/** The signing name of CloudWatch (its endpoint prefix). */
const SERVICE = 'monitoring';

/** The endpoint environment variables canarykit reads (credentials: aws-credentials.ts). */
export const AWS_ENV = {
  endpoint: 'AWS_ENDPOINT_URL_CLOUDWATCH',
  endpointAll: 'AWS_ENDPOINT_URL',
  ignoreEndpoints: 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
} as const;

/** Go's zero time.Time (0001-01-01T00:00:00Z) in epoch seconds: Flagger's IsOnline window. */
export const GO_ZERO_TIME_EPOCH_SECONDS = -62135596800;

export const CLOUDWATCH: MetricProviderModule<'cloudwatch'> = {
  spec: CLOUDWATCH_SPEC,
  connect(provider, ctx): MetricSource {
    const region = provider.region?.trim();
    if (!region) throw new ConfigError('cloudwatch metric template: region not specified; set spec.provider.region of the MetricTemplate');
    const windowMs = CLOUDWATCH_START_DELTA_MULTIPLIER * parseInterval(ctx.interval);
    const credentials = awsCredentialChain(ctx.env, region, ctx.timeoutMs);
    const endpoint = cloudWatchEndpoint(region, ctx.env);
    const aws4 = require('aws4') as typeof import('aws4');
    const client = new CloudWatchClient(endpoint, region, credentials, ctx.timeoutMs, aws4, provider.insecureSkipVerify);
    return {
      address: client.address,
      async query(query, at): Promise<QueryValue> {
        let queries: unknown[];
        try {
          queries = parseMetricDataQueries(query);
        } catch (e) {
          throw client.error('bad-query', `error unmarshaling query: ${(e as Error).message}`);
        }
        const end = at ?? new Date();
        const start = new Date(end.getTime() - windowMs);
        const answer = await client.getMetricDataOrFail({
          MetricDataQueries: queries,
          StartTime: epochSeconds(start),
          EndTime: epochSeconds(end),
          MaxDatapoints: CLOUDWATCH_MAX_DATAPOINTS,
        });
        return firstValue(answer, client);
      },
      async isOnline() {
        // cloudwatch.go IsOnline: an empty query over Go's zero times; online when the call succeeds
        // or CloudWatch refuses it as a bad request (400), offline for any other failure (403…).
        try {
          await client.getMetricData({ MetricDataQueries: [], StartTime: GO_ZERO_TIME_EPOCH_SECONDS, EndTime: GO_ZERO_TIME_EPOCH_SECONDS });
        } catch (e) {
          if (e instanceof CloudWatchRequestError && e.status === 400 && !isAuthError(e.code)) return;
          if (e instanceof CloudWatchRequestError) throw new Error(`unexpected status code: ${e.status} ${e.code}: ${e.detail}`);
          throw new Error(`unexpected error: ${(e as Error).message}`);
        }
      },
    };
  },
};

/** Endpoint: AWS_ENDPOINT_URL_CLOUDWATCH, else AWS_ENDPOINT_URL (the SDKs' service-specific endpoints), else the regional one. */
export function cloudWatchEndpoint(region: string, env: NodeJS.ProcessEnv): string {
  const ignore = (env[AWS_ENV.ignoreEndpoints] ?? '').toLowerCase() === 'true';
  const configured = ignore ? undefined : env[AWS_ENV.endpoint] || env[AWS_ENV.endpointAll] || undefined;
  const address = configured ?? `https://${SERVICE}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
  const f = addressFault(address);
  if (f === undefined) return new URL(address).href.replace(/\/+$/, '');
  if (f.fault === 'not-a-url') {
    throw new ConfigError(`cloudwatch endpoint ${JSON.stringify(address)} (from ${env[AWS_ENV.endpoint] ? AWS_ENV.endpoint : AWS_ENV.endpointAll}) is not a valid URL`);
  }
  if (f.fault === 'credentials') throw new ConfigError(`cloudwatch endpoint ${f.url.host} must not embed credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  throw new ConfigError(`cloudwatch endpoint ${f.url.origin} must be an http or https URL`);
}

/** A Go duration (`1m`, `30s`, `1m30s`, `500ms`) in milliseconds, as time.ParseDuration reads it (src/go-duration.ts). */
function parseInterval(text: string): number {
  const ms = metricIntervalMillis(text);
  if (ms === undefined) throw new ConfigError(`cloudwatch: error parsing metric interval: invalid duration ${JSON.stringify(text)}`);
  return ms;
}

/** Epoch seconds with millisecond precision (AWS JSON timestamps). */
function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}

// ---- the query: Go's json.Unmarshal into []*cloudwatch.MetricDataQuery -------------------------

type Shape = 'string' | 'int' | 'bool' | { object: Record<string, Shape> } | { list: Shape };

const DIMENSION: Shape = { object: { Name: 'string', Value: 'string' } };
const METRIC: Shape = { object: { Dimensions: { list: DIMENSION }, MetricName: 'string', Namespace: 'string' } };
const METRIC_STAT: Shape = { object: { Metric: METRIC, Period: 'int', Stat: 'string', Unit: 'string' } };
const METRIC_DATA_QUERY: Shape = {
  object: { AccountId: 'string', Expression: 'string', Id: 'string', Label: 'string', MetricStat: METRIC_STAT, Period: 'int', ReturnData: 'bool' },
};

/**
 * The template's query as GetMetricData's MetricDataQueries, read as Flagger's json.Unmarshal does:
 * field names match case-insensitively, unknown fields are dropped, nulls leave a field unset, and
 * a wrong type is an error.
 * @throws Error saying what cannot be read (Flagger: "error unmarshaling query").
 */
export function parseMetricDataQueries(query: string): unknown[] {
  const parsed = JSON.parse(query) as unknown;
  if (parsed === null) return [];
  return conform(parsed, { list: METRIC_DATA_QUERY }, 'query') as unknown[];
}

function conform(value: unknown, shape: Shape, at: string): unknown {
  if (shape === 'string' || shape === 'int' || shape === 'bool') {
    const ok = shape === 'string' ? typeof value === 'string' : shape === 'bool' ? typeof value === 'boolean' : Number.isInteger(value);
    if (!ok) throw new Error(`${at}: cannot read ${JSON.stringify(value)} as ${shape === 'int' ? 'an integer' : `a ${shape}`}`);
    return value;
  }
  if ('list' in shape) {
    if (!Array.isArray(value)) throw new Error(`${at}: cannot read ${describe(value)} as a list`);
    return value.map((v, i) => (v === null ? {} : conform(v, shape.list, `${at}[${i}]`)));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${at}: cannot read ${describe(value)} as an object`);
  const out: Record<string, unknown> = {};
  const fields = Object.keys(shape.object);
  const entries = Object.entries(value as Record<string, unknown>);
  for (const field of fields) {
    // Go prefers an exact name, then any case-insensitive one (the last one written wins).
    const exact = entries.filter(([k]) => k === field);
    const folded = exact.length > 0 ? exact : entries.filter(([k]) => k.toLowerCase() === field.toLowerCase());
    const hit = folded[folded.length - 1];
    if (!hit || hit[1] === null) continue;
    out[field] = conform(hit[1], shape.object[field], `${at}.${field}`);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : JSON.stringify(value);
}

// ---- the answer -------------------------------------------------------------------------------

interface GetMetricDataOutput {
  MetricDataResults?: { Id?: string; Label?: string; Values?: unknown[]; StatusCode?: string }[];
}

/** cloudwatch.go RunQuery: MetricDataResults[0].Values[0]; no result or no value is no data. */
function firstValue(answer: GetMetricDataOutput, client: CloudWatchClient): QueryValue {
  const results = answer.MetricDataResults;
  if (results !== undefined && !Array.isArray(results)) throw client.error('bad-response', 'MetricDataResults is not a list', 200);
  if (!results || results.length < 1) return { kind: 'no-data' };
  const values = results[0]?.Values;
  if (values !== undefined && values !== null && !Array.isArray(values)) throw client.error('bad-response', 'MetricDataResults[0].Values is not a list', 200);
  if (!values || values.length < 1) return { kind: 'no-data' };
  const value = awsDouble(values[0]);
  if (value === undefined) throw client.error('bad-response', `MetricDataResults[0].Values[0] is not a number (${excerpt(JSON.stringify(values[0]), 80)})`, 200);
  return { kind: 'value', value };
}

/** An AWS JSON double: a number, or the strings NaN, Infinity, -Infinity. */
function awsDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return undefined;
}

// ---- the client -------------------------------------------------------------------------------

/** CloudWatch answered an error (HTTP status, its error code and message, redacted). */
class CloudWatchRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`HTTP ${status} ${code}: ${detail}`);
  }
}

/** Error codes of a request AWS did not authenticate or authorize (Flagger's IsOnline "forbidden"). */
function isAuthError(code: string): boolean {
  return /AccessDenied|UnrecognizedClient|InvalidClientTokenId|InvalidSignature|SignatureDoesNotMatch|IncompleteSignature|MissingAuthenticationToken|ExpiredToken|NotAuthorized|MissingAction/i.test(code);
}

/** Error codes the AWS SDKs retry (throttling and transient server faults). */
function isRetryableCode(code: string): boolean {
  return /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable|InternalFailure|RequestTimeout/i.test(code);
}

class CloudWatchClient {
  readonly address: string;
  private readonly url: URL;
  constructor(
    endpoint: string,
    private readonly region: string,
    private readonly credentials: AwsCredentialSource,
    private readonly timeoutMs: number,
    private readonly aws4: typeof import('aws4'),
    private readonly insecureSkipVerify?: boolean,
  ) {
    this.url = new URL(endpoint);
    this.address = endpoint;
  }

  /**
   * One GetMetricData call, retried up to `retries` times on throttling, 5xx and connection errors
   * as the SDK's retryer does (Flagger sets 3). @throws CloudWatchRequestError when CloudWatch
   * answered an error after the retries, MetricsError when it could not be reached or read.
   */
  async getMetricData(input: Record<string, unknown>, retries = CLOUDWATCH_MAX_RETRIES): Promise<GetMetricDataOutput> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(JSON.stringify(input), deadline);
      } catch (e) {
        const retryable = e instanceof CloudWatchRequestError ? e.status >= 500 || isRetryableCode(e.code) : e instanceof MetricsError && e.kind === 'unreachable';
        const pause = Math.min(50 * 2 ** attempt, 1000);
        if (!retryable || attempt >= retries || Date.now() + pause >= deadline) throw e;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  /** A GetMetricData call whose HTTP errors become MetricsErrors (queries). */
  async getMetricDataOrFail(input: Record<string, unknown>): Promise<GetMetricDataOutput> {
    try {
      return await this.getMetricData(input);
    } catch (e) {
      if (!(e instanceof CloudWatchRequestError)) throw e;
      let kind: MetricsErrorKind = 'http';
      if (e.status === 400 && !isAuthError(e.code) && !isRetryableCode(e.code)) kind = 'bad-query';
      throw this.error(kind, `error requesting cloudwatch: ${e.message}`, e.status);
    }
  }

  /** Secrets to mask: the secret key and session token (temporary ones too, once fetched). */
  private get secrets(): string[] {
    return this.credentials.secrets;
  }

  private async send(body: string, deadline: number): Promise<GetMetricDataOutput> {
    const credentials = await this.credentials.get();
    const path = this.url.pathname === '' ? '/' : this.url.pathname;
    const signed = this.aws4.sign(
      {
        host: this.url.host,
        path,
        method: 'POST',
        service: SERVICE,
        region: this.region,
        body,
        headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': CLOUDWATCH_TARGET },
      },
      { ...credentials },
    );
    const headers = new Headers();
    for (const [name, value] of Object.entries(signed.headers ?? {})) {
      // fetch sets Host and Content-Length itself, to the same values aws4 signed.
      if (value === undefined || /^(host|content-length)$/i.test(name)) continue;
      headers.set(name, String(value));
    }
    const remaining = Math.max(1, deadline - Date.now());
    let answer: HttpAnswer;
    try {
      answer = await exchange(new URL(path, this.url), { method: 'POST', headers, body }, { timeoutMs: remaining, insecureSkipVerify: this.insecureSkipVerify });
    } catch (err) {
      if (!(err instanceof TransportFailure)) throw err;
      // The signal had what was left of the call's deadline; the message names the whole timeout.
      throw this.error(err.kind, err.kind === 'timeout' ? `no answer within ${this.timeoutMs} ms` : err.message);
    }
    const { status } = answer;
    const text = answer.body.text;
    const note = truncationNote(answer.body);
    if (status >= 400) {
      const { code, message } = awsError(text, answer.headers.get('x-amzn-query-error'));
      throw new CloudWatchRequestError(status, code, `${excerpt(message, 300, this.secrets)}${note}`);
    }
    if (note) throw this.error('bad-response', `the answer is not a GetMetricData result${note}`, status);
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as GetMetricDataOutput;
    } catch {
      throw this.error('bad-response', `the answer is not JSON: ${excerpt(text, 200, this.secrets)}`, status);
    }
  }

  error(kind: MetricsErrorKind, detail: string, status?: number): MetricsError {
    return new MetricsError(kind, excerpt(`cloudwatch query to ${this.address} (region ${this.region}, ${this.credentials.describe}) failed: ${detail}`, 600, this.secrets), this.address, status);
  }
}

/** An AWS JSON error body (`{"__type": "...#Code", "message": "..."}`), or the Query-compatible header `Code;Sender`. */
function awsError(body: string, queryError: string | null): { code: string; message: string } {
  let code = queryError?.split(';')[0] ?? '';
  let message = body;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const type = typeof parsed.__type === 'string' ? parsed.__type : typeof parsed.code === 'string' ? parsed.code : '';
    if (!code) code = type.split('#').pop()?.split(':')[0] ?? '';
    const m = parsed.message ?? parsed.Message;
    if (typeof m === 'string') message = m;
  } catch {
    // Not JSON (a proxy's page): shown as is, redacted and shortened.
  }
  return { code: code || 'UnknownError', message };
}
