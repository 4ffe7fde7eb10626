import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectMetric } from '../src/adapters/metrics/connect';
import { GRAPHITE, pickGraphiteValue, renderUrl } from '../src/adapters/metrics/graphite';
import { MetricSource } from '../src/adapters/metrics/source';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { GRAPHITE_SPEC } from '../src/model/metric-providers/graphite';
import { MetricProviderPlan, PlannedMetric } from '../src/model/plan';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from '../src/constructs/output-dir';
import { tempDir } from './compile/support';
import { GraphiteServer, startGraphiteServer } from './support/graphite-server';

// The graphite metrics provider: Flagger v1.44.0 pkg/metrics/providers/graphite.go (NewGraphiteProvider,
// RunQuery, IsOnline, trimQuery) and graphite_test.go, against a local Graphite render API.

const USER = 'flagger-reader';
const PASSWORD = 'gr4phite-pa55word-7c1e9d';
const ENV = {
  CANARYKIT_SECRET_TEST_GRAPHITE_BASIC_AUTH_USERNAME: USER,
  CANARYKIT_SECRET_TEST_GRAPHITE_BASIC_AUTH_PASSWORD: PASSWORD,
};

function metric(provider: Partial<MetricProviderPlan>): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> {
  return { provider: { type: 'graphite', ...provider }, templateRef: { name: 'graphite-request-success-rate', namespace: 'test' }, interval: '1m' };
}

function connect(provider: Partial<MetricProviderPlan>, env: NodeJS.ProcessEnv = ENV, timeoutMs = 2000): Promise<MetricSource> {
  return connectMetric(metric(provider), { env, timeoutMs, driverServer: 'http://prometheus.invalid:9090' });
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
}


/** A self-signed HTTPS server on 127.0.0.1 answering `body`, or undefined without openssl. */
async function selfSignedServer(contentType: string, body: string): Promise<{ url: string; close: () => void } | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = createHttpsServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const HAS_OPENSSL = (process.env.PATH ?? '').split(path.delimiter).some((d) => fs.existsSync(path.join(d, 'openssl')));

// The query of Flagger's docs (docs/gitbook/usage/metrics.md "Graphite"), rendered for podinfo at 1m.
const DOCS_QUERY = `target=summarize(
  asPercent(
    sumSeries(
      stats.timers.httpServerRequests.app.podinfo.exception.*.method.*.outcome.{CLIENT_ERROR,INFORMATIONAL,REDIRECTION,SUCCESS}.status.*.uri.*.count
    ),
    sumSeries(
      stats.timers.httpServerRequests.app.podinfo.exception.*.method.*.outcome.*.status.*.uri.*.count
    )
  ),
  1m,
  'avg'
)
`;

