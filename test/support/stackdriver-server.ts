import { KeyObject, createPublicKey, generateKeyPairSync, verify } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';

/**
 * Google Cloud Monitoring's REST API on 127.0.0.1, with the two ways Google hands out access
 * tokens:
 * - `POST /token`: Google's OAuth 2.0 token endpoint (a service-account key's `token_uri`). It
 *   verifies the RS256 JWT bearer assertion (RFC 7523) against the key's public key with
 *   node:crypto, and also answers `grant_type=refresh_token` for gcloud user credentials.
 * - `GET /computeMetadata/v1/instance/service-accounts/default/token`: the GCE/GKE metadata server
 *   (needs `Metadata-Flavor: Google`).
 * - `POST /v3/projects/<project>/timeSeries:query`: projects.timeSeries.query (MQL); only tokens
 *   this server issued are accepted (401 UNAUTHENTICATED otherwise).
 */

export interface GoogleRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json?: any;
  form?: Record<string, string>;
  /** For JWT assertions: the decoded header and claims, and why verification failed. */
  jwt?: { header: any; claims: any; problem?: string };
}

export interface GoogleReply {
  status: number;
  body: unknown;
  hang?: boolean;
}

export interface StackdriverServer {
  url: string;
  /** A service-account JSON key whose token_uri is this server. */
  serviceAccountKey: string;
  clientEmail: string;
  requests: GoogleRequest[];
  /** Replies of the next timeSeries:query calls; afterwards `fallback`. */
  replies: GoogleReply[];
  fallback: GoogleReply;
  /** The next token endpoint answer (for refusals), once; a function gets the request (to echo it). */
  tokenReply?: GoogleReply | ((r: GoogleRequest) => GoogleReply);
  /** Tokens issued so far. */
  issued: string[];
  queries(): GoogleRequest[];
  stop(): Promise<void>;
}

const USER = { client_id: '764086051850-canarykit.apps.googleusercontent.com', client_secret: 'd-FL95Q19q7MQmFpd7hHD0Ty', refresh_token: '1//0refresh-token-of-a-user' };
export const USER_CREDENTIALS = USER;

function decodeJwt(assertion: string, key: KeyObject, audience: string): { header: any; claims: any; problem?: string } {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { header: undefined, claims: undefined, problem: 'not a JWT' };
  const [h, c, s] = parts;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
  if (header.alg !== 'RS256') return { header, claims, problem: `alg ${header.alg}` };
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${c}`), key, Buffer.from(s, 'base64url'))) return { header, claims, problem: 'bad signature' };
  if (claims.aud !== audience) return { header, claims, problem: `aud ${claims.aud}` };
  if (!(claims.exp > claims.iat) || claims.exp - claims.iat > 3600) return { header, claims, problem: 'bad lifetime' };
  return { header, claims };
}

export async function startStackdriver(): Promise<StackdriverServer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const clientEmail = 'flagger@canary-project.iam.gserviceaccount.com';
  const sockets = new Set<import('net').Socket>();
  let counter = 0;
  const issue = (): string => {
    const token = `ya29.c.token-${++counter}-${Math.random().toString(36).slice(2)}`;
    state.issued.push(token);
    return token;
  };
  const state = {
    url: '',
    serviceAccountKey: '',
    clientEmail,
    requests: [] as GoogleRequest[],
    replies: [] as GoogleReply[],
    fallback: { status: 200, body: {} } as GoogleReply,
    tokenReply: undefined as GoogleReply | ((r: GoogleRequest) => GoogleReply) | undefined,
    issued: [] as string[],
    queries(): GoogleRequest[] {
      return state.requests.filter((r) => r.path.includes(':query'));
    },
    stop: async (): Promise<void> => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: GoogleRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      state.requests.push(r);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      };
      if (r.method === 'POST' && r.path === '/token') {
        r.form = Object.fromEntries(new URLSearchParams(body));
        const once = state.tokenReply;
        state.tokenReply = undefined;
        if (once) {
          const reply = typeof once === 'function' ? once(r) : once;
          return send(reply.status, reply.body);
        }
        if (r.form.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
          r.jwt = decodeJwt(r.form.assertion ?? '', pub, `${state.url}/token`);
          if (r.jwt.problem || r.jwt.claims.iss !== clientEmail) return send(400, { error: 'invalid_grant', error_description: `Invalid JWT Signature (${r.jwt.problem ?? 'iss'})` });
          return send(200, { access_token: issue(), expires_in: 3599, token_type: 'Bearer' });
        }
        if (r.form.grant_type === 'refresh_token') {
          if (r.form.client_id !== USER.client_id || r.form.client_secret !== USER.client_secret || r.form.refresh_token !== USER.refresh_token) return send(400, { error: 'invalid_grant', error_description: 'Bad Request' });
          return send(200, { access_token: issue(), expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/cloud-platform' });
        }
        return send(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
      }
      if (r.method === 'GET' && r.path.startsWith('/computeMetadata/v1/instance/service-accounts/default/token')) {
        if (r.headers['metadata-flavor'] !== 'Google') return send(403, 'Missing Metadata-Flavor:Google header.');
        return send(200, { access_token: issue(), expires_in: 3599, token_type: 'Bearer' });
      }
      const q = /^\/v3\/projects\/([^/]+)\/timeSeries:query$/.exec(r.path);
      if (r.method === 'POST' && q) {
        try {
          r.json = JSON.parse(body);
        } catch {
          return send(400, { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } });
        }
        const token = /^Bearer (.+)$/.exec(String(r.headers.authorization ?? ''))?.[1];
        if (!token || !state.issued.includes(token)) {
          return send(401, { error: { code: 401, message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.', status: 'UNAUTHENTICATED' } });
        }
        const reply = state.replies.shift() ?? state.fallback;
        if (reply.hang) return;
        return send(reply.status, reply.body);
      }
      send(404, { error: { code: 404, message: `no route ${r.method} ${r.path}`, status: 'NOT_FOUND' } });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.serviceAccountKey = JSON.stringify({
    type: 'service_account',
    project_id: 'canary-project',
    private_key_id: '5d41402abc4b2a76b9719d911017c592ca1e1f2b',
    private_key: pem,
    client_email: clientEmail,
    client_id: '109876543210987654321',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${state.url}/token`,
  });
  state.stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
