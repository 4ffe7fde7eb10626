import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, PrometheusError } from '../src/errors';
import { clientForProvider, credentialsFromEnv, PrometheusClient } from '../src/adapters/prometheus/client';
import { collapseWhitespace, parseVector, singleValue } from '../src/adapters/prometheus/vector';
import { at, describeWithPrometheus, freePort, onPath, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(PrometheusError);
    return err as PrometheusError;
  }
  throw new Error('expected the query to fail');
}

describe('pure helpers', () => {
  it('collapses whitespace like Flagger', () => {
    expect(collapseWhitespace('\n  sum(\n\t rate(x[1m])\n  )  * 100\n')).toBe('sum( rate(x[1m]) ) * 100');
  });

  it('takes the last series, and no data for an empty vector or NaN', () => {
    expect(singleValue([])).toEqual({ kind: 'no-data' });
    expect(singleValue([{ labels: {}, value: 1 }, { labels: {}, value: NaN }])).toEqual({ kind: 'no-data' });
    expect(singleValue([{ labels: {}, value: NaN }, { labels: {}, value: 2 }])).toEqual({ kind: 'value', value: 2 });
  });

  it('reads Go spellings of special values and rejects malformed answers', () => {
    const body = (v: string) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, v] }] } });
    expect(parseVector(body('+Inf'))).toEqual([{ labels: {}, value: Infinity }]);
    expect(parseVector(body('-Inf'))).toEqual([{ labels: {}, value: -Infinity }]);
    expect(parseVector(body('1e3'))).toEqual([{ labels: {}, value: 1000 }]);
    expect(parseVector(body('abc'))).toMatchObject({ kind: 'bad-response' });
    expect(parseVector('<html>')).toMatchObject({ kind: 'bad-response' });
    expect(parseVector('{"status":"error"}')).toMatchObject({ kind: 'bad-response' });
    expect(parseVector('null')).toMatchObject({ kind: 'bad-response' });
  });
});

describe('credentialsFromEnv', () => {
  it('reads a bearer token or a basic pair, and nothing when unset or empty', () => {
    expect(credentialsFromEnv({ CANARYKIT_PROMETHEUS_TOKEN: 't' })).toEqual({ type: 'bearer', token: 't' });
    expect(credentialsFromEnv({ CANARYKIT_PROMETHEUS_USERNAME: 'u', CANARYKIT_PROMETHEUS_PASSWORD: 'p' })).toEqual({
      type: 'basic',
      username: 'u',
      password: 'p',
    });
    expect(credentialsFromEnv({})).toBeUndefined();
    expect(credentialsFromEnv({ CANARYKIT_PROMETHEUS_TOKEN: '' })).toBeUndefined();
  });

  it('rejects half a pair or both kinds, without echoing secrets', () => {
    expect(() => credentialsFromEnv({ CANARYKIT_PROMETHEUS_PASSWORD: 'hunter2' })).toThrow(/CANARYKIT_PROMETHEUS_USERNAME/);
    expect(() => credentialsFromEnv({ CANARYKIT_PROMETHEUS_USERNAME: 'u' })).toThrow(ConfigError);
    let message = '';
    try {
      credentialsFromEnv({ CANARYKIT_PROMETHEUS_TOKEN: 'tok-999', CANARYKIT_PROMETHEUS_USERNAME: 'u', CANARYKIT_PROMETHEUS_PASSWORD: 'pw-999' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('not both');
    expect(message).not.toMatch(/tok-999|pw-999/);
  });

  it('refuses an address with embedded credentials without printing them', () => {
    expect(() => new PrometheusClient({ address: 'http://admin:s3cr3t@prom:9090' })).toThrow(ConfigError);
    expect(() => new PrometheusClient({ address: 'http://admin:s3cr3t@prom:9090' })).not.toThrow(/s3cr3t/);
    expect(() => new PrometheusClient({ address: 'prom:9090' })).toThrow(/http or https/);
  });
});

// --- Wire behaviour against a local recording server -------------------------------------------

interface Recorded {
  url: URL;
  headers: IncomingHttpHeaders;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

const VECTOR_42 = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '42'] }] } });

/** Serves `reply` and records each request. */
async function recordingServer(reply: (res: ServerResponse) => void = (res) => res.end(VECTOR_42)) {
  const requests: Recorded[] = [];
  const server = createHttpServer((req: IncomingMessage, res) => {
    requests.push({ url: new URL(req.url ?? '/', 'http://x'), headers: req.headers });
    reply(res);
  });
  return { url: await listen(server), requests };
}