describe('graphite.go RunQuery: the render URL', () => {
  const base = new URL('http://graphite.monitoring');

  it('collapses whitespace (trimQuery), sets format=json and encodes as url.Values.Encode: keys sorted, Go escaping', () => {
    expect(renderUrl(base, 'target=sumSeries(app.http.*.*.count)&from=-2min')).toBe(
      'http://graphite.monitoring/render?format=json&from=-2min&target=sumSeries%28app.http.%2A.%2A.count%29',
    );
    const docs = renderUrl(base, DOCS_QUERY) as string;
    // Newlines and indentation are single spaces (Go's \s+ -> " "), the trailing newline too: nothing is trimmed.
    expect(new URL(docs).searchParams.get('target')).toBe(
      "summarize( asPercent( sumSeries( stats.timers.httpServerRequests.app.podinfo.exception.*.method.*.outcome.{CLIENT_ERROR,INFORMATIONAL,REDIRECTION,SUCCESS}.status.*.uri.*.count ), sumSeries( stats.timers.httpServerRequests.app.podinfo.exception.*.method.*.outcome.*.status.*.uri.*.count ) ), 1m, 'avg' ) ",
    );
    expect(docs).toContain('?format=json&target=summarize%28+asPercent%28+sumSeries%28+stats.timers');
    expect(docs).toContain('outcome.%7BCLIENT_ERROR%2CINFORMATIONAL%2CREDIRECTION%2CSUCCESS%7D.status');
    expect(docs.endsWith('%2C+1m%2C+%27avg%27+%29+')).toBe(true);
  });

  it('keeps a path prefix of the address (path.Join with "render") and replaces a format the query sets', () => {
    expect(renderUrl(new URL('https://mon.example.com/graphite/'), 'format=png&target=a.b&target=a.c')).toBe(
      'https://mon.example.com/graphite/render?format=json&target=a.b&target=a.c',
    );
    expect(renderUrl(new URL('http://g:8080/a//b'), 'target=x')).toBe('http://g:8080/a/b/render?format=json&target=x');
  });

  it('decodes the query as Go does: + is a space, %XX kept byte for byte, a "#" starts a fragment that is not sent', () => {
    expect(renderUrl(base, 'target=a+b%2Fc%C3%A9&until=now#comment')).toBe('http://graphite.monitoring/render?format=json&target=a+b%2Fc%C3%A9&until=now');
  });

  it("refuses what Go's url.ParseQuery would drop without a word: a ';' or a bad % escape in a parameter", () => {
    expect(renderUrl(base, "target=seriesByTag('name=disk.used;dc=eu')")).toEqual({ problem: expect.stringContaining('write ; as %3B') });
    expect(renderUrl(base, 'target=asPercent(a,100%)')).toEqual({ problem: expect.stringContaining('write % as %25') });
    expect(renderUrl(base, 'target=a\u0001')).toEqual({ problem: expect.stringContaining('control character') });
  });
});

describe('graphite.go RunQuery: which value', () => {
  it('the last non-null datapoint of the last series that has one (the loop over every target and point)', () => {
    const body = JSON.stringify([
      { target: 'a', datapoints: [[10, 1], [75, 2], [null, 3]] },
      { target: 'b', datapoints: [[3, 1], [4, 2], [null, 3]] },
      { target: 'c', datapoints: [[null, 1], [null, 2]] },
    ]);
    expect(pickGraphiteValue(body)).toEqual({ kind: 'value', value: 4 });
  });

  it('reads values and timestamps written as strings (graphiteDataPoint.UnmarshalJSON)', () => {
    expect(pickGraphiteValue('[{"target":"a","datapoints":[["12.5","1621348400"],["1e2",1621348410.4]]}]')).toEqual({ kind: 'value', value: 100 });
  });

  it.each([
    ['no series', '[]'],
    ['a null answer', 'null'],
    ['only null values', '[{"target":"a","datapoints":[[null,1],[null,2]]}]'],
    ['no datapoints', '[{"target":"a","datapoints":[]},{"target":"b"}]'],
    ['a NaN value (canarykit, as for Prometheus)', '[{"target":"a","datapoints":[[1,1],["nan",2]]}]'],
  ])('no data (ErrNoValuesFound): %s', (_name, body) => {
    expect(pickGraphiteValue(body)).toEqual({ kind: 'no-data' });
  });

  it.each([
    ['not JSON', '<html>', 'not JSON'],
    ['an object', '{"error":"x"}', 'not a JSON array'],
    ['a point of three', '[{"target":"a","datapoints":[[1,2,3]]}]', 'pair'],
    ['a text value', '[{"target":"a","datapoints":[["fast",2]]}]', 'value that is not a number'],
    ['a boolean timestamp', '[{"target":"a","datapoints":[[1,true]]}]', 'timestamp'],
  ])('what json.Unmarshal refuses is a problem: %s', (_name, body, text) => {
    expect(pickGraphiteValue(body)).toEqual({ problem: expect.stringContaining(text) });
  });
});

