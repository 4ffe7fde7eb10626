import { createHash, createHmac } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';

/**
 * A CloudWatch endpoint on 127.0.0.1 speaking AWS JSON 1.0 (POST /, `X-Amz-Target:
 * GraniteServiceVersion20100801.<Operation>`, `application/x-amz-json-1.0`), that verifies every
 * request's AWS Signature Version 4 by recomputing it from the documented algorithm with
 * node:crypto (independently of the `aws4` package the client signs with).
 */

export interface CloudWatchRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  /** Why the signature was refused, or undefined when it verified. */
  signatureProblem?: string;
  scope?: { date: string; region: string; service: string; accessKeyId: string };
  signedHeaders?: string[];
}

export interface CloudWatchReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

export interface CloudWatchServer {
  url: string;
  /** STS (AssumeRoleWithWebIdentity, unsigned Query protocol at POST /) accepts this token for `roleArn`. */
  webIdentity: { token: string; roleArn: string };
  /** The container credentials endpoint GET /v2/credentials/pod wants this Authorization. */
  containerToken: string;
  /** Temporary credentials handed out by STS or the container endpoint. */
  issued: SigningKeys[];
  requests: CloudWatchRequest[];
  /** Replies for the next requests, in order; afterwards `fallback`. */
  replies: CloudWatchReply[];
  fallback: CloudWatchReply;
  stop(): Promise<void>;
}

export interface SigningKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string): Buffer => createHmac('sha256', key).update(s, 'utf8').digest();

/** SigV4 path encoding: every byte but unreserved characters and '/' percent-encoded. */
function encodePath(p: string): string {
  return p
    .split('/')
    .map((seg) => encodeURIComponent(decodeURIComponent(seg)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/**
 * Recomputes the request's signature (docs: "Create a signed AWS API request", SigV4): canonical
 * request, string to sign, signing key derived from the secret, date, region and service.
 * Returns the problem, or undefined when the signature is right.
 */
export function verifySigV4(req: { method: string; path: string; headers: http.IncomingHttpHeaders; body: string }, keys: SigningKeys, service: string): { problem?: string; scope?: CloudWatchRequest['scope']; signedHeaders?: string[] } {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { problem: `malformed Authorization header` };
  const [, accessKeyId, date, region, svc, signedList, signature] = m;
  const scope = { date, region, service: svc, accessKeyId };
  const signedHeaders = signedList.split(';');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) return { problem: 'X-Amz-Date missing or malformed', scope, signedHeaders };
  if (amzDate.slice(0, 8) !== date) return { problem: 'credential scope date differs from X-Amz-Date', scope, signedHeaders };
  if (accessKeyId !== keys.accessKeyId) return { problem: 'unknown access key', scope, signedHeaders };
  if (region !== keys.region) return { problem: `credential scope region ${region}, expected ${keys.region}`, scope, signedHeaders };
  if (svc !== service) return { problem: `credential scope service ${svc}, expected ${service}`, scope, signedHeaders };
  for (const required of ['host', 'x-amz-date']) if (!signedHeaders.includes(required)) return { problem: `${required} is not signed`, scope, signedHeaders };
  if (keys.sessionToken !== undefined) {
    if (req.headers['x-amz-security-token'] !== keys.sessionToken) return { problem: 'X-Amz-Security-Token missing or wrong', scope, signedHeaders };
    if (!signedHeaders.includes('x-amz-security-token')) return { problem: 'x-amz-security-token is not signed', scope, signedHeaders };
  }
  const [rawPath, rawQuery = ''] = req.path.split('?');
  const canonicalQuery = rawQuery
    .split('&')
    .filter(Boolean)
    .map((kv) => kv.split('=').map((x) => encodeURIComponent(decodeURIComponent(x))).join('='))
    .sort()
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((h) => {
      const v = req.headers[h];
      return `${h}:${(Array.isArray(v) ? v.join(',') : String(v ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [req.method, encodePath(rawPath), canonicalQuery, canonicalHeaders, signedList, sha256(req.body)].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${svc}/aws4_request`, sha256(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${keys.secretAccessKey}`, date);
  const kSigning = hmac(hmac(hmac(kDate, region), svc), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
  if (expected !== signature) return { problem: 'signature does not match', scope, signedHeaders };
  return { scope, signedHeaders };
}

/** Starts the server; requests with a bad signature get CloudWatch's 400 InvalidSignatureException. */
export async function startCloudWatch(keys: SigningKeys): Promise<CloudWatchServer> {
  const sockets = new Set<import('net').Socket>();
  let n = 0;
  const temporary = (prefix: string): SigningKeys => {
    n++;
    const t = { accessKeyId: `${prefix}${String(n).padStart(8, '0')}`, secretAccessKey: `tmp-secret-${n}-${Math.random().toString(36).slice(2)}`, sessionToken: `tmp-session-${n}-${Math.random().toString(36).slice(2)}`, region: keys.region };
    state.issued.push(t);
    return t;
  };
  const state: Omit<CloudWatchServer, 'url' | 'stop'> = {
    webIdentity: { token: 'eyJhbGciOiJSUzI1NiJ9.projected-sa-token.sig', roleArn: 'arn:aws:iam::123456789012:role/flagger-cloudwatch' },
    containerToken: 'pod-identity-agent-token',
    issued: [],
    requests: [],
    replies: [],
    fallback: { status: 200, body: { MetricDataResults: [], Messages: [] } },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const base = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : undefined;
      if (req.method === 'POST' && form?.get('Action') === 'AssumeRoleWithWebIdentity') {
        state.requests.push({ ...base, json: Object.fromEntries(form) });
        res.writeHead(form.get('WebIdentityToken') === state.webIdentity.token && form.get('RoleArn') === state.webIdentity.roleArn ? 200 : 400, { 'content-type': 'text/xml' });
        if (res.statusCode === 400) {
          res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Incorrect token audience for ${form.get('WebIdentityToken')}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`);
          return;
        }
        const t = temporary('ASIASTS');
        res.end(
          `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
            `<Credentials><AccessKeyId>${t.accessKeyId}</AccessKeyId><SecretAccessKey>${t.secretAccessKey}</SecretAccessKey><SessionToken>${t.sessionToken}</SessionToken>` +
            `<Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials>` +
            `<AssumedRoleUser><Arn>${state.webIdentity.roleArn}/${form.get('RoleSessionName')}</Arn></AssumedRoleUser></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
        );
        return;
      }
      if (req.method === 'GET' && req.url === '/v2/credentials/pod') {
        state.requests.push({ ...base, json: undefined });
        if (req.headers.authorization !== state.containerToken) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'AccessDeniedException', message: 'bad token' }));
          return;
        }
        const t = temporary('ASIAPOD');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ AccessKeyId: t.accessKeyId, SecretAccessKey: t.secretAccessKey, Token: t.sessionToken, AccountId: '123456789012', Expiration: new Date(Date.now() + 3600_000).toISOString() }));
        return;
      }
      const akid = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const check = verifySigV4(base, state.issued.find((k) => k.accessKeyId === akid) ?? keys, 'monitoring');
      state.requests.push({ ...base, json, signatureProblem: check.problem, scope: check.scope, signedHeaders: check.signedHeaders });
      if (check.problem) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.service#InvalidSignatureException', message: `The request signature we calculated does not match the signature you provided (${check.problem})` }));
        return;
      }
      const reply = state.replies.shift() ?? state.fallback;
      if (reply.hang) return;
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'c0ffee00-0000-4000-8000-000000000001', ...reply.headers });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}
