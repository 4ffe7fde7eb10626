import { createServer, request as httpRequest, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A loopback reverse proxy in front of a real Prometheus that requires `Authorization: Bearer
 * <token>`, as an oauth2-proxy or a managed Prometheus does. Anything else gets Prometheus' own 401
 * error shape. Records the Authorization header of every request so tests can check who got the
 * token.
 */
export interface AuthProxy {
  url: string;
  /** Authorization headers received, in order (undefined when absent). */
  readonly seen: (string | undefined)[];
  close(): Promise<void>;
}

export async function startBearerProxy(upstream: () => string, token: string): Promise<AuthProxy> {
  const seen: (string | undefined)[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const auth = req.headers.authorization;
    seen.push(auth);
    if (auth !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(JSON.stringify({ status: 'error', errorType: 'unauthorized', error: 'missing or invalid bearer token' }));
      return;
    }
    const target = new URL(req.url ?? '/', upstream());
    const forward = httpRequest(target, { method: req.method, headers: { accept: 'application/json' } }, (up) => {
      res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
      up.pipe(res);
    });
    // Upstream down: answer like a proxy does, 502.
    forward.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream unavailable: ${e.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
