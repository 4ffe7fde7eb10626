import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMetric } from '../src/adapters/metrics/connect';
import { MetricSource } from '../src/adapters/metrics/source';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { MetricProviderPlan, PlannedMetric } from '../src/model/plan';
import { DATADOG_API_KEY, DATADOG_APP_KEY, DatadogServer, closedAddress, selfSignedCert } from './support/datadog-server';

// pkg/metrics/providers/datadog.go (NewDatadogProvider, RunQuery, IsOnline) and datadog_test.go,
// against a local server speaking Datadog's v1 API (GET /api/v1/query, GET /api/v1/validate).

const ENV = {
  CANARYKIT_SECRET_ISTIO_SYSTEM_DATADOG_DATADOG_API_KEY: DATADOG_API_KEY,
  CANARYKIT_SECRET_ISTIO_SYSTEM_DATADOG_DATADOG_APPLICATION_KEY: DATADOG_APP_KEY,
};
const AT = new Date('2026-03-01T12:00:00.750Z');
const AT_S = Math.floor(AT.getTime() / 1000);

function metric(provider: Partial<MetricProviderPlan>, interval = '1m'): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> {
  return { provider: { type: 'datadog', secretRef: 'datadog', ...provider }, templateRef: { name: 'not-found-percentage', namespace: 'istio-system' }, interval };
}