describe('graphite against a render API', () => {
  let server: GraphiteServer;
  beforeAll(async () => {
    server = await startGraphiteServer({
      basicAuth: { username: USER, password: PASSWORD },
      series: {
        'stats.podinfo.requests.2xx': [[90, 1621348400], [95, 1621348410], [null, 1621348420]],
        'stats.podinfo.requests.5xx': [[1, 1621348400], [2, 1621348410], [null, 1621348420]],
        'stats.podinfo.latency.p99': [[null, 1621348400], [null, 1621348410]],
      },
      expressions: {
        'sumSeries(stats.podinfo.requests.*)': [{ target: 'sumSeries(stats.podinfo.requests.*)', datapoints: [[10, 1621348400], [75, 1621348410], [25, 1621348420], [100, 1621348430]] }],
      },
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.seen.length = 0;
    server.override = undefined;
  });

  it('TestGraphiteProvider_RunQuery: GET /render with the target, from and format=json, basic auth from the Secret', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    expect(await source.query('target=sumSeries(stats.podinfo.requests.*)&from=-2min')).toEqual({ kind: 'value', value: 100 });
    expect(server.seen).toHaveLength(1);
    const [req] = server.seen;
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/render?format=json&from=-2min&target=sumSeries%28stats.podinfo.requests.%2A%29');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    expect(source.address).toBe(server.url);
  });

  it('picks across several matched series: the last series with a value, its last non-null point', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    // 2xx then 5xx match; the last non-null of the whole answer is the 5xx series' 2.
    expect(await source.query('target=stats.podinfo.requests.*')).toEqual({ kind: 'value', value: 2 });
    expect(await source.query('target=stats.podinfo.requests.5xx&target=stats.podinfo.latency.p99')).toEqual({ kind: 'value', value: 2 });
  });

  it('no data when nothing matches or every point is null (ErrNoValuesFound)', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    expect(await source.query('target=stats.nothing.*')).toEqual({ kind: 'no-data' });
    expect(await source.query('target=stats.podinfo.latency.p99')).toEqual({ kind: 'no-data' });
  });

  it('sends no Authorization header without a secretRef (NewGraphiteProvider returns before reading credentials)', async () => {
    const source = await connect({ address: server.url });
    const e = await failure(source.query('target=stats.podinfo.requests.2xx'));
    expect(server.seen[0].headers.authorization).toBeUndefined();
    expect(e).toMatchObject({ kind: 'http', status: 401, retryable: false });
    expect(e.message).toContain(`graphite query to ${server.url} failed: HTTP 401`);
  });

  it('HTTP 400 (a target the render API cannot parse) is a bad query; 5xx is retryable', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    const bad = await failure(source.query('target=noSuchFunction(stats.podinfo.*)'));
    expect(bad).toMatchObject({ kind: 'bad-query', status: 400, retryable: false });
    expect(bad.message).toContain('Invalid target: unknown function');
    server.override = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('carbonapi: backend unavailable');
      return true;
    };
    expect(await failure(source.query('target=a'))).toMatchObject({ kind: 'http', status: 503, retryable: true });
  });

  it('never puts the password in a message, even when the server echoes the request headers', async () => {
    server.override = (req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`upstream error for request with authorization: ${req.headers.authorization} (user ${USER}:${PASSWORD})`);
      return true;
    };
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    const e = await failure(source.query('target=a'));
    expect(e.message).toContain('HTTP 502');
    expect(e.message).not.toContain(PASSWORD);
    expect(e.message).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  });

  it('an answer that is not a render result is a bad response (json.Unmarshal failed)', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    // Without format=json graphite-web draws a PNG; here a proxy answers HTML with 200.
    server.override = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>maintenance</html>');
      return true;
    };
    expect(await failure(source.query('target=a'))).toMatchObject({ kind: 'bad-response', status: 200 });
  });

  it('a query Flagger would mangle is refused before sending', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    expect(await failure(source.query("target=seriesByTag('name=a;b')"))).toMatchObject({ kind: 'bad-query' });
    expect(server.seen).toHaveLength(0);
  });

  it('a server that does not answer in time is a timeout; a closed port is unreachable', async () => {
    server.override = () => true; // never answers
    const slow = await connect({ address: server.url, secretRef: 'graphite-basic-auth' }, ENV, 150);
    expect(await failure(slow.query('target=a'))).toMatchObject({ kind: 'timeout', retryable: true });
    const closed = await startGraphiteServer();
    await closed.close();
    const gone = await connect({ address: closed.url });
    const e = await failure(gone.query('target=a'));
    expect(e).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(e.message).toContain(`graphite query to ${closed.url} failed: request failed`);
  });

  it('TestNewGraphiteProvider: a secretRef without username or password is a ConfigError naming the variable', async () => {
    await expect(connect({ address: server.url, secretRef: 'graphite-basic-auth' }, { CANARYKIT_SECRET_TEST_GRAPHITE_BASIC_AUTH_PASSWORD: PASSWORD })).rejects.toThrow(
      new ConfigError('graphite credentials do not contain a username: set CANARYKIT_SECRET_TEST_GRAPHITE_BASIC_AUTH_USERNAME to key username of Secret test/graphite-basic-auth'),
    );
    const e = await connect({ address: server.url, secretRef: 'graphite-basic-auth' }, { CANARYKIT_SECRET_TEST_GRAPHITE_BASIC_AUTH_USERNAME: USER }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('CANARYKIT_SECRET_TEST_GRAPHITE_BASIC_AUTH_PASSWORD');
  });

  it('an address with credentials in it is refused at connect (they would sit in git)', async () => {
    const e = await connect({ address: `http://${USER}:${PASSWORD}@127.0.0.1:1` }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain(PASSWORD);
  });

  it('TestGraphiteProvider_IsOnline: GET /render?format=json&target=test; an empty answer is online', async () => {
    const source = await connect({ address: server.url, secretRef: 'graphite-basic-auth' });
    await expect(source.isOnline()).resolves.toBeUndefined();
    expect(server.seen.map((r) => r.url)).toEqual(['/render?format=json&target=test']);
  });

  it.each([
    [200, '[', 'running query failed: graphite query to'],
    [400, 'error', 'HTTP 400: error'],
    [500, 'error', 'HTTP 500: error'],
  ])('TestGraphiteProvider_IsOnline: HTTP %i with %j is not online', async (code, body, text) => {
    server.override = (_req, res) => {
      res.writeHead(code);
      res.end(body);
      return true;
    };
    const source = await connect({ address: server.url });
    await expect(source.isOnline()).rejects.toThrow(text);
  });

  it('is online when the test target has values', async () => {
    server.override = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[{"target":"test","datapoints":[[1,1]]}]');
      return true;
    };
    await expect((await connect({ address: server.url })).isOnline()).resolves.toBeUndefined();
  });

  it('serves under a path prefix', async () => {
    const prefixed = await startGraphiteServer({ prefix: '/graphite', series: { 'a.b': [[7, 1]] } });
    try {
      const source = await connect({ address: `${prefixed.url}/graphite/` });
      expect(await source.query('target=a.b')).toEqual({ kind: 'value', value: 7 });
      expect(prefixed.seen[0].path).toBe('/graphite/render');
    } finally {
      await prefixed.close();
    }
  });
});

