import { IncomingMessage, ServerResponse, createServer, get } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrometheusError } from '../../src/errors';
import { readBody, readIncoming } from '../../src/http-body';
import { LIMITS } from '../../src/limits';
import { excerpt, redact } from '../../src/redact';
import { sendAlerts } from '../../src/adapters/alerts/sending';
import { GitHubUnavailableError } from '../../src/errors';
import { githubPullRequests } from '../../src/adapters/review/github';
import { PrometheusClient } from '../../src/adapters/prometheus/client';
import { FLAGGER_MESSAGES, stageEvent } from '../../src/model/reasons';
import { callWebhook } from '../../src/adapters/webhooks/call';
import { PlannedWebhook } from '../../src/model/plan';
import { makePlan } from '../support/plans';

// Response bodies are read with one capped helper (src/http-body.ts) by every HTTP adapter, and
// secrets are redacted before any text is shortened (src/redact.ts). The endless server below
// never ends its body: an adapter that read it whole would hang until its timeout and grow without
// bound; the assertions check that the read stops at the cap (bytes kept, the server seeing the
// connection closed after a bounded amount), not how long it took.

const CAP = LIMITS.responseBytes;

function hook(url: string, extra: Partial<PlannedWebhook> = {}): PlannedWebhook {
  return { name: 'load-test', type: 'rollout', url, timeoutSeconds: 5, retries: 0, ...extra };
}
const CHUNK = Buffer.alloc(64 * 1024, 'a');

interface Served {
  /** Bytes the server had written when the client closed the connection. */
  bytesAtClose: number[];
}

let url = '';
const served: Served = { bytesAtClose: [] };
/** What the next request is answered with. */
let respond: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