function connect(provider: Partial<MetricProviderPlan>, o: { interval?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<MetricSource> {
  return connectMetric(metric(provider, o.interval), { env: o.env ?? ENV, timeoutMs: o.timeoutMs ?? 2000, driverServer: 'http://127.0.0.1:1' });
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
}

const QUERY = 'avg:system.cpu.user{env:prod} by {host}';
// Two hosts, three one-minute buckets each, oldest first (Datadog's pointlist order).
const SERIES = [
  { scope: 'host:web-1', points: [[1772366040000, 1.25], [1772366100000, 56.5], [1772366160000, 29.75]] as [number, number][] },
  { scope: 'host:web-2', points: [[1772366040000, 7.5], [1772366100000, 8.5]] as [number, number][] },
];

describe('datadog RunQuery (datadog.go RunQuery, datadog_test.go TestDatadogProvider_RunQuery)', () => {
  let server: DatadogServer;
  let answers: Record<string, ReturnType<ConstructorParameters<typeof DatadogServer>[0] & object>> = {};
  beforeAll(async () => {
    server = await new DatadogServer((q) => answers[q]).start();
  });
  afterAll(() => server.stop());
  afterEach(() => {
    server.requests.length = 0;
    answers = {};
  });

  it('GETs /api/v1/query with query, from = to - 10 intervals (Unix seconds) and both key headers', async () => {
    answers[QUERY] = SERIES;
    const source = await connect({ address: server.address });
    expect(source.address).toBe(server.address);
    await source.query(QUERY, AT);
    const [req] = server.requests;
    expect(server.requests).toHaveLength(1);
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/api/v1/query');
    expect([...req.query.keys()]).toEqual(['from', 'query', 'to']);
    expect(req.query.get('query')).toBe(QUERY);
    expect(req.query.get('to')).toBe(String(AT_S));
    expect(req.query.get('from')).toBe(String(AT_S - 600));
    expect(req.headers['dd-api-key']).toBe(DATADOG_API_KEY);
    expect(req.headers['dd-application-key']).toBe(DATADOG_APP_KEY);
    expect(req.headers.authorization).toBeUndefined();
  });

  it.each([
    ['30s', 300],
    ['1m30s', 900],
    ['5m', 3000],
    ['1.5s', 15],
  ])('interval %s: the window is %i seconds (int64(10 * md.Seconds()))', async (interval, delta) => {
    answers[QUERY] = SERIES;
    await (await connect({ address: server.address }, { interval })).query(QUERY, AT);
    expect(Number(server.requests[0].query.get('to')) - Number(server.requests[0].query.get('from'))).toBe(delta);
  });

  it('picks the first series and its first (oldest) point, not the newest bucket', async () => {
    answers[QUERY] = SERIES;
    expect(await (await connect({ address: server.address })).query(QUERY, AT)).toEqual({ kind: 'value', value: 1.25 });
  });

  it('sends a multi-line rendered query as written (Flagger does not collapse it)', async () => {
    const q = '100 - (\n  sum:istio.mesh.request.count{reporter:destination,!response_code:404}.as_count()\n  /\n  sum:istio.mesh.request.count{reporter:destination}.as_count()\n) * 100\n';
    answers[q] = [{ scope: '*', points: [[1772366040000, 2.5]] }];
    expect(await (await connect({ address: server.address })).query(q, AT)).toEqual({ kind: 'value', value: 2.5 });
    expect(server.requests[0].query.get('query')).toBe(q);
  });

  it('keeps a path prefix of the address and drops its trailing slash', async () => {
    const prefixed = new DatadogServer();
    await prefixed.start();
    try {
      prefixed.on('/dd/api/v1/query', () => ({ json: { series: [{ pointlist: [[1, 4]] }] } }));
      expect(await (await connect({ address: `${prefixed.address}/dd/` })).query(QUERY, AT)).toEqual({ kind: 'value', value: 4 });
      expect(prefixed.requests.map((r) => r.path)).toEqual(['/dd/api/v1/query']);
    } finally {
      await prefixed.stop();
    }
  });

  it.each([
    ['no series (a metric Datadog does not know)', undefined],
    ['a first series without points', [{ scope: 'host:web-1', points: [] }, SERIES[1]]],
  ])('%s is no data (ErrNoValuesFound)', async (_name, series) => {
    if (series) answers[QUERY] = series;
    expect(await (await connect({ address: server.address })).query(QUERY, AT)).toEqual({ kind: 'no-data' });
  });

  it('an answer without a series field is no data (Go decodes it as an empty list)', async () => {
    answers[QUERY] = { json: { status: 'ok', res_type: 'time_series' } };
    expect(await (await connect({ address: server.address })).query(QUERY, AT)).toEqual({ kind: 'no-data' });
  });

  // datadog.go RunQuery reads null as 0 (Go's float64 decoding): a max bound would pass on a missing bucket.
  it('a null value in the first point is no data, not the 0 Flagger reads', async () => {
    answers[QUERY] = [{ scope: 'host:web-1', points: [[1772366040000, null], [1772366100000, 3]] }];
    expect(await (await connect({ address: server.address })).query(QUERY, AT)).toEqual({ kind: 'no-data' });
  });

  it.each([
    [400, { errors: ["Error parsing query: \n unable to parse avg:system.cpu.user{: Rule 'scope_expr' didn't match"] }, 'bad-query', false],
    [403, { errors: ['Forbidden'] }, 'http', false],
    [429, { errors: ['Rate limit exceeded'] }, 'http', false],
    [500, { errors: ['Internal Server Error'] }, 'http', true],
    [503, { errors: ['Service Unavailable'] }, 'http', true],
  ] as const)('HTTP %i is MetricsError %s (retryable %s), naming datadog and the address', async (status, json, kind, retryable) => {
    answers[QUERY] = { status, json };
    const e = await failure((await connect({ address: server.address })).query(QUERY, AT));
    expect(e.kind).toBe(kind);
    expect(e.status).toBe(status);
    expect(e.retryable).toBe(retryable);
    expect(e.address).toBe(server.address);
    expect(e.message).toContain(`datadog query to ${server.address} failed: HTTP ${status}`);
    expect(e.message).toContain(json.errors[0].slice(0, 20));
  });

  it('a body that is not JSON is bad-response', async () => {
    answers[QUERY] = { text: '<html>gateway</html>' };
    const e = await failure((await connect({ address: server.address })).query(QUERY, AT));
    expect(e.kind).toBe('bad-response');
    expect(e.message).toContain('error unmarshaling result');
  });

  it('a hung server is a timeout', async () => {
    answers[QUERY] = 'hang';
    const e = await failure((await connect({ address: server.address }, { timeoutMs: 200 })).query(QUERY, AT));
    expect(e.kind).toBe('timeout');
    expect(e.retryable).toBe(true);
  });

  it('nothing listening is unreachable', async () => {
    const address = await closedAddress();
    const e = await failure((await connect({ address })).query(QUERY, AT));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain(`datadog query to ${address} failed: request failed`);
  });

  it('never shows a key, even when the server echoes the request headers', async () => {
    server.on('/api/v1/query', (r) => ({ status: 403, json: { errors: [`Forbidden: bad keys ${r.headers['dd-api-key']} / ${r.headers['dd-application-key']}`] } }));
    try {
      const e = await failure((await connect({ address: server.address })).query(QUERY, AT));
      expect(e.message).toContain('Forbidden: bad keys ***');
      expect(e.message).not.toContain(DATADOG_API_KEY);
      expect(e.message).not.toContain(DATADOG_APP_KEY);
      expect(JSON.stringify(e)).not.toContain(DATADOG_API_KEY);
    } finally {
      server.on('/api/v1/query', () => ({ status: 410 }));
    }
  });
});

describe('datadog over HTTPS with a certificate nobody trusts', () => {
  let server: DatadogServer;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-dd-tls-'));
    server = await new DatadogServer(() => SERIES).start(selfSignedCert(dir));
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is refused (unreachable) by default', async () => {
    const e = await failure((await connect({ address: server.address })).query(QUERY, AT));
    expect(e.kind).toBe('unreachable');
  });

  it('is queried with insecureSkipVerify: true', async () => {
    expect(await (await connect({ address: server.address, insecureSkipVerify: true })).query(QUERY, AT)).toEqual({ kind: 'value', value: 1.25 });
  });
});

