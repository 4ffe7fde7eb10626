import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A small Graphite render API on 127.0.0.1 (graphite-web's `/render?target=…&format=json`): each
 * `target` is a series path with `*` and `{a,b}` globs matched node by node against the stored
 * series, or one of the function expressions given in `expressions`. The JSON answer is
 * graphite-web's: a list of `{target, tags, datapoints: [[value|null, epochSeconds], …]}`, one per
 * matched series. Non-JSON formats answer a PNG, as graphite-web does by default. Every request is
 * recorded.
 */

/** `[value, timestamp]` as graphite-web writes it (`null` for a gap). */
export type Datapoint = [number | null, number];

export interface GraphiteServerOptions {
  /** Stored series by dotted path. */
  series?: Record<string, Datapoint[]>;
  /** Whole target expressions (with functions) and the series they render. */
  expressions?: Record<string, { target: string; datapoints: Datapoint[] }[]>;
  /** Path prefix the render API is served under (a reverse proxy's `/graphite`). */
  prefix?: string;
  /** Basic auth the server requires (as nginx's auth_basic in front of graphite-web). */
  basicAuth?: { username: string; password: string };
}

export interface SeenRequest {
  method: string;
  /** Path and raw query exactly as received. */
  url: string;
  path: string;
  params: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/** Answers a request instead of the render API when it returns true (errors, stalls, odd bodies). */
export type Override = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface GraphiteServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Replaces the render API's answers until set back to undefined. */
  override: Override | undefined;
  close(): Promise<void>;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function globToRegExp(node: string): RegExp {
  let re = '';
  for (let i = 0; i < node.length; i++) {
    const c = node[i];
    if (c === '*') re += '[^.]*';
    else if (c === '{') {
      const end = node.indexOf('}', i);
      re += `(?:${node.slice(i + 1, end).split(',').map(escapeRe).join('|')})`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matches(pattern: string, name: string): boolean {
  const p = pattern.split('.');
  const n = name.split('.');
  return p.length === n.length && p.every((node, i) => globToRegExp(node).test(n[i]));
}

export async function startGraphiteServer(options: GraphiteServerOptions = {}): Promise<GraphiteServer> {
  const seen: SeenRequest[] = [];
  const prefix = options.prefix ?? '';
  const state: { override: Override | undefined } = { override: undefined };
  const server: Server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://graphite');
    seen.push({ method: req.method ?? '', url: req.url ?? '', path: parsed.pathname, params: parsed.searchParams, headers: req.headers });
    if (state.override?.(req, res)) return;
    if (options.basicAuth) {
      const expected = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'Content-Type': 'text/html', 'WWW-Authenticate': 'Basic realm="graphite"' });
        res.end('<html><head><title>401 Authorization Required</title></head><body><center><h1>401 Authorization Required</h1></center></body></html>');
        return;
      }
    }
    if (req.method !== 'GET' || parsed.pathname !== `${prefix}/render`) {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<h1>Page not found</h1>');
      return;
    }
    if (parsed.searchParams.get('format') !== 'json') {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(PNG);
      return;
    }
    const out: unknown[] = [];
    for (const target of parsed.searchParams.getAll('target')) {
      const expression = options.expressions?.[target];
      if (expression) {
        for (const s of expression) out.push({ target: s.target, tags: { name: s.target }, datapoints: s.datapoints });
        continue;
      }
      if (/[()]/.test(target)) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(`Invalid target: unknown function in ${target}`);
        return;
      }
      for (const [name, datapoints] of Object.entries(options.series ?? {})) {
        if (matches(target, name)) out.push({ target: name, tags: { name }, datapoints });
      }
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(out));
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