describe('PrometheusClient on the wire', () => {
  it('GETs /api/v1/query under the address path with the collapsed query and time', async () => {
    const server = await recordingServer();
    const client = new PrometheusClient({ address: `${server.url}/prom/` });
    expect(await client.query('sum(\n  rate(x[1m])\n)', at(300))).toEqual({ kind: 'value', value: 42 });
    const [req] = server.requests;
    expect(req.url.pathname).toBe('/prom/api/v1/query');
    expect(req.url.searchParams.get('query')).toBe('sum( rate(x[1m]) )');
    expect(req.url.searchParams.get('time')).toBe(String(Date.UTC(2026, 0, 1, 0, 5) / 1000));
    expect(req.headers.authorization).toBeUndefined();
  });

  it('omits time when no instant is given', async () => {
    const server = await recordingServer();
    await new PrometheusClient({ address: server.url }).query('up');
    expect(server.requests[0].url.searchParams.has('time')).toBe(false);
  });

  it('sends a bearer token and extra headers (lists joined per HTTP)', async () => {
    const server = await recordingServer();
    const client = new PrometheusClient({
      address: server.url,
      credentials: { type: 'bearer', token: 'tok-123' },
      headers: { 'X-Scope-OrgID': ['tenant-a'], 'X-Multi': ['a', 'b'] },
    });
    await client.query('up');
    const { headers } = server.requests[0];
    expect(headers.authorization).toBe('Bearer tok-123');
    expect(headers['x-scope-orgid']).toBe('tenant-a');
    expect(headers['x-multi']).toBe('a, b');
  });

  it('sends basic auth', async () => {
    const server = await recordingServer();
    await new PrometheusClient({ address: server.url, credentials: { type: 'basic', username: 'u', password: 'p@ss' } }).query('up');
    expect(server.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p@ss').toString('base64')}`);
  });

  it('never lets credentials into error messages, even when a proxy echoes them', async () => {
    const encoded = Buffer.from('u:pw-777').toString('base64');
    const server = await recordingServer((res) => {
      res.statusCode = 502;
      res.end(`bad gateway; you sent Bearer tok-777 / Basic ${encoded} / pw-777`);
    });
    const bearer = await failure(new PrometheusClient({ address: server.url, credentials: { type: 'bearer', token: 'tok-777' } }).query('up'));
    expect(bearer.kind).toBe('http');
    expect(bearer.status).toBe(502);
    expect(bearer.message).toContain('HTTP 502');
    expect(bearer.message).toContain(server.url);
    expect(bearer.message).not.toContain('tok-777');
    const basic = await failure(
      new PrometheusClient({ address: server.url, credentials: { type: 'basic', username: 'u', password: 'pw-777' } }).query('up'),
    );
    expect(basic.message).not.toContain('pw-777');
    expect(basic.message).not.toContain(encoded);
    expect(basic.retryable).toBe(true);
  });

  it('classifies 401 as an HTTP error that retrying will not fix', async () => {
    const server = await recordingServer((res) => {
      res.statusCode = 401;
      res.end('unauthorized');
    });
    const err = await failure(new PrometheusClient({ address: server.url }).query('up'));
    expect(err.kind).toBe('http');
    expect(err.retryable).toBe(false);
  });

  it('reports a non-JSON answer as a bad response', async () => {
    const server = await recordingServer((res) => res.end('<html>login</html>'));
    const err = await failure(new PrometheusClient({ address: server.url }).query('up'));
    expect(err.kind).toBe('bad-response');
    expect(err.message).toContain('<html>login</html>');
  });

  it('times out a server that never answers, within the configured time', async () => {
    const server = await recordingServer(() => undefined);
    const started = Date.now();
    const err = await failure(new PrometheusClient({ address: server.url, timeoutMs: 300 }).query('up'));
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.retryable).toBe(true);
  });

  it('reports a closed port as unreachable, fast', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await failure(new PrometheusClient({ address }).query('up'));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain(address);
    expect(err.message).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it.skipIf(!onPath('openssl'))('verifies TLS certificates unless insecureSkipVerify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canarykit-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) =>
        res.end(VECTOR_42),
      );
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const strict = await failure(new PrometheusClient({ address }).query('up'));
      expect(strict.kind).toBe('unreachable');
      expect(await new PrometheusClient({ address, insecureSkipVerify: true }).query('up')).toEqual({ kind: 'value', value: 42 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('clientForProvider', () => {
  it('sends environment credentials only to providers that name a secretRef', async () => {
    const server = await recordingServer();
    const env = { CANARYKIT_PROMETHEUS_TOKEN: 'tok-abc' };
    await clientForProvider({ type: 'prometheus', address: server.url }, { env }).query('up');
    await clientForProvider({ type: 'prometheus', address: server.url, secretRef: 'prom-auth' }, { env }).query('up');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, 'Bearer tok-abc']);
  });

  it("sends them to the driver's own Prometheus (readiness, built-in metrics), not to other servers", async () => {
    const driver = await recordingServer();
    const other = await recordingServer();
    const env = { CANARYKIT_PROMETHEUS_USERNAME: 'ops', CANARYKIT_PROMETHEUS_PASSWORD: 'pw-123' };
    await clientForProvider({ type: 'prometheus', address: `${driver.url}/` }, { env, driverAddress: driver.url }).query('up');
    await clientForProvider({ type: 'prometheus', address: other.url }, { env, driverAddress: driver.url }).query('up');
    // No credentials set: the driver's Prometheus is asked without any.
    await clientForProvider({ type: 'prometheus', address: driver.url }, { env: {}, driverAddress: driver.url }).query('up');
    expect(driver.requests.map((r) => r.headers.authorization)).toEqual([`Basic ${Buffer.from('ops:pw-123').toString('base64')}`, undefined]);
    expect(other.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
  });

  it('fails when a secretRef is named but no credentials are set', () => {
    expect(() => clientForProvider({ type: 'prometheus', address: 'http://prom:9090', secretRef: 'prom-auth' }, { env: {} })).toThrow(
      /prom-auth.*CANARYKIT_PROMETHEUS_TOKEN/,
    );
  });
});

// --- Semantics against a real Prometheus --------------------------------------------------------

function data(): OpenMetricsWriter {
  return new OpenMetricsWriter()
    .gauge('pick', { i: 'a' }, 3)
    .gauge('pick', { i: 'b' }, 7)
    .gauge('pick', { i: 'c' }, 5)
    .counter('idle_total', { job: 'idle' }, 0)
    .series('ramp', {}, (t) => t);
}

describeWithPrometheus('PrometheusClient against Prometheus', () => {
  const prom = usePrometheus(data);
  const client = () => new PrometheusClient({ address: prom.url });

  it('queries at the given instant', async () => {
    expect(await client().query('ramp', at(300))).toEqual({ kind: 'value', value: 300 });
    expect(await client().query('ramp', QUERY_TIME)).toEqual({ kind: 'value', value: 600 });
  });

  it('uses the last series of several', async () => {
    // sort() orders by value ascending and sort_desc() descending: the last series is max, then min.
    expect(await client().query('sort(pick)', QUERY_TIME)).toEqual({ kind: 'value', value: 7 });
    expect(await client().query('sort_desc(pick)', QUERY_TIME)).toEqual({ kind: 'value', value: 3 });
  });

  it('returns every series with labels', async () => {
    const samples = await client().querySeries('sort(pick)', QUERY_TIME);
    expect(samples.map((s) => [s.labels.i, s.labels.__name__, s.value])).toEqual([
      ['a', 'pick', 3],
      ['c', 'pick', 5],
      ['b', 'pick', 7],
    ]);
  });

  it('has no data for a series that does not exist', async () => {
    expect(await client().query('sum(rate(nothing_here_total[1m]))', QUERY_TIME)).toEqual({ kind: 'no-data' });
  });

  it('has no data for 0/0 (NaN) when a counter did not move', async () => {
    const query = 'sum(rate(idle_total[1m])) / sum(rate(idle_total[1m])) * 100';
    expect(await client().querySeries(query, QUERY_TIME)).toEqual([{ labels: {}, value: NaN }]);
    expect(await client().query(query, QUERY_TIME)).toEqual({ kind: 'no-data' });
  });

  it('reads infinities', async () => {
    expect(await client().query('vector(1) / 0', QUERY_TIME)).toEqual({ kind: 'value', value: Infinity });
  });

  it.each([
    ['pick[1m]', 'matrix'],
    ['scalar(sum(pick))', 'scalar'],
    ['"text"', 'string'],
  ])('rejects %s (a %s) as a bad query', async (query, type) => {
    const err = await failure(client().query(query, QUERY_TIME));
    expect(err.kind).toBe('bad-query');
    expect(err.message).toContain(`returned a ${type}`);
  });

  it('reports unparseable PromQL as a bad query (HTTP 400) with Prometheus reason', async () => {
    const err = await failure(client().query('sum(rate(pick[1m])', QUERY_TIME));
    expect(err.kind).toBe('bad-query');
    expect(err.status).toBe(400);
    expect(err.message).toContain('parse error');
    expect(err.message).toContain(prom.url);
    expect(err.retryable).toBe(false);
  });

  it('reports a query Prometheus cannot execute as a bad query (HTTP 422)', async () => {
    const err = await failure(client().query('pick + on() pick', QUERY_TIME));
    expect(err.kind).toBe('bad-query');
    expect(err.status).toBe(422);
  });
});
