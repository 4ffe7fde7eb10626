import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PlannedWebhook } from '../src/model/plan';
import {
  backoffDelayMs,
  buildWebhookPayload,
  callWebhook,
  redactUrl,
  runHooks,
  WebhookContext,
} from '../src/adapters/webhooks/call';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What the server does with the n-th request (0-based): answer, or `hang` to never answer. */
type Responder = (req: Recorded, n: number) => { status: number; body?: string; location?: string } | 'hang';

interface TestServer {
  url: string;
  requests: Recorded[];
}

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function handler(requests: Recorded[], respond: Responder) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const rec = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      const answer = respond(rec, requests.length - 1);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'Content-Type': 'text/plain', ...(answer.location ? { Location: answer.location } : {}) }).end(answer.body ?? '');
    });
  };
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startServer(respond: Responder = () => ({ status: 200, body: 'ok' })): Promise<TestServer> {
  const requests: Recorded[] = [];
  const url = await listen(createHttpServer(handler(requests, respond)), 'http');
  return { url, requests };
}

function hook(url: string, extra: Partial<PlannedWebhook> = {}): PlannedWebhook {
  return { name: 'load-test', type: 'rollout', url, timeoutSeconds: 5, retries: 0, ...extra };
}

const ctx: WebhookContext = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'abc123' };
const fast = { backoffBaseMs: 1 };

