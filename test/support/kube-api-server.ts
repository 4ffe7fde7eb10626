/**
 * A small stand-in for the Kubernetes API server (no cluster runs here), for the keptn and
 * externalmetrics providers: objects stored by their REST path, create (POST to the collection,
 * 201 with server-set metadata), get, delete, and metav1.Status bodies for 401, 403, 404 and 409
 * as the real API server writes them. Every request is recorded with its headers and body.
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, if any. */
  body?: any;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Raw text instead of JSON. */
  text?: string;
}

/** A metav1.Status failure as the API server sends it. */
export function statusFailure(code: number, reason: string, message: string, details?: Record<string, unknown>): Reply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code } };
}

/** `group/version/namespaces/ns/resource/name` parts of a path under /apis. */
function parts(path: string): { group: string; resource: string; name?: string; namespace?: string } | undefined {
  const m = /^\/apis\/([^/]+)\/[^/]+(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  return m ? { group: m[1], namespace: m[2] && decodeURIComponent(m[2]), resource: m[3], name: m[4] && decodeURIComponent(m[4]) } : undefined;
}

/** One item of an ExternalMetricValueList (k8s.io/metrics external_metrics/v1beta1). */
export interface ExternalMetricValue {
  metricName: string;
  metricLabels?: Record<string, string>;
  timestamp: string;
  window?: number;
  /** A resource.Quantity, as a string on the wire (`"1500m"`). */
  value: unknown;
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** Stored objects by their REST path (`/apis/<group>/<version>/namespaces/<ns>/<resource>/<name>`). */
  readonly objects = new Map<string, any>();
  /** The Bearer token every request must carry; others get 401. */
  token?: string;
  /** Answers a request before the store does (return undefined to fall through). */
  handler?: (req: RecordedRequest) => Reply | 'hang' | undefined | Promise<Reply | 'hang' | undefined>;
  /** Called on each GET of a stored object with how many GETs it had (1 for the first). */
  onGet?: (object: any, count: number) => void;
  /**
   * External metrics by `<namespace>/<metricName>`, served as an ExternalMetricValueList under
   * /apis/external.metrics.k8s.io/v1beta1 (an adapter answers 404 for a metric it does not know).
   */
  readonly externalMetrics = new Map<string, ExternalMetricValue[]>();
  private readonly gets = new Map<string, number>();
  private server?: Server;
  private uid = 0;

  /** Listens on 127.0.0.1 (HTTPS with `tls`); resolves to the base URL. */
  async start(tls?: { key: string; cert: string }): Promise<string> {
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.serve(req, res);
    this.server = tls ? createTlsServer(tls, handle) : createServer(handle);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Requests other than the ones a test does not care about. */
  find(method: string, pathPrefix = ''): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: text ? JSON.parse(text) : undefined };
    this.requests.push(rec);
    const reply = await this.answer(rec);
    if (reply === 'hang') return; // never answers: the client's timeout decides
    res.statusCode = reply.status;
    res.setHeader('Content-Type', reply.text !== undefined ? 'text/plain' : 'application/json');
    res.end(reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
  }

  private async answer(req: RecordedRequest): Promise<Reply | 'hang'> {
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) return statusFailure(401, 'Unauthorized', 'Unauthorized');
    const custom = await this.handler?.(req);
    if (custom) return custom;
    const em = /^\/apis\/external\.metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/([^/]+)$/.exec(req.path);
    if (em && req.method === 'GET') {
      const [ns, metric] = [decodeURIComponent(em[1]), decodeURIComponent(em[2])];
      const items = this.externalMetrics.get(`${ns}/${metric}`);
      if (!items) return statusFailure(404, 'NotFound', `the server could not find the metric ${metric} for namespace ${ns}`, { group: 'external.metrics.k8s.io', kind: metric });
      return { status: 200, body: { kind: 'ExternalMetricValueList', apiVersion: 'external.metrics.k8s.io/v1beta1', metadata: {}, items } };
    }
    const p = parts(req.path);
    if (!p) return statusFailure(404, 'NotFound', 'the server could not find the requested resource');
    const what = `${p.resource}.${p.group} "${p.name ?? ''}"`;
    const details = { name: p.name, group: p.group, kind: p.resource };
    switch (req.method) {
      case 'GET': {
        const obj = this.objects.get(req.path);
        if (!obj) return statusFailure(404, 'NotFound', `${what} not found`, details);
        const n = (this.gets.get(req.path) ?? 0) + 1;
        this.gets.set(req.path, n);
        this.onGet?.(obj, n);
        return { status: 200, body: obj };
      }
      case 'POST': {
        const name = req.body?.metadata?.name as string;
        const path = `${req.path}/${encodeURIComponent(name)}`;
        if (this.objects.has(path)) return statusFailure(409, 'AlreadyExists', `${p.resource}.${p.group} "${name}" already exists`, { ...details, name });
        const obj = { ...req.body, metadata: { ...req.body.metadata, uid: `uid-${++this.uid}`, resourceVersion: String(1000 + this.uid), generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' } };
        this.objects.set(path, obj);
        return { status: 201, body: obj };
      }
      case 'DELETE': {
        const obj = this.objects.get(req.path);
        if (!obj) return statusFailure(404, 'NotFound', `${what} not found`, details);
        this.objects.delete(req.path);
        return { status: 200, body: obj };
      }
      default:
        return statusFailure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }
}

/** A reply that never comes (the client must time out). */
export const HANG = 'hang' as const;
