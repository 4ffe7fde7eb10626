import * as http from 'http';
import { AddressInfo } from 'net';
import { gzipSync } from 'zlib';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * A local Splunk Observability (SignalFx) realm on 127.0.0.1: the SignalFlow WebSocket at
 * `/v2/signalflow/connect` and the REST API's `GET /v2/metric`, speaking the wire format of
 * Splunk's SignalFlow stream messages as signalflow-client-go and the SignalFx Python client
 * read them: JSON text messages (authenticated, control-message, message, metadata, error) and
 * binary data batches (20-byte header, 8-byte timestamp, 4-byte count, 17-byte points).
 * Our own fixtures, written after those clients' decoders and Flagger's splunk_test.go.
 */

/** A point as the server encodes it: value type 1 long, 2 double, 3 int32, 0 no value. */
export interface WirePoint {
  tsid: bigint;
  type: 0 | 1 | 2 | 3;
  value: number | bigint;
}

/** Encodes a binary data batch of `channel` (message type 5). */
export function dataMessage(channel: string, timestampMs: number, points: readonly WirePoint[], o: { version?: 1 | 2 | 3; compress?: boolean; maxDelayMs?: number } = {}): Buffer {
  const version = o.version ?? 1;
  const header = Buffer.alloc(20);
  header.writeUInt8(version, 0);
  header.writeUInt8(5, 1);
  header.writeUInt8(o.compress ? 1 : 0, 2);
  Buffer.from(channel, 'utf8').copy(header, 4, 0, 16);
  const lead = Buffer.alloc(version === 1 ? 12 : 20);
  lead.writeBigUInt64BE(BigInt(timestampMs), 0);
  if (version !== 1) lead.writeBigInt64BE(BigInt(o.maxDelayMs ?? 0), 8);
  lead.writeUInt32BE(points.length, lead.length - 4);
  const body = Buffer.alloc(17 * points.length);
  points.forEach((p, i) => {
    const at = 17 * i;
    body.writeUInt8(p.type, at);
    body.writeBigInt64BE(p.tsid, at + 1);
    if (p.type === 1) body.writeBigInt64BE(BigInt(p.value), at + 9);
    else if (p.type === 2) body.writeDoubleBE(Number(p.value), at + 9);
    else if (p.type === 3) body.writeInt32BE(Number(p.value), at + 9);
  });
  const payload = Buffer.concat([lead, body]);
  return Buffer.concat([header, o.compress ? gzipSync(payload) : payload]);
}

/** A JSON message sent in a binary frame (flag bit 1, gzip-compressed when `compress`). */
export function binaryJson(channel: string, message: object, compress = false): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt8(1, 0);
  header.writeUInt8(10, 1);
  header.writeUInt8(2 | (compress ? 1 : 0), 2);
  Buffer.from(channel, 'utf8').copy(header, 4, 0, 16);
  const text = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([header, compress ? gzipSync(text) : text]);
}

/** A time series id as SignalFlow's JSON messages write it (unpadded base64url of its 8 bytes). */
export function tsidText(tsid: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(tsid);
  return b.toString('base64url');
}

/** The JSON messages a computation starts with: stream and job start, its resolution, one metadata message per series. */
export function jobStart(channel: string, handle: string, series: { tsid: bigint; metric: string; dims?: Record<string, string> }[], resolutionMs = 10_000): object[] {
  return [
    { type: 'control-message', channel, event: 'STREAM_START', timestampMs: 1_733_100_000_000 },
    { type: 'control-message', channel, event: 'JOB_START', handle, timestampMs: 1_733_100_000_010 },
    { type: 'message', channel, logicalTimestampMs: 1_733_100_000_000, message: { messageCode: 'JOB_RUNNING_RESOLUTION', messageLevel: 'INFO', timestampMs: 1_733_100_000_020, contents: { resolutionMs } } },
    ...series.map((s) => ({
      type: 'metadata',
      channel,
      tsId: tsidText(s.tsid),
      properties: { sf_metric: s.metric, sf_resolutionMs: resolutionMs, sf_type: 'MetricTimeSeries', sf_isPreQuantized: true, ...s.dims },
    })),
  ];
}