describe('callWebhook request', () => {
  it('POSTs exactly name, namespace, phase, checksum and metadata as JSON', async () => {
    const srv = await startServer();
    const result = await callWebhook(hook(`${srv.url}/hook?x=1`, { metadata: { cmd: 'hey' } }), ctx);
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    const [req] = srv.requests;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hook?x=1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toStrictEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: 'abc123',
      metadata: { cmd: 'hey' },
    });
  });

  it.each([undefined, {}])('omits metadata when it is %j', async (metadata) => {
    const srv = await startServer();
    await callWebhook(hook(srv.url, { metadata }), ctx);
    expect(Object.keys(JSON.parse(srv.requests[0].body))).toEqual(['name', 'namespace', 'phase', 'checksum']);
  });

  it('sends URL credentials as Basic auth and never shows them', async () => {
    const srv = await startServer(() => ({ status: 500, body: 'nope' }));
    const url = srv.url.replace('http://', 'http://user:s3cr3t@');
    const result = await callWebhook(hook(url), ctx);
    expect(srv.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('user:s3cr3t').toString('base64')}`);
    expect(result.message).not.toContain('s3cr3t');
    expect(result.message).toContain('user:***@127.0.0.1');
  });
});

describe('callWebhook status handling', () => {
  it.each([200, 201, 202])('%i is a success', async (status) => {
    const srv = await startServer(() => ({ status }));
    expect((await callWebhook(hook(srv.url), ctx)).ok).toBe(true);
  });

  it.each([203, 204, 302, 400, 403, 500])('%i is a failure carrying the body', async (status) => {
    const srv = await startServer(() => ({ status, body: 'gate closed' }));
    const result = await callWebhook(hook(srv.url), ctx);
    expect(result.ok).toBe(false);
    expect(result.status).toBe(status);
    if (status !== 204) expect(result.message).toContain('gate closed');
    expect(srv.requests).toHaveLength(1);
  });

  it('truncates a long body in the message', async () => {
    const srv = await startServer(() => ({ status: 500, body: 'x'.repeat(10_000) }));
    const result = await callWebhook(hook(srv.url), ctx);
    expect(result.message.length).toBeLessThan(500);
  });
});

describe('callWebhook retries', () => {
  it('retries 5xx and 429 until success', async () => {
    const statuses = [500, 429, 503, 200];
    const srv = await startServer((_r, n) => ({ status: statuses[n] }));
    const result = await callWebhook(hook(srv.url, { retries: 3 }), ctx, fast);
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 4 });
    expect(srv.requests).toHaveLength(4);
  });

  it('gives up after `retries` extra attempts with the last answer', async () => {
    const srv = await startServer((_r, n) => ({ status: 500, body: `boom ${n}` }));
    const result = await callWebhook(hook(srv.url, { retries: 2 }), ctx, fast);
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 3 });
    expect(result.message).toMatch(/boom 2 \(after 3 attempts\)/);
    expect(srv.requests).toHaveLength(3);
  });

  it.each([400, 501])('does not retry %i', async (status) => {
    const srv = await startServer(() => ({ status }));
    const result = await callWebhook(hook(srv.url, { retries: 3 }), ctx, fast);
    expect(result.attempts).toBe(1);
    expect(srv.requests).toHaveLength(1);
  });

  it('retries connection errors', async () => {
    const srv = await startServer();
    const closed = servers.pop()!;
    closed.closeAllConnections();
    await new Promise((r) => closed.close(r));
    const result = await callWebhook(hook(srv.url, { retries: 1 }), ctx, fast);
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.status).toBeUndefined();
    expect(result.message).toMatch(/ECONNREFUSED/);
  });

  it('doubles the backoff from the base up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((r) => backoffDelayMs(r))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelayMs(3, 10, 50)).toBe(50);
  });
});

describe('callWebhook timeout', () => {
  it('abandons an attempt after timeoutSeconds and retries it', async () => {
    const srv = await startServer(() => 'hang');
    const t0 = performance.now();
    const result = await callWebhook(hook(srv.url, { timeoutSeconds: 0.2, retries: 1 }), ctx, fast);
    const elapsed = performance.now() - t0;
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.message).toMatch(/timed out after 0.2s/);
    expect(srv.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(2000);
  });
});

describe('event hooks', () => {
  it('carry eventMessage, eventType and timestamp, plus the hook metadata that does not collide', () => {
    const h = hook('http://x', { type: 'event', metadata: { channel: 'ops', eventType: 'mine' } });
    const payload = buildWebhookPayload(h, {
      ...ctx,
      event: { message: 'Advance podinfo.test canary weight 20', type: 'Normal', timestamp: 1_700_000_000_123 },
    });
    expect(payload.metadata).toStrictEqual({
      channel: 'ops',
      eventMessage: 'Advance podinfo.test canary weight 20',
      eventType: 'Normal',
      timestamp: '1700000000123',
    });
  });

  it('other hook types ignore the event', () => {
    const payload = buildWebhookPayload(hook('http://x'), { ...ctx, event: { message: 'm', type: 'Warning', timestamp: 1 } });
    expect(payload.metadata).toBeUndefined();
  });
});

describe('runHooks', () => {
  async function byPath(failing: string[]) {
    return startServer((req) => (failing.includes(req.path) ? { status: 500, body: `${req.path} failed` } : { status: 200 }));
  }

  it('runs hooks of the type in spec order and stops at the first failure', async () => {
    const srv = await byPath(['/b']);
    const hooks = [
      hook(`${srv.url}/a`, { name: 'a', type: 'pre-rollout' }),
      hook(`${srv.url}/x`, { name: 'x', type: 'rollout' }),
      hook(`${srv.url}/b`, { name: 'b', type: 'pre-rollout' }),
      hook(`${srv.url}/c`, { name: 'c', type: 'pre-rollout' }),
    ];
    const results = await runHooks(hooks, 'pre-rollout', ctx, fast);
    expect(results.map((r) => [r.hook, r.ok])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(results[1].message).toContain('/b failed');
    expect(srv.requests.map((r) => r.path)).toEqual(['/a', '/b']);
  });

  it('returns no results when no hook has the type', async () => {
    expect(await runHooks([hook('http://127.0.0.1:9/')], 'confirm-promotion', ctx)).toEqual([]);
  });

  it('stops rollback hooks at the first success, which signals a rollback', async () => {
    const srv = await byPath(['/a']);
    const hooks = ['a', 'b', 'c'].map((n) => hook(`${srv.url}/${n}`, { name: n, type: 'rollback' }));
    const results = await runHooks(hooks, 'rollback', ctx, fast);
    expect(results.map((r) => [r.hook, r.ok])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });

  it('runs every event hook even after a failure', async () => {
    const srv = await byPath(['/a']);
    const hooks = ['a', 'b'].map((n) => hook(`${srv.url}/${n}`, { name: n, type: 'event' }));
    const event = { message: 'm', type: 'Warning' as const, timestamp: 5 };
    const results = await runHooks(hooks, 'event', { ...ctx, event }, fast);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(JSON.parse(srv.requests[1].body).metadata).toEqual({ eventMessage: 'm', eventType: 'Warning', timestamp: '5' });
  });
});

describe('TLS', () => {
  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  async function startSelfSignedServer(respond: Responder = () => ({ status: 202 })): Promise<TestServer> {
    const dir = mkdtempSync(join(tmpdir(), 'canarykit-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const key = readFileSync(join(dir, 'key.pem'));
      const cert = readFileSync(join(dir, 'cert.pem'));
      const requests: Recorded[] = [];
      const url = await listen(createHttpsServer({ key, cert }, handler(requests, respond)), 'https');
      return { url, requests };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.skipIf(!hasOpenssl)('rejects a self-signed certificate without retrying, and accepts it with disableTLS', async () => {
    const srv = await startSelfSignedServer();
    const strict = await callWebhook(hook(srv.url, { retries: 2 }), ctx, fast);
    expect(strict).toMatchObject({ ok: false, attempts: 1 });
    expect(strict.message).toMatch(/TLS verification/);
    const relaxed = await callWebhook(hook(srv.url, { disableTLS: true }), ctx, fast);
    expect(relaxed).toMatchObject({ ok: true, status: 202 });
    expect(JSON.parse(srv.requests[0].body).name).toBe('podinfo');
  });

  it.skipIf(!hasOpenssl)('a disableTLS hook follows redirects too (webhook.go callWebhook: Go http.Client)', async () => {
    const target = await startServer(() => ({ status: 202 }));
    const srv = await startSelfSignedServer((r) => (r.path === '/hook' ? { status: 308, location: `${target.url}/moved` } : { status: 404 }));
    const result = await callWebhook(hook(`${srv.url}/hook`, { disableTLS: true }), ctx, fast);
    expect(result).toMatchObject({ ok: true, status: 202, attempts: 1 });
    expect(target.requests.map((r) => [r.method, r.path, JSON.parse(r.body).name])).toEqual([['POST', '/moved', 'podinfo']]);
  });
});

// webhook.go callWebhook posts through retryablehttp on Go's http.Client: redirects are followed
// with Go's rules (net/http client.go redirectBehavior, defaultCheckRedirect).
describe('callWebhook redirects', () => {
  it('307 and 308 repeat the POST with its body', async () => {
    for (const status of [307, 308]) {
      const srv = await startServer((r) => (r.path === '/hook' ? { status, location: '/moved' } : { status: 200, body: 'done' }));
      const result = await callWebhook(hook(`${srv.url}/hook`), ctx, fast);
      expect(result).toMatchObject({ ok: true, status: 200 });
      expect(srv.requests.map((r) => [r.method, r.path])).toEqual([['POST', '/hook'], ['POST', '/moved']]);
      expect(JSON.parse(srv.requests[1].body)).toEqual(JSON.parse(srv.requests[0].body));
    }
  });

  it('301, 302 and 303 turn the POST into a GET without body', async () => {
    for (const status of [301, 302, 303]) {
      const srv = await startServer((r) => (r.path === '/hook' ? { status, location: '/moved' } : { status: 200 }));
      expect(await callWebhook(hook(`${srv.url}/hook`), ctx, fast)).toMatchObject({ ok: true, status: 200 });
      expect(srv.requests.map((r) => [r.method, r.path, r.body])).toEqual([['POST', '/hook', expect.stringContaining('podinfo')], ['GET', '/moved', '']]);
      expect(srv.requests[1].headers.referer).toBe(`${srv.url}/hook`);
    }
  });

  it('follows 10 redirects and stops at the 11th, as Go', async () => {
    const chain = (hops: number) => startServer((r) => {
      const n = Number(r.path.slice(1));
      return n < hops ? { status: 307, location: `/${n + 1}` } : { status: 200 };
    });
    const ten = await chain(10);
    expect(await callWebhook(hook(`${ten.url}/0`), ctx, fast)).toMatchObject({ ok: true, status: 200 });
    expect(ten.requests).toHaveLength(11);
    const eleven = await chain(11);
    const result = await callWebhook(hook(`${eleven.url}/0`), ctx, fast);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('stopped after 10 redirects');
    expect(eleven.requests).toHaveLength(11);
  });

  it('a 3xx without Location is the answer (not a success)', async () => {
    const srv = await startServer(() => ({ status: 302, body: 'no location' }));
    expect(await callWebhook(hook(srv.url), ctx, fast)).toMatchObject({ ok: false, status: 302 });
    expect(srv.requests).toHaveLength(1);
  });

  it('keeps Basic auth on the same host and drops it when a redirect leaves it', async () => {
    const other = await startServer(() => ({ status: 200 }));
    const elsewhere = other.url.replace('127.0.0.1', 'localhost');
    const srv = await startServer((r) => (r.path === '/hook' ? { status: 307, location: '/same' } : r.path === '/same' ? { status: 307, location: `${elsewhere}/other` } : { status: 404 }));
    const url = srv.url.replace('http://', 'http://user:s3cr3t@');
    const result = await callWebhook(hook(`${url}/hook`), ctx, fast);
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(srv.requests.map((r) => [r.path, r.headers.authorization !== undefined])).toEqual([['/hook', true], ['/same', true]]);
    expect(other.requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/other', undefined]]);
    expect(result.message).not.toContain('s3cr3t');
  });

  it('sends no Referer to another host: a webhook URL can be its own secret (deviation from Go)', async () => {
    const other = await startServer(() => ({ status: 200 }));
    const elsewhere = other.url.replace('127.0.0.1', 'localhost');
    const srv = await startServer((r) => (r.path.startsWith('/services/') ? { status: 307, location: `${elsewhere}/other` } : { status: 404 }));
    expect(await callWebhook(hook(`${srv.url}/services/T000/B000/XXXXsecret`), ctx, fast)).toMatchObject({ ok: true, status: 200 });
    expect(other.requests.map((r) => [r.path, r.headers.referer])).toEqual([['/other', undefined]]);
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://user:s3cr3t@hooks.example/x', 'https://user:***@hooks.example/x'],
    ['https://tok3n@hooks.example/x', 'https://***@hooks.example/x'],
    ['http://hooks.example/x?a=b@c', 'http://hooks.example/x?a=b@c'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('invalid hooks', () => {
  it('reports an unusable URL as a failed call', async () => {
    expect(await callWebhook(hook('not a url'), ctx)).toMatchObject({ ok: false, attempts: 0 });
    expect((await callWebhook(hook('ftp://x/'), ctx)).message).toMatch(/unsupported scheme/);
  });
});
