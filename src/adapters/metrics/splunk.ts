import * as path from 'path';
import type { WebSocket as UndiciWebSocket } from 'undici';
import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { LIMITS } from '../../limits';
import { excerpt, redact } from '../../redact';
import { metricIntervalMillis } from '../../go-duration';
import { SPLUNK_SPEC, SPLUNK_TOKEN_KEY } from '../../model/metric-providers/splunk';
import { HttpAnswer, TransportFailure, exchange } from './http-exchange';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/** splunk.go signalFxSignalFlowApiPath and signalFxValidationPath. */
const SIGNALFLOW_PATH = '/v2/signalflow';
const VALIDATION_PATH = '/v2/metric?limit=1';
/** splunk.go signalFxTokenHeaderKey: the header IsOnline sends the token in. */
export const SPLUNK_TOKEN_HEADER = 'X-SF-Token';
/** splunk.go signalFxFromDeltaMultiplierOnMetricInterval: a query reads ten metric intervals back. */
export const SPLUNK_WINDOW_INTERVALS = 10;
/** The channel name signalflow-client-go gives the first computation of a connection. */
export const SPLUNK_CHANNEL = 'ch-1';
/** All bytes one computation may send (data and JSON messages together). */
const MAX_COMPUTATION_BYTES = 8 * LIMITS.responseBytes;

/**
 * The endpoints Flagger derives from a MetricTemplate's address, by the same two string
 * replacements (splunk.go NewSplunkProvider): the first "http" becomes "ws" and the first "api"
 * "stream" for the SignalFlow stream; the first "ws" becomes "http" and the first "stream" "api"
 * for IsOnline. `https://api.us1.signalfx.com` and `wss://stream.us1.signalfx.com` name the same
 * realm. The client connects to the stream URL's path joined with `connect`
 * (signalflow-client-go conn.go).
 */
export function splunkEndpoints(address: string): { stream: string; connect: string; validation: string } {
  const stream = (address + SIGNALFLOW_PATH).replace('http', 'ws').replace('api', 'stream');
  const validation = (address + VALIDATION_PATH).replace('ws', 'http').replace('stream', 'api');
  const url = new URL(stream);
  url.pathname = path.posix.join(url.pathname, 'connect');
  return { stream, connect: url.href, validation };
}

/** A metric interval in whole milliseconds (Go's time.ParseDuration, src/go-duration.ts); undefined when Go would refuse it. */
export function intervalMillis(text: string): number | undefined {
  const ms = metricIntervalMillis(text);
  return ms === undefined ? undefined : Math.trunc(ms);
}

/** signalflow-client-go messages.ValType: how a data point's 8 value bytes are read. */
export const VALUE_TYPE = { long: 1, double: 2, int: 3 } as const;

/** One data point of a binary data message: its time series (tsid, 8 bytes) and value. */
export interface DataPoint {
  readonly tsid: bigint;
  /** undefined for a type signalflow-client-go has no reading for (DataPayload.Value() nil: no value). */
  readonly value: number | undefined;
}

/** A decoded binary WebSocket message: a data batch of one channel, or a JSON message sent in binary. */
export type BinaryMessage =
  | { kind: 'data'; channel: string; timestampMs: bigint; points: DataPoint[] }
  | { kind: 'json'; channel: string; text: string }
  | { kind: 'other'; channel: string; type: number };

/**
 * The binary encoding of SignalFlow WebSocket messages (signalflow-client-go messages/binary.go):
 * a 20-byte header (version, message type, flags, reserved, 16-byte NUL-padded channel), then the
 * body, gzip-compressed when flag bit 0 is set and JSON when flag bit 1 is. A data batch (type 5)
 * is an 8-byte timestamp, a 4-byte point count and 17 bytes per point: value type, tsid, value,
 * all big-endian. Versions 2 and 3 put an 8-byte max delay after the timestamp (the SignalFx Python
 * client reads them so; the Go client Flagger uses knows version 1 only).
 * @throws Error for a message too short for what it declares.
 */