describe('graphite over TLS', () => {
  it.skipIf(!HAS_OPENSSL)('verifies the certificate unless insecureSkipVerify (NewGraphiteProvider clones the transport with InsecureSkipVerify)', async () => {
    const server = await selfSignedServer('application/json', '[{"target":"a","datapoints":[[5,1]]}]');
    try {
      const strict = await connect({ address: server!.url });
      expect(await failure(strict.query('target=a'))).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/certificate/i) });
      const lax = await connect({ address: server!.url, insecureSkipVerify: true });
      expect(await lax.query('target=a')).toEqual({ kind: 'value', value: 5 });
    } finally {
      server?.close();
    }
  });
});

describe('GRAPHITE_SPEC.validate (NewGraphiteProvider: "graphite address <a> is not a valid URL")', () => {
  it.each([
    [undefined, 'is required for type graphite'],
    [':::', 'is not a valid URL'],
    ['graphite.monitoring:80', 'must be an http or https URL'],
  ])('refuses %j', (address, text) => {
    expect(GRAPHITE_SPEC.validate({ type: 'graphite', address })).toEqual([{ field: 'address', message: expect.stringContaining(text) }]);
  });

  it('accepts an http(s) URL, with or without a secretRef', () => {
    expect(GRAPHITE_SPEC.validate({ type: 'graphite', address: 'http://graphite.monitoring' })).toEqual([]);
    expect(GRAPHITE_SPEC.validate({ type: 'graphite', address: 'https://g.example.com/graphite', secretRef: 'x' })).toEqual([]);
    expect(GRAPHITE.spec).toBe(GRAPHITE_SPEC);
  });
});

