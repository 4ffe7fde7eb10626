import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMetric } from '../src/adapters/metrics/connect';
import { MetricSource } from '../src/adapters/metrics/source';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { MetricProviderPlan, PlannedMetric } from '../src/model/plan';
import { Reply, closedAddress } from './support/datadog-server';
import { DYNATRACE_TOKEN, DynatraceSeries, DynatraceServer } from './support/dynatrace-server';

// pkg/metrics/providers/dynatrace.go (NewDynatraceProvider, RunQuery, IsOnline) and
// dynatrace_test.go, against a local server speaking Dynatrace's Metrics API v2.

const ENV = { CANARYKIT_SECRET_ISTIO_SYSTEM_DYNATRACE_DYNATRACE_TOKEN: DYNATRACE_TOKEN };
const AT = new Date('2026-03-01T12:00:00.750Z');
const AT_MS = Math.floor(AT.getTime() / 1000) * 1000;

function metric(provider: Partial<MetricProviderPlan>, interval = '1m'): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> {
  return { provider: { type: 'dynatrace', secretRef: 'dynatrace', ...provider }, templateRef: { name: 'response-time-95pct', namespace: 'istio-system' }, interval };
}

function connect(provider: Partial<MetricProviderPlan>, o: { interval?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<MetricSource> {
  return connectMetric(metric(provider, o.interval), { env: o.env ?? ENV, timeoutMs: o.timeoutMs ?? 2000, driverServer: 'http://127.0.0.1:1' });
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
}

const SELECTOR = 'builtin:service.response.time:filter(in(dt.entity.service,entitySelector("type(SERVICE),tag(app:podinfo)"))):percentile(95)';
// Two services (data series), one value each as with resolution=Inf.
const SERIES: DynatraceSeries[] = [
  { dimensions: { 'dt.entity.service': 'SERVICE-0990886B7D39FE29' }, points: [[1772366400000, 812.5]] },
  { dimensions: { 'dt.entity.service': 'SERVICE-A1B2C3D4E5F60718' }, points: [[1772366400000, 640.25], [1772366460000, 9999]] },
];

describe('dynatrace RunQuery (dynatrace.go RunQuery, dynatrace_test.go TestDynatraceProvider_RunQuery)', () => {
  let server: DynatraceServer;
  let answers: Record<string, DynatraceSeries[] | Reply> = {};
  beforeAll(async () => {
    server = await new DynatraceServer((q) => answers[q]).start();
  });
  afterAll(() => server.stop());
  afterEach(() => {
    server.requests.length = 0;
    answers = {};
  });

  it('GETs /api/v2/metrics/query with metricSelector, resolution=Inf, from = to - 10 intervals (ms) and Api-Token auth', async () => {
    answers[SELECTOR] = SERIES;
    const source = await connect({ address: server.address });
    expect(source.address).toBe(server.address);
    await source.query(SELECTOR, AT);
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/api/v2/metrics/query');
    expect([...req.query.keys()]).toEqual(['from', 'metricSelector', 'resolution', 'to']);
    expect(req.query.get('metricSelector')).toBe(SELECTOR);
    expect(req.query.get('resolution')).toBe('Inf');
    expect(req.query.get('to')).toBe(String(AT_MS));
    expect(req.query.get('from')).toBe(String(AT_MS - 600_000));
    expect(req.headers.authorization).toBe(`Api-Token ${DYNATRACE_TOKEN}`);
  });

  it.each([
    ['30s', 300_000],
    ['2m', 1_200_000],
    ['1.5s', 15_000],
  ])('interval %s: the window is %i ms (10 * md.Milliseconds())', async (interval, delta) => {
    answers[SELECTOR] = SERIES;
    await (await connect({ address: server.address }, { interval })).query(SELECTOR, AT);
    expect(Number(server.requests[0].query.get('to')) - Number(server.requests[0].query.get('from'))).toBe(delta);
  });

  it('picks the first value of the last data series of the first result', async () => {
    answers[SELECTOR] = SERIES;
    expect(await (await connect({ address: server.address })).query(SELECTOR, AT)).toEqual({ kind: 'value', value: 640.25 });
  });

  it.each([
    ['no result', undefined],
    ['a result without data series', []],
    ['a last data series without values', [SERIES[0], { dimensions: { 'dt.entity.service': 'SERVICE-EMPTY' }, points: [] }]],
  ])('%s is no data (ErrNoValuesFound)', async (_name, series) => {
    if (series) answers[SELECTOR] = series;
    expect(await (await connect({ address: server.address })).query(SELECTOR, AT)).toEqual({ kind: 'no-data' });
  });

  it("an answer of another shape is no data, as in dynatrace_test.go's 'no values' case", async () => {
    answers[SELECTOR] = { json: { series: [{ pointlist: [] }] } };
    expect(await (await connect({ address: server.address })).query(SELECTOR, AT)).toEqual({ kind: 'no-data' });
  });

  // dynatrace.go RunQuery reads null as 0 (Go's float64 decoding): a max bound would pass on a missing value.
  it('a null value is no data, not the 0 Flagger reads', async () => {
    answers[SELECTOR] = [{ dimensions: {}, points: [[1772366400000, null]] }];
    expect(await (await connect({ address: server.address })).query(SELECTOR, AT)).toEqual({ kind: 'no-data' });
  });

  it.each([
    [400, { error: { code: 400, message: 'The metric selector is invalid: unknown metric key' } }, 'bad-query', false],
    [403, { error: { code: 403, message: 'Token is missing required scope. Use one of: metrics.read (Read metrics)' } }, 'http', false],
    [500, { error: { code: 500, message: 'Internal Server Error' } }, 'http', true],
  ] as const)('HTTP %i is MetricsError %s (retryable %s), naming dynatrace and the address', async (status, json, kind, retryable) => {
    answers[SELECTOR] = { status, json };
    const e = await failure((await connect({ address: server.address })).query(SELECTOR, AT));
    expect([e.kind, e.status, e.retryable, e.address]).toEqual([kind, status, retryable, server.address]);
    expect(e.message).toContain(`dynatrace query to ${server.address} failed: HTTP ${status}: ${JSON.stringify(json)}`);
  });

  it('a body that is not JSON is bad-response; a hung server a timeout; nothing listening unreachable', async () => {
    answers[SELECTOR] = { text: 'upstream connect error' };
    expect((await failure((await connect({ address: server.address })).query(SELECTOR, AT))).kind).toBe('bad-response');
    answers[SELECTOR] = 'hang';
    expect((await failure((await connect({ address: server.address }, { timeoutMs: 200 })).query(SELECTOR, AT))).kind).toBe('timeout');
    expect((await failure((await connect({ address: await closedAddress() })).query(SELECTOR, AT))).kind).toBe('unreachable');
  });

  it('never shows the token, even when the server echoes the Authorization header', async () => {
    server.on('/api/v2/metrics/query', (r) => ({ status: 401, json: { error: { code: 401, message: `Token Authentication failed for ${r.headers.authorization}` } } }));
    try {
      const e = await failure((await connect({ address: server.address })).query(SELECTOR, AT));
      expect(e.message).toContain('Token Authentication failed for Api-Token ***');
      expect(JSON.stringify({ m: e.message, e })).not.toContain(DYNATRACE_TOKEN);
    } finally {
      server.on('/api/v2/metrics/query', () => ({ status: 410 }));
    }
  });
});

describe('dynatrace NewDynatraceProvider (dynatrace_test.go TestNewDynatraceProvider)', () => {
  it('without an address: a ConfigError ("dynatrace endpoint is not set")', async () => {
    await expect(connect({})).rejects.toThrow(/dynatrace endpoint is not set/);
  });

  it('without dynatrace_token: a ConfigError naming the environment variable', async () => {
    const e = await connect({ address: 'https://abc12345.live.dynatrace.com' }, { env: {} }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe('dynatrace credentials do not contain dynatrace_token: set CANARYKIT_SECRET_ISTIO_SYSTEM_DYNATRACE_DYNATRACE_TOKEN to key dynatrace_token of Secret istio-system/dynatrace');
  });
});

describe('dynatrace IsOnline (dynatrace_test.go TestDynatraceProvider_IsOnline)', () => {
  let server: DynatraceServer;
  beforeAll(async () => {
    server = await new DynatraceServer().start();
  });
  afterAll(() => server.stop());

  it('200 from GET /api/v2/metrics?pageSize=1 with Api-Token auth is online', async () => {
    server.requests.length = 0;
    await expect((await connect({ address: server.address })).isOnline(AT)).resolves.toBeUndefined();
    expect(server.requests.map((r) => [r.method, r.path, r.rawQuery, r.headers.authorization])).toEqual([['GET', '/api/v2/metrics', 'pageSize=1', `Api-Token ${DYNATRACE_TOKEN}`]]);
  });

  it('a rejected token (401) is not online, and the message shows no token', async () => {
    const e = await failure((await connect({ address: server.address }, { env: { CANARYKIT_SECRET_ISTIO_SYSTEM_DYNATRACE_DYNATRACE_TOKEN: 'dt0c01.WRONG.token' } })).isOnline(AT));
    expect(e.message).toContain('dynatrace metrics API check');
    expect(e.message).toContain('HTTP 401');
    expect(e.message).not.toContain('dt0c01.WRONG.token');
  });

  it('an unreachable Dynatrace is not online', async () => {
    expect((await failure((await connect({ address: await closedAddress() })).isOnline(AT))).kind).toBe('unreachable');
  });
});

// ---- compile: Flagger YAML with a Dynatrace MetricTemplate (docs/gitbook/usage/metrics.md "Dynatrace") ----

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
      - name: "response-time-95pct"
        templateRef:
          name: response-time-95pct
          namespace: istio-system
        thresholdRange:
          max: 1000
        interval: 1m
`;

const TEMPLATE = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: response-time-95pct
  namespace: istio-system
spec:
  provider:
    type: dynatrace
    address: https://abc12345.live.dynatrace.com
    secretRef:
      name: dynatrace
  query: |
    builtin:service.response.time:filter(in(dt.entity.service,entitySelector("type(SERVICE),tag(app:{{ target }}-canary),tag(ns:{{ namespace }})"))):percentile(95)
`;

describe('compile: a Canary with a Dynatrace MetricTemplate', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-dynatrace-'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  function input(template: string): string {
    const dir = fs.mkdtempSync(path.join(work, 'in-'));
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), [DEPLOYMENT, CANARY].join('---\n'));
    fs.writeFileSync(path.join(dir, 'templates.yaml'), template);
    return dir;
  }

  it('plans the metric with the dynatrace provider, its Secret, its template and the rendered selector', () => {
    const out = compileFiles([input(TEMPLATE)], { stateDir: path.join(work, 'state') });
    const plan = JSON.parse(out.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === 'response-time-95pct');
    expect(m).toMatchObject({ provider: { type: 'dynatrace', address: 'https://abc12345.live.dynatrace.com', secretRef: 'dynatrace' }, templateRef: { name: 'response-time-95pct', namespace: 'istio-system' }, interval: '1m', thresholdRange: { max: 1000 } });
    expect(m.query).toContain('tag(app:podinfo-canary),tag(ns:test)');
  });

  it.each([
    ['no address', TEMPLATE.replace('    address: https://abc12345.live.dynatrace.com\n', ''), 'spec.provider.address: is required for type dynatrace', 'set it to the Dynatrace environment, e.g. https://<environment-id>.live.dynatrace.com'],
    ['no secretRef', TEMPLATE.replace('    secretRef:\n      name: dynatrace\n', ''), 'spec.provider.secretRef: is required for type dynatrace', 'name a Secret in the template\'s namespace with dynatrace_token'],
  ])('%s: fails naming the file, the field and the fix; nothing is written', async (_name, template, field, fix) => {
    const outdir = path.join(work, `out-${_name.replace(/\W/g, '')}`);
    const e = await compile({ files: [input(template)], outdir, stateDir: path.join(work, 'state') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ValidationError);
    const message = (e as Error).message;
    expect(message).toContain('templates.yaml#1 MetricTemplate istio-system/response-time-95pct: ');
    expect(message).toContain(field);
    expect(message).toContain(fix);
    expect(message).toMatch(/nothing was written/);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });
});
