/**
 * A local stand-in for an HTTPS JSON metrics API (Datadog here; New Relic and Dynatrace reuse
 * {@link ApiServer}): node:http on 127.0.0.1, a free port, every request recorded, answers from a
 * route table. Fixtures are written after the providers' public API documentation.
 */
import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The raw query string as it arrived. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
}

/** What a route answers: a JSON body (status 200 unless given), raw text, or never (a hung server). */
export type Reply = { status?: number; json?: unknown; text?: string } | 'hang';
export type Route = (req: RecordedRequest) => Reply;

export class ApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly hanging: ServerResponse[] = [];
  private server?: Server;
  address = '';

  /** Answers `path` (without query) with `route`; replaces an earlier route of that path. */
  on(path: string, route: Route): this {
    this.routes.set(path, route);
    return this;
  }

  /** Listens on a free loopback port; with `tls` (PEM key and certificate) it speaks HTTPS. */
  async start(tls?: { key: string; cert: string }): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls ? createHttpsServer(tls, handler) : createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.address = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests to `path`. */
  to(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const recorded: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, rawQuery: url.search.replace(/^\?/, ''), headers: req.headers };
    this.requests.push(recorded);
    req.resume();
    const route = this.routes.get(url.pathname);
    const reply: Reply = route ? route(recorded) : { status: 404, json: { errors: ['Not found'] } };
    if (reply === 'hang') {
      this.hanging.push(res);
      return;
    }
    const body = reply.text ?? JSON.stringify(reply.json ?? {});
    res.writeHead(reply.status ?? 200, { 'content-type': reply.text !== undefined ? 'text/plain' : 'application/json' });
    res.end(body);
  }
}

/** A port nothing listens on (a server started and stopped). */
export async function closedAddress(): Promise<string> {
  const s = await new ApiServer().start();
  const address = s.address;
  await s.stop();
  return address;
}

/** One Datadog series of `GET /api/v1/query` (docs.datadoghq.com/api/latest/metrics/#query-timeseries-points). */
export interface DatadogSeries {
  /** Scope, e.g. `host:web-1`. */
  scope: string;
  /** [milliseconds, value] pairs, oldest first; null values are empty buckets. */
  points: [number, number | null][];
}

export const DATADOG_API_KEY = 'dd-api-0123456789abcdef';
export const DATADOG_APP_KEY = 'dd-app-fedcba9876543210fedcba';

/**
 * Datadog's v1 API as documented: key headers DD-API-KEY and DD-APPLICATION-KEY (a wrong or
 * missing one answers 403 `{"errors":["Forbidden"]}`), `GET /api/v1/validate` answers
 * `{"valid":true}`, `GET /api/v1/query?from&to&query` answers a timeseries response whose series
 * `answer(query)` gives (undefined: no such metric, an empty series list).
 */
export class DatadogServer extends ApiServer {
  constructor(answer: (query: string) => DatadogSeries[] | Reply | undefined = () => undefined) {
    super();
    const authorized = (r: RecordedRequest) => r.headers['dd-api-key'] === DATADOG_API_KEY && r.headers['dd-application-key'] === DATADOG_APP_KEY;
    this.on('/api/v1/validate', (r) => (authorized(r) ? { json: { valid: true } } : { status: 403, json: { errors: ['Forbidden'] } }));
    this.on('/api/v1/query', (r) => {
      if (!authorized(r)) return { status: 403, json: { errors: ['Forbidden'] } };
      const query = r.query.get('query') ?? '';
      const from = Number(r.query.get('from'));
      const to = Number(r.query.get('to'));
      if (!Number.isInteger(from) || !Number.isInteger(to)) return { status: 400, json: { errors: ['The value provided for parameter \'from\' is invalid'] } };
      const got = answer(query);
      if (got !== undefined && !Array.isArray(got)) return got;
      return { json: datadogTimeseries(query, from, to, got ?? []) };
    });
  }
}

/** A `GET /api/v1/query` body (status ok, res_type time_series) with the given series. */
export function datadogTimeseries(query: string, from: number, to: number, series: DatadogSeries[]): unknown {
  const metric = query.replace(/^[a-z]+:/, '').replace(/[{(].*$/, '');
  return {
    status: 'ok',
    res_type: 'time_series',
    resp_version: 1,
    query,
    from_date: from * 1000,
    to_date: to * 1000,
    series: series.map((s, i) => ({
      unit: null,
      query_index: 0,
      aggr: 'avg',
      metric,
      tag_set: [s.scope],
      expression: `avg:${metric}{${s.scope}}`,
      scope: s.scope,
      interval: 60,
      length: s.points.length,
      start: s.points[0]?.[0] ?? from * 1000,
      end: s.points[s.points.length - 1]?.[0] ?? to * 1000,
      pointlist: s.points,
      display_name: metric,
      attributes: {},
      series_index: i,
    })),
    message: '',
    group_by: ['host'],
  };
}

/** A throw-away self-signed certificate for 127.0.0.1 (openssl), for insecureSkipVerify tests. */
export function selfSignedCert(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}