export function decodeBinaryMessage(bytes: Uint8Array, gunzip: (b: Uint8Array) => Uint8Array): BinaryMessage {
  if (bytes.byteLength <= 20) throw new Error(`expected a SignalFlow message of at least 21 bytes, got ${bytes.byteLength}`);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = header.readUInt8(0);
  const type = header.readUInt8(1);
  const flags = header.readUInt8(2);
  const raw = header.subarray(4, 20);
  const nul = raw.indexOf(0);
  const channel = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
  let body = header.subarray(20);
  if (flags & 1) body = Buffer.from(gunzip(body));
  if (flags & 2) return { kind: 'json', channel, text: body.toString('utf8') };
  if (type !== 5) return { kind: 'other', channel, type };
  const headerBytes = version >= 2 ? 20 : 12;
  if (body.length < headerBytes) throw new Error(`data message of ${body.length} bytes has no complete header`);
  const timestampMs = body.readBigUInt64BE(0);
  const count = body.readUInt32BE(headerBytes - 4);
  if (body.length < headerBytes + 17 * count) throw new Error(`data message declares ${count} points but holds ${Math.floor((body.length - headerBytes) / 17)}`);
  const points: DataPoint[] = [];
  for (let i = 0; i < count; i++) {
    const at = headerBytes + 17 * i;
    const valueType = body.readUInt8(at);
    const tsid = body.readBigInt64BE(at + 1);
    const v = at + 9;
    const value =
      valueType === VALUE_TYPE.long ? Number(body.readBigInt64BE(v))
      : valueType === VALUE_TYPE.double ? body.readDoubleBE(v)
      // DataPayload.Int32 reads the first four of the eight value bytes.
      : valueType === VALUE_TYPE.int ? body.readInt32BE(v)
      : undefined;
    points.push({ tsid, value });
  }
  return { kind: 'data', channel, timestampMs, points };
}

/**
 * splunk.go RunQuery's reduction: points without a value are dropped; none left is no data
 * (ErrNoValuesFound); more than one time series is an error (ErrMultipleValuesReturned); else the
 * last point received. A NaN there is no data too (Flagger would return it, and NaN passes every
 * threshold comparison).
 */
export function reducePoints(points: readonly DataPoint[]): QueryValue | { kind: 'multiple'; series: number } {
  const valued = points.filter((p) => p.value !== undefined);
  if (valued.length === 0) return { kind: 'no-data' };
  const series = new Set(valued.map((p) => p.tsid)).size;
  if (series > 1) return { kind: 'multiple', series };
  const value = valued[valued.length - 1].value as number;
  return Number.isNaN(value) ? { kind: 'no-data' } : { kind: 'value', value };
}

interface SplunkOptions {
  address: string;
  token: string;
  windowMs: number;
  timeoutMs: number;
}

/** A JSON message of the SignalFlow WebSocket protocol, as far as this client reads it. */
interface JsonMessage {
  type?: unknown;
  channel?: unknown;
  event?: unknown;
  error?: unknown;
  errorType?: unknown;
  message?: unknown;
}

/**
 * pkg/metrics/providers/splunk.go over undici's WebSocket, speaking signalflow-client-go's
 * protocol: connect to `<stream>/connect`, send `authenticate` with the token, `execute` the
 * program over [now - 10 intervals, now] with `immediate`, collect the data batches of its channel
 * until END_OF_CHANNEL, then reduce them as RunQuery does. One timeout bounds the whole exchange
 * and closes the socket.
 */
class SplunkSource implements MetricSource {
  readonly address: string;
  private readonly endpoints: ReturnType<typeof splunkEndpoints>;

  constructor(
    private readonly o: SplunkOptions,
    private readonly WebSocketImpl: typeof UndiciWebSocket,
    private readonly gunzip: (b: Uint8Array) => Uint8Array,
  ) {
    this.endpoints = splunkEndpoints(o.address);
    this.address = this.endpoints.stream;
  }

  async query(program: string, at?: Date): Promise<QueryValue> {
    const stop = (at ?? new Date()).getTime();
    const points = await this.execute(program, stop - this.o.windowMs, stop);
    const reduced = reducePoints(points);
    if (reduced.kind === 'multiple') {
      throw this.error('bad-response', `invalid response: query returned multiple values (${reduced.series} time series); the program must publish one`);
    }
    return reduced;
  }

