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
import { NEWRELIC_ACCOUNT_ID, NEWRELIC_QUERY_KEY, NewRelicServer } from './support/newrelic-server';

// pkg/metrics/providers/newrelic.go (NewNewRelicProvider, RunQuery, IsOnline, newInsightsRequest)
// and newrelic_test.go, against a local server speaking New Relic's Insights query API.

const ENV = {
  CANARYKIT_SECRET_INGRESS_NGINX_NEWRELIC_NEWRELIC_ACCOUNT_ID: NEWRELIC_ACCOUNT_ID,
  CANARYKIT_SECRET_INGRESS_NGINX_NEWRELIC_NEWRELIC_QUERY_KEY: NEWRELIC_QUERY_KEY,
};
const PATH = `/v1/accounts/${NEWRELIC_ACCOUNT_ID}/query`;
const AT = new Date('2026-03-01T12:00:00Z');

function metric(provider: Partial<MetricProviderPlan>, interval = '1m'): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> {
  return { provider: { type: 'newrelic', secretRef: 'newrelic', ...provider }, templateRef: { name: 'newrelic-error-rate', namespace: 'ingress-nginx' }, interval };
}

function connect(provider: Partial<MetricProviderPlan>, o: { interval?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<MetricSource> {
  return connectMetric(metric(provider, o.interval), { env: o.env ?? ENV, timeoutMs: o.timeoutMs ?? 2000, driverServer: 'http://127.0.0.1:1' });
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
}

const QUERY = "SELECT filter(sum(nginx_ingress_controller_requests), WHERE status >= '500') / sum(nginx_ingress_controller_requests) * 100 FROM Metric WHERE metricName = 'nginx_ingress_controller_requests' AND ingress = 'podinfo' AND namespace = 'test'";

describe('newrelic RunQuery (newrelic.go RunQuery, newrelic_test.go TestNewRelicProvider_RunQuery)', () => {
  let server: NewRelicServer;
  let answers: Record<string, Record<string, unknown>[] | Reply> = {};
  beforeAll(async () => {
    server = await new NewRelicServer((q) => answers[q]).start();
  });
  afterAll(() => server.stop());
  afterEach(() => {
    server.requests.length = 0;
    answers = {};
  });

  it('GETs /v1/accounts/<account id>/query with nrql "<query> SINCE 60 seconds ago" and X-Query-Key', async () => {
    answers[`${QUERY} SINCE 60 seconds ago`] = [{ result: 1.11111 }];
    const source = await connect({ address: server.address });
    expect(source.address).toBe(server.address);
    expect(await source.query(QUERY, AT)).toEqual({ kind: 'value', value: 1.11111 });
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req.method).toBe('GET');
    expect(req.path).toBe(PATH);
    expect([...req.query.keys()]).toEqual(['nrql']);
    expect(req.query.get('nrql')).toBe(`${QUERY} SINCE 60 seconds ago`);
    expect(req.headers['x-query-key']).toBe(NEWRELIC_QUERY_KEY);
    expect(req.headers.authorization).toBeUndefined();
  });

  it.each([
    ['30s', 30],
    ['2m', 120],
    ['1m30s', 90],
    ['1.9s', 1],
  ])('interval %s: SINCE %i seconds ago (int64(md.Seconds()))', async (interval, seconds) => {
    await (await connect({ address: server.address }, { interval })).query(QUERY, AT);
    expect(server.requests[0].query.get('nrql')).toBe(`${QUERY} SINCE ${seconds} seconds ago`);
  });

  it('a multi-line rendered query gets the SINCE clause appended as Flagger formats it', async () => {
    const q = 'SELECT count(*)\nFROM Transaction\n';
    answers[`${q} SINCE 60 seconds ago`] = [{ result: 3 }];
    expect(await (await connect({ address: server.address })).query(q, AT)).toEqual({ kind: 'value', value: 3 });
  });

  it.each([
    ['no results', []],
    ['two results (a FACET query)', [{ result: 1, facet: 'a' }, { result: 2, facet: 'b' }]],
    ['a null result', [{ result: null }]],
    ['a result named otherwise (SELECT average(x) answers {"average": ...})', [{ average: 0.25 }]],
  ])('%s is no data (ErrNoValuesFound)', async (_name, results) => {
    answers[`${QUERY} SINCE 60 seconds ago`] = results;
    expect(await (await connect({ address: server.address })).query(QUERY, AT)).toEqual({ kind: 'no-data' });
  });

  it('a result that is not a number is bad-response (Go fails to unmarshal it)', async () => {
    answers[`${QUERY} SINCE 60 seconds ago`] = [{ result: 'high' }];
    expect((await failure((await connect({ address: server.address })).query(QUERY, AT))).kind).toBe('bad-response');
  });

  it.each([
    [400, { error: "NRQL Syntax Error: Error at line 1 position 7, unexpected 'FORM'" }, 'bad-query', false],
    [403, { error: 'Invalid query key' }, 'http', false],
    [500, { error: 'An unexpected error occurred' }, 'http', true],
    [503, { error: 'Service Unavailable' }, 'http', true],
  ] as const)('HTTP %i is MetricsError %s (retryable %s), naming newrelic and the address', async (status, json, kind, retryable) => {
    answers[`${QUERY} SINCE 60 seconds ago`] = { status, json };
    const e = await failure((await connect({ address: server.address })).query(QUERY, AT));
    expect([e.kind, e.status, e.retryable, e.address]).toEqual([kind, status, retryable, server.address]);
    expect(e.message).toContain(`newrelic query to ${server.address} failed: HTTP ${status}: ${JSON.stringify(json)}`);
  });

  it('a hung server is a timeout, nothing listening is unreachable', async () => {
    answers[`${QUERY} SINCE 60 seconds ago`] = 'hang';
    expect((await failure((await connect({ address: server.address }, { timeoutMs: 200 })).query(QUERY, AT))).kind).toBe('timeout');
    expect((await failure((await connect({ address: await closedAddress() })).query(QUERY, AT))).kind).toBe('unreachable');
  });

  it('never shows the query key, even when the server echoes it', async () => {
    answers[`${QUERY} SINCE 60 seconds ago`] = { status: 403, json: { error: `Invalid query key ${NEWRELIC_QUERY_KEY}` } };
    const e = await failure((await connect({ address: server.address })).query(QUERY, AT));
    expect(e.message).toContain('Invalid query key ***');
    expect(JSON.stringify({ m: e.message, e })).not.toContain(NEWRELIC_QUERY_KEY);
  });
});

describe('newrelic NewNewRelicProvider (newrelic_test.go TestNewNewRelicProvider)', () => {
  it('defaults the address to https://insights-api.newrelic.com', async () => {
    expect((await connect({})).address).toBe('https://insights-api.newrelic.com');
  });

  it.each(['newrelic_account_id', 'newrelic_query_key'])('without %s: a ConfigError naming the environment variable', async (key) => {
    const env: Record<string, string> = { ...ENV };
    delete env[`CANARYKIT_SECRET_INGRESS_NGINX_NEWRELIC_${key.toUpperCase()}`];
    const e = await connect({}, { env }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(`newrelic credentials do not contain the key '${key}': set CANARYKIT_SECRET_INGRESS_NGINX_NEWRELIC_${key.toUpperCase()} to key ${key} of Secret ingress-nginx/newrelic`);
  });
});

describe('newrelic IsOnline (newrelic_test.go TestNewReelicProvider_IsOnline)', () => {
  let server: NewRelicServer;
  beforeAll(async () => {
    server = await new NewRelicServer().start();
  });
  afterAll(() => server.stop());

  it('runs "SELECT * FROM Metric SINCE 60 seconds ago" with X-Query-Key; 200 is online', async () => {
    server.requests.length = 0;
    await expect((await connect({ address: server.address })).isOnline(AT)).resolves.toBeUndefined();
    expect(server.requests.map((r) => [r.method, r.path, r.query.get('nrql'), r.headers['x-query-key']])).toEqual([['GET', PATH, 'SELECT * FROM Metric SINCE 60 seconds ago', NEWRELIC_QUERY_KEY]]);
  });

  it('a rejected key (403) is not online; a wrong account id (404) is not online', async () => {
    const wrongKey = { ...ENV, CANARYKIT_SECRET_INGRESS_NGINX_NEWRELIC_NEWRELIC_QUERY_KEY: 'NRIQ-wrong-key-00' };
    const e = await failure((await connect({ address: server.address }, { env: wrongKey })).isOnline(AT));
    expect(e.message).toContain('HTTP 403');
    expect(e.message).not.toContain('NRIQ-wrong-key-00');
    const wrongAccount = { ...ENV, CANARYKIT_SECRET_INGRESS_NGINX_NEWRELIC_NEWRELIC_ACCOUNT_ID: '1' };
    expect((await failure((await connect({ address: server.address }, { env: wrongAccount })).isOnline(AT))).status).toBe(404);
  });

  it('an unreachable New Relic is not online', async () => {
    expect((await failure((await connect({ address: await closedAddress() })).isOnline(AT))).kind).toBe('unreachable');
  });
});

// ---- compile: Flagger YAML with a New Relic MetricTemplate (docs/gitbook/usage/metrics.md "New Relic") ----

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
      - name: "error rate"
        templateRef:
          name: newrelic-error-rate
          namespace: ingress-nginx
        thresholdRange:
          max: 5
        interval: 2m
`;

const TEMPLATE = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: newrelic-error-rate
  namespace: ingress-nginx
spec:
  provider:
    type: newrelic
    secretRef:
      name: newrelic
  query: |
    SELECT
        filter(sum(nginx_ingress_controller_requests), WHERE status >= '500') /
        sum(nginx_ingress_controller_requests) * 100
    FROM Metric
    WHERE metricName = 'nginx_ingress_controller_requests'
    AND exported_service = '{{ target }}-canary' AND namespace = '{{ namespace }}'
`;

describe('compile: a Canary with a New Relic MetricTemplate', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-newrelic-'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  function input(template: string): string {
    const dir = fs.mkdtempSync(path.join(work, 'in-'));
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), [DEPLOYMENT, CANARY].join('---\n'));
    fs.writeFileSync(path.join(dir, 'templates.yaml'), template);
    return dir;
  }

  it('plans the metric with the newrelic provider (no address: Flagger default at query time), its Secret and the rendered query', () => {
    const out = compileFiles([input(TEMPLATE)], { stateDir: path.join(work, 'state') });
    const plan = JSON.parse(out.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === 'error rate');
    expect(m).toMatchObject({ provider: { type: 'newrelic', secretRef: 'newrelic' }, templateRef: { name: 'newrelic-error-rate', namespace: 'ingress-nginx' }, interval: '2m', thresholdRange: { max: 5 } });
    expect(m.provider.address).toBeUndefined();
    expect(m.query).toContain("AND exported_service = 'podinfo-canary' AND namespace = 'test'");
  });

  it.each([
    ['no secretRef', TEMPLATE.replace('    secretRef:\n      name: newrelic\n', ''), 'spec.provider.secretRef: is required for type newrelic: name a Secret', 'newrelic_account_id and newrelic_query_key'],
    ['an ftp address', TEMPLATE.replace('    type: newrelic\n', '    type: newrelic\n    address: ftp://insights-api.newrelic.com\n'), 'spec.provider.address: "ftp://insights-api.newrelic.com" is not an http or https URL', 'e.g. https://insights-api.eu.newrelic.com'],
  ])('%s: fails naming the file, the field and the fix; nothing is written', async (_name, template, field, fix) => {
    const outdir = path.join(work, `out-${_name.replace(/\W/g, '')}`);
    const e = await compile({ files: [input(template)], outdir, stateDir: path.join(work, 'state') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ValidationError);
    const message = (e as Error).message;
    expect(message).toContain('templates.yaml#1 MetricTemplate ingress-nginx/newrelic-error-rate: ');
    expect(message).toContain(field);
    expect(message).toContain(fix);
    expect(message).toMatch(/nothing was written/);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });
});