// ---------------------------------------------------------------------------------------------
// compile: Flagger YAML with a graphite MetricTemplate (docs/gitbook/usage/metrics.md "Graphite").
// ---------------------------------------------------------------------------------------------

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.1.0
`;

const TEMPLATE = (address: string) => `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: graphite-request-success-rate
  namespace: test
spec:
  provider:
    type: graphite
    address: ${address}
    secretRef:
      name: graphite-basic-auth
  query: |
    target=summarize(
      asPercent(
        sumSeries(
          stats.timers.httpServerRequests.app.{{target}}.exception.*.method.*.outcome.{CLIENT_ERROR,INFORMATIONAL,REDIRECTION,SUCCESS}.status.*.uri.*.count
        ),
        sumSeries(
          stats.timers.httpServerRequests.app.{{target}}.exception.*.method.*.outcome.*.status.*.uri.*.count
        )
      ),
      {{interval}},
      'avg'
    )
`;

const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
    metrics:
      - name: success rate
        templateRef:
          name: graphite-request-success-rate
        thresholdRange:
          min: 90
        interval: 1m
`;

describe('compile: a Canary with a graphite MetricTemplate', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('canarykit-graphite-');
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  function write(docs: string[]): string {
    const dir = path.join(work, 'in');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), docs.join('---\n'));
    return dir;
  }

  it('plans the metric with its provider, Secret name, template and the rendered query', () => {
    const out = compileFiles([write([DEPLOYMENT, TEMPLATE('http://graphite.monitoring'), CANARY])], { stateDir: path.join(work, 'state') });
    const folder = out.folders.find((f) => f.dir === 'test/podinfo');
    const plan = JSON.parse(folder!.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === 'success rate');
    expect(m).toMatchObject({
      provider: { type: 'graphite', address: 'http://graphite.monitoring', secretRef: 'graphite-basic-auth' },
      templateRef: { name: 'graphite-request-success-rate', namespace: 'test' },
      interval: '1m',
      thresholdRange: { min: 90 },
    });
    expect(m.query).toContain('stats.timers.httpServerRequests.app.podinfo.exception.*.method.*.outcome.{CLIENT_ERROR,INFORMATIONAL,REDIRECTION,SUCCESS}.status.*.uri.*.count');
    expect(m.query).toContain("  1m,\n  'avg'\n)");
    expect(m.query).not.toContain('{{');
  });

  it('an address Flagger refuses fails with file, field path and fix, and nothing is written', async () => {
    const outdir = path.join(work, 'dist');
    fs.mkdirSync(path.join(outdir, 'test', 'old'), { recursive: true });
    fs.writeFileSync(path.join(outdir, 'test', 'old', 'deployment-old.yaml'), 'previous output\n');
    fs.writeFileSync(path.join(outdir, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
    const input = write([DEPLOYMENT, TEMPLATE('":::"'), CANARY]);
    const error = await compile({ files: [input], outdir, stateDir: path.join(work, 'state') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toMatch(/nothing was written/);
    expect(message).toContain('podinfo.yaml#2 MetricTemplate test/graphite-request-success-rate: spec.provider.address: ":::" is not a valid URL; write the full http(s) URL of the server (e.g. http://graphite.monitoring)');
    expect(message).toContain('used by Canary test/podinfo spec.analysis.metrics[0]');
    expect(fs.readdirSync(outdir, { recursive: true }).sort()).toEqual([OUTPUT_MARKER, 'test', 'test/old', 'test/old/deployment-old.yaml']);
  });
});