/** The control message that ends a computation. */
export function endOfChannel(channel: string, handle: string): object {
  return { type: 'control-message', channel, event: 'END_OF_CHANNEL', handle, timestampMs: 1_733_100_000_900 };
}

/**
 * What the server answers one execute message with, in order: JSON messages, binary frames, or a
 * close of the socket. Without an END_OF_CHANNEL among them the computation stays open.
 */
export type Reply = object | Buffer | { close: number; reason?: string };
export type ExecuteHandler = (execute: Record<string, unknown>) => { frames: Reply[] };

export interface SplunkServer {
  /** `http://127.0.0.1:<port>` (the address a MetricTemplate gives). */
  readonly url: string;
  /** The access token the server accepts. */
  readonly token: string;
  /** Every WebSocket upgrade's path and query. */
  readonly upgrades: string[];
  /** Every JSON text message received, parsed, in order. */
  readonly received: Record<string, unknown>[];
  /** Every HTTP (non-WebSocket) request. */
  readonly requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  /** WebSockets the client has closed (or that closed otherwise). */
  readonly closed: number;
  onExecute(handler: ExecuteHandler): void;
  /** The status and body `GET /v2/metric` answers with (200 and a one-metric page by default). */
  setMetricApi(status: number, body?: string): void;
  /** Refuse WebSocket upgrades with this HTTP status. */
  refuseUpgrades(status: number): void;
  /** The error message a wrong token gets before the socket is closed. */
  setAuthError(message: object): void;
  close(): Promise<void>;
}

export async function startSplunkServer(token = 'sf-test-token-5c1d7e'): Promise<SplunkServer> {
  const upgrades: string[] = [];
  const received: Record<string, unknown>[] = [];
  const requests: SplunkServer['requests'] = [];
  let closed = 0;
  let handler: ExecuteHandler = () => ({ frames: [] });
  let metricApi = { status: 200, body: JSON.stringify({ count: 1, results: [{ name: 'service.request.count', type: 'COUNTER', created: 1_700_000_000_000, creator: 'AAAAAAAAAAA' }] }) };
  let refuseWith: number | undefined;
  let authError: object = { type: 'error', error: 401, errorType: 'AUTHENTICATION_FAILED', message: 'Invalid authentication token' };

  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.method === 'GET' && (req.url ?? '').startsWith('/v2/metric')) {
      res.writeHead(metricApi.status, { 'content-type': 'application/json' });
      res.end(metricApi.body);
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req.url ?? '');
    if (refuseWith !== undefined || req.url !== '/v2/signalflow/connect') {
      socket.end(`HTTP/1.1 ${refuseWith ?? 404} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  function send(ws: WebSocket, frames: Reply[]): void {
    for (const f of frames) {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (Buffer.isBuffer(f)) ws.send(f, { binary: true });
      else if ('close' in f && typeof (f as { close: unknown }).close === 'number') ws.close((f as { close: number }).close, (f as { reason?: string }).reason);
      else ws.send(JSON.stringify(f));
    }
  }

  function serve(ws: WebSocket): void {
    let authenticated = false;
    ws.on('close', () => {
      closed++;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(data.toString());
      } catch {
        ws.send(JSON.stringify({ type: 'error', error: 400, message: 'Unable to parse request' }));
        return;
      }
      received.push(m);
      if (m.type === 'authenticate') {
        if (m.token === token) {
          authenticated = true;
          ws.send(JSON.stringify({ type: 'authenticated', orgId: 'AAAAAAAAAAA', userId: 'BBBBBBBBBBB' }));
        } else {
          ws.send(JSON.stringify(authError));
          ws.close(1008, 'authentication failed');
        }
      } else if (m.type === 'execute') {
        if (!authenticated) {
          ws.send(JSON.stringify({ type: 'error', error: 401, message: 'Not authenticated', channel: m.channel }));
          return;
        }
        const { frames } = handler(m);
        send(ws, frames);
      }
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    upgrades,
    received,
    requests,
    get closed() {
      return closed;
    },
    onExecute(h) {
      handler = h;
    },
    setMetricApi(status, body = '') {
      metricApi = { status, body };
    },
    refuseUpgrades(status) {
      refuseWith = status;
    },
    setAuthError(message) {
      authError = message;
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits until `check` holds, polling (no fixed sleeps in assertions). */
export async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