describe('datadog NewDatadogProvider (datadog_test.go TestNewDatadogProvider)', () => {
  it('defaults the address to https://api.datadoghq.com', async () => {
    expect((await connect({})).address).toBe('https://api.datadoghq.com');
  });

  it.each(['datadog_api_key', 'datadog_application_key'])('without %s: a ConfigError naming the environment variable', async (key) => {
    const env: Record<string, string> = { ...ENV };
    delete env[`CANARYKIT_SECRET_ISTIO_SYSTEM_DATADOG_${key.toUpperCase()}`];
    const e = await connect({}, { env }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(`datadog credentials do not contain ${key}: set CANARYKIT_SECRET_ISTIO_SYSTEM_DATADOG_${key.toUpperCase()} to key ${key} of Secret istio-system/datadog`);
  });

  it('an interval Go cannot parse is a ConfigError (error parsing metric interval)', async () => {
    await expect(connect({}, { interval: '1 minute' })).rejects.toThrow(ConfigError);
  });
});

describe('datadog IsOnline (datadog_test.go TestDatadogProvider_IsOnline)', () => {
  let server: DatadogServer;
  beforeAll(async () => {
    server = await new DatadogServer().start();
  });
  afterAll(() => server.stop());

  it('200 from GET /api/v1/validate with both key headers is online', async () => {
    server.requests.length = 0;
    await expect((await connect({ address: server.address })).isOnline(AT)).resolves.toBeUndefined();
    expect(server.requests.map((r) => [r.method, r.path, r.rawQuery, r.headers['dd-api-key'], r.headers['dd-application-key']])).toEqual([['GET', '/api/v1/validate', '', DATADOG_API_KEY, DATADOG_APP_KEY]]);
  });

  it('a rejected key (403) is not online, and the message shows no key', async () => {
    const wrong = { ...ENV, CANARYKIT_SECRET_ISTIO_SYSTEM_DATADOG_DATADOG_API_KEY: 'wrong-api-key-000' };
    const e = await failure((await connect({ address: server.address }, { env: wrong })).isOnline(AT));
    expect(e.message).toContain('datadog API key validation');
    expect(e.message).toContain('HTTP 403: {"errors":["Forbidden"]}');
    expect(e.message).not.toContain('wrong-api-key-000');
  });

  it('an unreachable Datadog is not online', async () => {
    const e = await failure((await connect({ address: await closedAddress() })).isOnline(AT));
    expect(e.kind).toBe('unreachable');
  });
});

// ---- compile: Flagger YAML with a Datadog MetricTemplate (docs/gitbook/usage/metrics.md "Datadog") ----

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
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: "404s percentage"
        templateRef:
          name: not-found-percentage
          namespace: istio-system
        thresholdRange:
          max: 5
        interval: 1m
`;

const TEMPLATE = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: not-found-percentage
  namespace: istio-system
spec:
  provider:
    type: datadog
    address: https://api.datadoghq.eu
    secretRef:
      name: datadog
  query: |
    100 - (
      sum:istio.mesh.request.count{reporter:destination,destination_workload_namespace:{{ namespace }},destination_workload:{{ target }},!response_code:404}.as_count()
      /
      sum:istio.mesh.request.count{reporter:destination,destination_workload_namespace:{{ namespace }},destination_workload:{{ target }}}.as_count()
    ) * 100
`;

describe('compile: a Canary with a Datadog MetricTemplate', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-datadog-'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  function input(template: string): string {
    const dir = fs.mkdtempSync(path.join(work, 'in-'));
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), [DEPLOYMENT, CANARY].join('---\n'));
    fs.writeFileSync(path.join(dir, 'templates.yaml'), template);
    return dir;
  }

  it('plans the metric with the datadog provider, its Secret, its template and the rendered query', () => {
    const out = compileFiles([input(TEMPLATE)], { stateDir: path.join(work, 'state') });
    const folder = out.folders.find((f) => f.dir === 'test/podinfo')!;
    const plan = JSON.parse(folder.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === '404s percentage');
    expect(m).toMatchObject({
      provider: { type: 'datadog', address: 'https://api.datadoghq.eu', secretRef: 'datadog' },
      templateRef: { name: 'not-found-percentage', namespace: 'istio-system' },
      interval: '1m',
      thresholdRange: { max: 5 },
      builtin: false,
    });
    expect(m.query).toContain('sum:istio.mesh.request.count{reporter:destination,destination_workload_namespace:test,destination_workload:podinfo,!response_code:404}.as_count()');
    expect(m.query).not.toContain('{{');
  });

  it.each([
    ['no secretRef', TEMPLATE.replace('    secretRef:\n      name: datadog\n', ''), 'spec.provider.secretRef: is required for type datadog: name a Secret', 'datadog_api_key and datadog_application_key'],
    ['an address that is no URL', TEMPLATE.replace('https://api.datadoghq.eu', 'api.datadoghq.eu'), 'spec.provider.address: "api.datadoghq.eu" is not a URL', "write the API's base URL, e.g. https://api.datadoghq.eu"],
  ])('%s: fails naming the file, the field and the fix; nothing is written', async (_name, template, field, fix) => {
    const outdir = path.join(work, `out-${_name.replace(/\W/g, '')}`);
    const e = await compile({ files: [input(template)], outdir, stateDir: path.join(work, 'state') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ValidationError);
    const message = (e as Error).message;
    expect(message).toContain('templates.yaml#1 MetricTemplate istio-system/not-found-percentage: ');
    expect(message).toContain(field);
    expect(message).toContain(fix);
    expect(message).toMatch(/nothing was written/);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });
});