  /** splunk.go IsOnline: GET `<api>/v2/metric?limit=1` with the token in X-SF-Token; only HTTP 200 is online. */
  async isOnline(): Promise<void> {
    const url = this.endpoints.validation;
    let answer: HttpAnswer;
    try {
      answer = await exchange(url, { headers: { [SPLUNK_TOKEN_HEADER]: this.o.token } }, { timeoutMs: this.o.timeoutMs });
    } catch (err) {
      if (!(err instanceof TransportFailure)) throw err;
      throw this.onlineError(err.kind, `request to ${url} failed: ${err.kind === 'timeout' ? err.message : err.reason}`);
    }
    const { status } = answer;
    const text = answer.body.text;
    const note = truncationNote(answer.body);
    if (status !== 200) {
      const body = excerpt(text, 300, [this.o.token]);
      throw this.onlineError('http', `error response from ${url}: HTTP ${status}${body ? `: ${body}` : ''}${note}`, status);
    }
  }

  private execute(program: string, startMs: number, stopMs: number): Promise<DataPoint[]> {
    return new Promise((resolve, reject) => {
      const points: DataPoint[] = [];
      let received = 0;
      let opened = false;
      let settled = false;
      let transportError: string | undefined;
      const ws = new this.WebSocketImpl(this.endpoints.connect);
      ws.binaryType = 'arraybuffer';

      const finish = (error?: MetricsError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          ws.close(1000);
        } catch {
          // Already closing.
        }
        if (error) reject(error);
        else resolve(points);
      };
      const timer = setTimeout(() => finish(this.error('timeout', `no end of the computation within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);

      const onJson = (text: string): void => {
        let m: JsonMessage;
        try {
          m = JSON.parse(text) as JsonMessage;
        } catch {
          finish(this.error('bad-response', `a message is not JSON: ${excerpt(text, 200, [this.o.token])}`));
          return;
        }
        if (m === null || typeof m !== 'object') return;
        if (m.type === 'authenticated') {
          // signalflow-client-go requests.go ExecuteRequest, its fields in its order.
          ws.send(JSON.stringify({ type: 'execute', program, channel: SPLUNK_CHANNEL, start: startMs, stop: stopMs, resolution: 0, maxDelay: 0, immediate: true, timezone: '' }));
        } else if (m.type === 'error') {
          // computation.go ComputationError: "<code> (<errorType>): <message>". Without a channel the connection itself was refused (authentication).
          const code = typeof m.error === 'number' ? m.error : undefined;
          const detail = [code !== undefined ? String(code) : undefined, typeof m.errorType === 'string' && m.errorType ? `(${m.errorType})` : undefined].filter(Boolean).join(' ');
          const said = typeof m.message === 'string' ? excerpt(m.message, 300, [this.o.token]) : '';
          const what = `${detail}${detail && said ? ': ' : ''}${said}` || 'no details';
          if (m.channel === SPLUNK_CHANNEL) {
            const kind: MetricsErrorKind = code === undefined || code === 400 ? 'bad-query' : 'http';
            finish(this.error(kind, `error executing query: ${what}`, kind === 'http' ? code : undefined));
          } else if (m.channel === undefined || m.channel === '') {
            finish(this.error('http', `authentication failed: ${what}; check key ${SPLUNK_TOKEN_KEY} of the secretRef Secret`, code ?? 401));
          }
        } else if (m.type === 'control-message' && m.channel === SPLUNK_CHANNEL && (m.event === 'END_OF_CHANNEL' || m.event === 'CHANNEL_ABORT' || m.event === 'ABORT_CHANNEL')) {
          finish();
        }
        // STREAM_START, JOB_START, KEEP_ALIVE, metadata, info and event messages carry no value.
      };

      ws.addEventListener('open', () => {
        opened = true;
        // signalflow-client-go client.go makeAuthRequest (no userAgent: the Go client sends none either).
        ws.send(JSON.stringify({ type: 'authenticate', token: this.o.token }));
      });
      ws.addEventListener('message', (event) => {
        if (settled) return;
        const data = event.data as string | ArrayBuffer;
        received += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        if (received > MAX_COMPUTATION_BYTES) {
          finish(this.error('bad-response', `the computation sent more than ${MAX_COMPUTATION_BYTES / 1024 / 1024} MiB, read no further`));
          return;
        }
        if (typeof data === 'string') {
          onJson(data);
          return;
        }
        let decoded: BinaryMessage;
        try {
          decoded = decodeBinaryMessage(new Uint8Array(data), this.gunzip);
        } catch (e) {
          finish(this.error('bad-response', `unreadable binary message: ${(e as Error).message}`));
          return;
        }
        if (decoded.kind === 'json') onJson(decoded.text);
        else if (decoded.kind === 'data' && decoded.channel === SPLUNK_CHANNEL) points.push(...decoded.points);
      });
      ws.addEventListener('error', (event) => {
        const e = event as unknown as { message?: string; error?: { message?: string; cause?: { message?: string; code?: string } } };
        transportError = e.error?.cause?.message ?? e.error?.cause?.code ?? e.error?.message ?? e.message ?? undefined;
        // undici fires no close event when the handshake fails (refused, not 101): end here.
        const why = transportError ? `: ${excerpt(transportError, 200, [this.o.token])}` : '';
        finish(this.error('unreachable', opened ? `the connection failed before the computation ended${why}` : `could not connect to ${this.endpoints.connect}${why}`));
      });
      ws.addEventListener('close', (event) => {
        const { code, reason } = event as unknown as { code: number; reason: string };
        const why = [transportError, `close code ${code}`, reason ? excerpt(reason, 200, [this.o.token]) : undefined].filter(Boolean).join(', ');
        finish(
          this.error(
            'unreachable',
            opened ? `the connection closed before the computation ended (${why})` : `could not connect to ${this.endpoints.connect} (${why})`,
          ),
        );
      });
    });
  }

  private error(kind: MetricsErrorKind, detail: string, status?: number): MetricsError {
    return new MetricsError(kind, redact(`splunk query to ${this.address} failed: ${detail}`, [this.o.token]), this.address, status);
  }

  /** IsOnline's errors read after observe.ts's "splunk in metric template <name>.<ns> not avaiable: ". */
  private onlineError(kind: MetricsErrorKind, detail: string, status?: number): MetricsError {
    return new MetricsError(kind, redact(detail, [this.o.token]), this.endpoints.validation, status);
  }
}

/**
 * Splunk Observability (SignalFx) SignalFlow, pkg/metrics/providers/splunk.go. The token is key
 * `sf_token_key` of the template's secretRef Secret, read from
 * CANARYKIT_SECRET_<NAMESPACE>_<SECRET>_SF_TOKEN_KEY. undici and zlib are loaded here only.
 */
export const SPLUNK: MetricProviderModule<'splunk'> = {
  spec: SPLUNK_SPEC,
  connect(provider, ctx): MetricSource {
    const address = provider.address ?? '';
    if (address === '') throw new ConfigError('splunk endpoint is not set: give the MetricTemplate a provider address, e.g. https://api.us1.signalfx.com');
    const token = ctx.credentials[SPLUNK_TOKEN_KEY];
    if (token === undefined) throw new ConfigError(`splunk credentials do not contain ${SPLUNK_TOKEN_KEY}: ${ctx.credentialHint(SPLUNK_TOKEN_KEY)}`);
    const interval = intervalMillis(ctx.interval);
    if (interval === undefined) throw new ConfigError(`error parsing metric interval ${JSON.stringify(ctx.interval)}: write a duration like 1m or 30s`);
    try {
      splunkEndpoints(address);
    } catch {
      throw new ConfigError(`splunk address ${JSON.stringify(redact(address))} is not a URL like https://api.us1.signalfx.com`);
    }
    const { WebSocket } = require('undici') as typeof import('undici');
    const zlib = require('zlib') as typeof import('zlib');
    const gunzip = (b: Uint8Array): Uint8Array => zlib.gunzipSync(b, { maxOutputLength: LIMITS.responseBytes });
    return new SplunkSource({ address, token, windowMs: SPLUNK_WINDOW_INTERVALS * interval, timeoutMs: ctx.timeoutMs }, WebSocket, gunzip);
  },
};
