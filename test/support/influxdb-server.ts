import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * A small InfluxDB 2 query API on 127.0.0.1 (`POST /api/v2/query?org=…`, InfluxDB's OpenAPI
 * `PostQuery`): it wants `Authorization: Token <token>`, a known organisation and a JSON body of
 * type `flux`; it answers the annotated CSV stored for the exact Flux text, with `\r\n` line ends
 * and a blank line between annotation blocks as InfluxDB writes them, gzipped when the client
 * accepts gzip. Errors are InfluxDB's JSON `{code, message}`. Every request is recorded.
 */

export interface CsvColumn {
  name: string;
  type: string;
  group?: boolean;
  default?: string;
}

/** One annotation block: the columns (after the leading empty one) and the rows of its tables. */
export interface CsvBlock {
  columns: CsvColumn[];
  rows: string[][];
}

function cell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Annotated CSV with the three annotations and a header, as InfluxDB answers a query with DefaultDialect. */
export function annotatedCsv(blocks: CsvBlock[]): string {
  return blocks
    .map((b) => {
      const lines = [
        ['#datatype', ...b.columns.map((c) => c.type)],
        ['#group', ...b.columns.map((c) => String(c.group ?? false))],
        ['#default', ...b.columns.map((c) => c.default ?? '')],
        ['', ...b.columns.map((c) => c.name)],
        ...b.rows.map((r) => ['', ...r]),
      ];
      return lines.map((l) => l.map(cell).join(',')).join('\r\n') + '\r\n';
    })
    .join('\r\n');
}

/** The error table InfluxDB streams when a query fails after the answer began. */
export function errorTableCsv(message: string, reference = ''): string {
  return annotatedCsv([{ columns: [{ name: 'error', type: 'string', group: true }, { name: 'reference', type: 'string', group: true }], rows: [[message, reference]] }]);
}

export interface InfluxServerOptions {
  token: string;
  orgs: string[];
  /** Annotated CSV bodies by exact Flux text. */
  answers: Record<string, string>;
}

export interface SeenQuery {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Override = (req: IncomingMessage, res: ServerResponse, body: string) => boolean;

export interface InfluxServer {
  readonly url: string;
  readonly seen: SeenQuery[];
  override: Override | undefined;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export async function startInfluxServer(options: InfluxServerOptions): Promise<InfluxServer> {
  const seen: SeenQuery[] = [];
  const state: { override: Override | undefined } = { override: undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (state.override?.(req, res, body)) return;
      const url = new URL(req.url ?? '/', 'http://influxdb');
      if (req.method !== 'POST' || url.pathname !== '/api/v2/query') return sendJson(res, 404, { code: 'not found', message: 'path not found' });
      if (req.headers.authorization !== `Token ${options.token}`) return sendJson(res, 401, { code: 'unauthorized', message: 'unauthorized access' });
      const org = url.searchParams.get('org') ?? '';
      if (org === '') return sendJson(res, 400, { code: 'invalid', message: 'Please provide either orgID or org' });
      if (!options.orgs.includes(org)) return sendJson(res, 404, { code: 'not found', message: `organization name "${org}" not found` });
      let parsed: { query?: unknown; type?: unknown; dialect?: unknown };
      try {
        parsed = JSON.parse(body);
      } catch {
        return sendJson(res, 400, { code: 'invalid', message: 'failed to decode request body: invalid character' });
      }
      if (parsed.type !== 'flux' || typeof parsed.query !== 'string') return sendJson(res, 400, { code: 'invalid', message: 'unsupported query type' });
      const csv = options.answers[parsed.query];
      if (csv === undefined) return sendJson(res, 400, { code: 'invalid', message: 'compilation failed: error @1:1-1:4: undefined identifier frm' });
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
      res.end(gzip ? gzipSync(csv) : csv);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get override() {
      return state.override;
    },
    set override(o: Override | undefined) {
      state.override = o;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