function endless(status: number, contentType = 'application/json') {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(status, { 'Content-Type': contentType });
    let written = 0;
    const pump = (): void => {
      while (!res.destroyed) {
        written += CHUNK.length;
        if (!res.write(CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.on('close', () => served.bytesAtClose.push(written));
    pump();
  };
}

const server = createServer((req, res) => respond(req, res));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  served.bytesAtClose.length = 0;
});

/** The server saw the client go away after a bounded amount (cap plus socket buffers), not an endless stream. */
async function expectClosedEarly(): Promise<void> {
  for (let i = 0; i < 100 && served.bytesAtClose.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(served.bytesAtClose.length).toBeGreaterThan(0);
  expect(served.bytesAtClose[0]).toBeLessThan(64 * 1024 * 1024);
}

describe('capped body reads against an endless body (real HTTP server on loopback)', () => {
  it('readBody keeps exactly the cap and cancels the stream', async () => {
    respond = endless(200);
    const read = await readBody(await fetch(url));
    expect(read).toMatchObject({ truncated: true, bytes: CAP });
    expect(read.text.length).toBe(CAP);
    await expectClosedEarly();
  });

  it('readIncoming (node:http, the disableTLS webhook path) keeps exactly the cap and destroys the response', async () => {
    respond = endless(200);
    const res = await new Promise<IncomingMessage>((resolve, reject) => get(url, resolve).on('error', reject));
    const read = await readIncoming(res);
    expect(read).toMatchObject({ truncated: true, bytes: CAP });
    await expectClosedEarly();
  });

  it('a short body is read whole', async () => {
    respond = (_req, res) => res.end('{"ok":true}');
    expect(await readBody(await fetch(url))).toEqual({ text: '{"ok":true}', truncated: false, bytes: 11 });
  });

  it('Prometheus: an endless answer is a bad-response error naming the cap, not a timeout', async () => {
    respond = endless(200);
    const heapBefore = process.memoryUsage().heapUsed;
    const err = await new PrometheusClient({ address: url, timeoutMs: 30_000 }).query('up').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect(err).toMatchObject({ kind: 'bad-response' });
    expect((err as Error).message).toContain('larger than 1 MiB');
    // Without the cap the heap would hold the whole stream; with it, at most about the cap.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    await expectClosedEarly();
  });

  it('webhooks: an endless 200 answer is a success after one attempt (status decides, the body is cut)', async () => {
    respond = endless(200, 'text/plain');
    const result = await callWebhook(hook(`${url}/hook`, { timeoutSeconds: 30 }), { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'x' });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(result.message.length).toBeLessThan(600);
    await expectClosedEarly();
  });

  it('alerts: an endless error answer is a failed delivery with a short excerpt', async () => {
    respond = endless(500, 'text/plain');
    const plan = makePlan({ alerts: [{ name: 'slack', severity: 'info', provider: { name: 'slack', namespace: 'test', type: 'slack', channel: 'c', username: 'u', address: `${url}/services/x` } }] });
    const [result] = await sendAlerts(plan, [stageEvent('NewRevision', FLAGGER_MESSAGES.newRevision)]);
    expect(result.ok).toBe(false);
    expect(result.message.length).toBeLessThan(600);
    await expectClosedEarly();
  });

  it('GitHub: an endless answer is an unavailable error (retried next tick)', async () => {
    respond = endless(200);
    const host = githubPullRequests({ apiUrl: url, repository: 'acme/deploy', base: 'main', token: 'ghp_endlessbodytoken', timeoutMs: 30_000 });
    const err = await host.findOpen('canarykit/test/podinfo').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubUnavailableError);
    await expectClosedEarly();
  });
});

// 33 characters, distinctive, so any 6-character piece of it in the output is a leak.
const TOKEN = 'ghp_Z9q8W7e6R5t4Y3u2I1o0PaSdFgHjK';
/** A body whose 300-character cut falls in the middle of the token. */
const STRADDLING = `${'x'.repeat(280)}${TOKEN} and more text after it`;

function expectNoPieceOf(secret: string, text: string): void {
  for (let i = 0; i + 6 <= secret.length; i++) expect(text, `leaks "${secret.slice(i, i + 6)}"`).not.toContain(secret.slice(i, i + 6));
}

describe('redact before truncate', () => {
  it('excerpt removes a token that straddles the cut, and the tail of a body cut inside a token', () => {
    expectNoPieceOf(TOKEN, excerpt(STRADDLING, 300, [TOKEN]));
    expectNoPieceOf(TOKEN, redact(`${'x'.repeat(10)}${TOKEN.slice(0, 20)}`, [TOKEN]));
    expect(redact(`Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, [`u:${TOKEN}`])).toBe('Basic ***');
    expect(redact('https://user:pa55@host/x')).toBe('https://user:***@host/x');
  });

  it('Prometheus: a 400 body echoing the bearer token at the 300-character cut leaks none of it', async () => {
    respond = (_req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: STRADDLING }));
    };
    const err = await new PrometheusClient({ address: url, credentials: { type: 'bearer', token: TOKEN } }).query('up').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as Error).message).toContain('***');
    expectNoPieceOf(TOKEN, (err as Error).message);
  });

  it('GitHub: a 422 message echoing the token at the cut leaks none of it', async () => {
    respond = (_req, res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Validation Failed', errors: [{ message: STRADDLING }] }));
    };
    const host = githubPullRequests({ apiUrl: url, repository: 'acme/deploy', base: 'main', token: TOKEN });
    const err = await host.open({ branch: 'canarykit/test/podinfo', title: 't', body: 'b' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('422');
    expectNoPieceOf(TOKEN, (err as Error).message);
  });

  it('webhooks: a body echoing the Basic credentials of the hook URL leaks none of them', async () => {
    respond = (req, res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`${'y'.repeat(280)} you sent ${req.headers.authorization} and ${TOKEN}`);
    };
    const result = await callWebhook(hook(`http://bot:${TOKEN}@127.0.0.1:${new URL(url).port}/hook`), { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'x' });
    expect(result.ok).toBe(false);
    expectNoPieceOf(TOKEN, result.message);
    expectNoPieceOf(Buffer.from(`bot:${TOKEN}`).toString('base64'), result.message);
  });
});
