import * as fs from 'fs';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { connectMetric } from '../src/adapters/metrics/connect';
import { STACKDRIVER_SCOPES, clearStackdriverTokens, stackdriverEndpoint } from '../src/adapters/metrics/stackdriver';
import { STACKDRIVER_SPEC } from '../src/model/metric-providers/stackdriver';
import { MetricSource } from '../src/adapters/metrics/source';
import { PlannedMetric } from '../src/model/plan';
import { StackdriverServer, USER_CREDENTIALS, startStackdriver } from './support/stackdriver-server';
import { tempDir } from './compile/support';
import { freePort } from './support/prometheus-server';

// pkg/metrics/providers/stackdriver.go (NewStackDriverProvider, RunQuery, IsOnline) and
// stackdriver_test.go, over the REST binding of QueryTimeSeries, against a local Cloud Monitoring
// with a token endpoint that verifies the service account's RS256 JWT and a metadata server.

const PROJECT_VAR = 'CANARYKIT_SECRET_TEST_GCLOUD_SA_PROJECT';
const KEY_VAR = 'CANARYKIT_SECRET_TEST_GCLOUD_SA_SERVICEACCOUNTKEY';

// Flagger's docs query (usage/metrics.md, Google Cloud Monitoring), rendered for podinfo in test.
const MQL = `fetch k8s_container
| metric 'istio.io/service/server/response_latencies'
| filter
    (metric.destination_service_name == 'podinfo-canary'
    && metric.destination_service_namespace == 'test')
| align delta(1m)
| every 1m
| group_by [],
    [value_response_latencies_percentile:
      percentile(value.response_latencies, 99)]
`;

const DESCRIPTOR = { labelDescriptors: [{ key: 'resource.cluster_name' }], pointDescriptors: [{ key: 'value_response_latencies_percentile', valueType: 'DOUBLE', metricKind: 'GAUGE', unit: 'ms' }] };
const point = (end: string, ...values: unknown[]) => ({ values, timeInterval: { startTime: end, endTime: end } });
const answer = (series: unknown[], extra: Record<string, unknown> = {}) => ({ status: 200, body: { timeSeriesDescriptor: DESCRIPTOR, timeSeriesData: series, ...extra } });

const metric = (): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> => ({
  provider: { type: 'stackdriver', secretRef: 'gcloud-sa' },
  templateRef: { name: 'bytes-sent', namespace: 'test' },
  interval: '1m',
});

let sd: StackdriverServer;
let noGcloud: string;
beforeAll(async () => {
  sd = await startStackdriver();
  noGcloud = tempDir('canarykit-no-gcloud-');
});
afterAll(async () => {
  await sd?.stop();
  fs.rmSync(noGcloud, { recursive: true, force: true });
});
beforeEach(() => {
  sd.requests.length = 0;
  sd.replies.length = 0;
  clearStackdriverTokens();
});

const env = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  [PROJECT_VAR]: 'canary-project',
  [KEY_VAR]: sd.serviceAccountKey,
  CANARYKIT_STACKDRIVER_ENDPOINT: sd.url,
  CLOUDSDK_CONFIG: noGcloud,
  ...over,
});
const connect = (e: NodeJS.ProcessEnv = env(), timeoutMs = 5000): Promise<MetricSource> => connectMetric(metric(), { env: e, timeoutMs, driverServer: 'http://unused:9090' });
const failure = async (p: Promise<unknown>): Promise<MetricsError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
};

describe('stackdriver spec (NewStackDriverProvider)', () => {
  it('reads keys project and serviceAccountKey, and needs a secretRef for the project id', () => {
    expect(STACKDRIVER_SPEC.secretKeys).toEqual(['project', 'serviceAccountKey']);
    expect(STACKDRIVER_SPEC.validate({ type: 'stackdriver' })).toEqual([{ field: 'secretRef', message: expect.stringContaining('key "project"') }]);
    expect(STACKDRIVER_SPEC.validate({ type: 'stackdriver', secretRef: 'gcloud-sa' })).toEqual([]);
  });
});

describe('stackdriver RunQuery with a serviceAccountKey (option.WithCredentialsJSON)', () => {
  it('exchanges an RS256 JWT at the key token_uri, then POSTs the MQL to /v3/projects/<project>/timeSeries:query with the token', async () => {
    sd.replies.push(
      answer([
        { labelValues: [{ stringValue: 'prod-a' }], pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 12.5 }), point('2026-03-04T05:05:00Z', { doubleValue: 99 })] },
        { labelValues: [{ stringValue: 'prod-b' }], pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 40 })] },
      ]),
    );
    const source = await connect();
    // TimeSeriesData[0].PointData[0].Values[0]: the first series' first point.
    expect(await source.query(MQL)).toEqual({ kind: 'value', value: 12.5 });
    expect(source.address).toBe(sd.url);

    const [tokenReq, queryReq] = sd.requests;
    expect(tokenReq).toMatchObject({ method: 'POST', path: '/token' });
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(tokenReq.form?.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(tokenReq.jwt?.problem).toBeUndefined();
    expect(tokenReq.jwt?.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: '5d41402abc4b2a76b9719d911017c592ca1e1f2b' });
    expect(tokenReq.jwt?.claims).toMatchObject({ iss: sd.clientEmail, aud: `${sd.url}/token`, scope: STACKDRIVER_SCOPES.join(' ') });
    expect(tokenReq.jwt!.claims.exp - tokenReq.jwt!.claims.iat).toBe(3600);

    expect(queryReq).toMatchObject({ method: 'POST', path: '/v3/projects/canary-project/timeSeries:query' });
    expect(queryReq.headers.authorization).toBe(`Bearer ${sd.issued[sd.issued.length - 1]}`);
    expect(queryReq.headers['content-type']).toBe('application/json');
    expect(queryReq.json).toEqual({ query: MQL });
  });

  it('reuses the access token until it expires (one token request for two queries)', async () => {
    sd.replies.push(answer([{ pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 1 })] }]), answer([{ pointData: [point('2026-03-04T05:07:00Z', { doubleValue: 2 })] }]));
    expect(await (await connect()).query(MQL)).toEqual({ kind: 'value', value: 1 });
    expect(await (await connect()).query(MQL)).toEqual({ kind: 'value', value: 2 });
    expect(sd.requests.filter((r) => r.path === '/token')).toHaveLength(1);
  });

  it('follows nextPageToken past an empty page, as the Go iterator Next does', async () => {
    sd.replies.push(answer([], { nextPageToken: 'page-2' }), answer([{ pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 0.75 })] }]));
    expect(await (await connect()).query(MQL)).toEqual({ kind: 'value', value: 0.75 });
    expect(sd.queries().map((r) => r.json)).toEqual([{ query: MQL }, { query: MQL, pageToken: 'page-2' }]);
  });

  // stackdriver.go RunQuery reads GetDoubleValue, 0 for an int64: a `max` bound on a count would
  // always pass. canarykit reads the int64 (README "What differs").
  it('an int64 value (a count) is read as its number, not as the 0 Flagger reads', async () => {
    sd.replies.push(answer([{ pointData: [point('2026-03-04T05:06:00Z', { int64Value: '17' })] }]));
    expect(await (await connect()).query(MQL)).toEqual({ kind: 'value', value: 17 });
  });

  it('a bool or distribution value fails the check instead of reading 0', async () => {
    sd.replies.push(answer([{ pointData: [point('2026-03-04T05:06:00Z', { boolValue: true })] }]));
    await expect((await connect()).query(MQL)).rejects.toMatchObject({ name: 'MetricsError', kind: 'bad-response', message: expect.stringContaining('boolValue') });
  });

  it('proto3 JSON NaN is no data, because NaN passes every bound', async () => {
    sd.replies.push(answer([{ pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 'NaN' })] }]));
    expect(await (await connect()).query(MQL)).toEqual({ kind: 'no-data' });
  });
});

describe('stackdriver no data (ErrNoValuesFound, stackdriver_test.go "no values")', () => {
  it.each([
    ['no timeSeriesData', { timeSeriesDescriptor: DESCRIPTOR, timeSeriesData: [] }],
    ['an empty answer (iterator.Done)', {}],
    ['a first series without points, even when a later one has some', { timeSeriesData: [{ labelValues: [] }, { pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 3 })] }] }],
    ['a first point without values', { timeSeriesData: [{ pointData: [{ values: [], timeInterval: {} }] }] }],
  ])('%s', async (_name, body) => {
    sd.replies.push({ status: 200, body });
    expect(await (await connect()).query(MQL)).toEqual({ kind: 'no-data' });
  });
});

describe('stackdriver failures are MetricsErrors naming the provider and address, never a credential', () => {
  it('INVALID_ARGUMENT (a bad MQL query): bad-query with Google status and message', async () => {
    sd.replies.push({ status: 400, body: { error: { code: 400, message: "Line 2: Table operation 'metric' expects a metric name.", status: 'INVALID_ARGUMENT' } } });
    const e = await failure((await connect()).query(MQL));
    expect(e).toMatchObject({ kind: 'bad-query', status: 400, retryable: false, address: sd.url });
    expect(e.message).toBe(`stackdriver query to ${sd.url} (project canary-project, service account ${sd.clientEmail}) failed: error requesting stackdriver: code = InvalidArgument desc = Line 2: Table operation 'metric' expects a metric name.`);
  });

  it('PERMISSION_DENIED echoing the access token: http, token masked', async () => {
    await (await connect()).isOnline().catch(() => undefined);
    const token = sd.issued[sd.issued.length - 1];
    sd.replies.push({ status: 403, body: { error: { code: 403, message: `Permission monitoring.timeSeries.list denied for token ${token}`, status: 'PERMISSION_DENIED' } } });
    const e = await failure((await connect()).query(MQL));
    expect(e).toMatchObject({ kind: 'http', status: 403, retryable: false });
    expect(e.message).toContain('code = PermissionDenied');
    expect(e.message).not.toContain(token);
  });

  it('UNAVAILABLE (503): retryable http', async () => {
    sd.replies.push({ status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } });
    expect(await failure((await connect()).query(MQL))).toMatchObject({ kind: 'http', status: 503, retryable: true });
  });

  it('the token endpoint refuses the key: http, and neither the assertion nor the private key shows', async () => {
    sd.tokenReply = { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    const e = await failure((await connect()).query(MQL));
    expect(e).toMatchObject({ kind: 'http', status: 400 });
    expect(e.message).toContain(`token request for service account ${sd.clientEmail} to ${sd.url}/token failed: HTTP 400: invalid_grant: Invalid JWT Signature.`);
    // A token endpoint that echoes the assertion and the key it was sent.
    sd.tokenReply = (r) => ({ status: 400, body: { error: 'invalid_grant', error_description: `bad assertion ${r.form!.assertion} for ${JSON.parse(sd.serviceAccountKey).private_key}` } });
    clearStackdriverTokens();
    const e2 = await failure((await connect()).query(MQL));
    const echoed = sd.requests[sd.requests.length - 1].form!.assertion;
    expect(e2.message).toContain('bad assertion ***');
    expect(e2.message).not.toContain(echoed);
    expect(e2.message).not.toContain(echoed.split('.')[2]);
    expect(e2.message).not.toContain('PRIVATE KEY');
  });

  it('no answer within the timeout: timeout', async () => {
    await (await connect()).isOnline().catch(() => undefined); // a token first
    sd.replies.push({ status: 200, body: {}, hang: true });
    expect(await failure((await connect(env(), 300)).query(MQL))).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('nothing listening: unreachable', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const key = JSON.stringify({ ...JSON.parse(sd.serviceAccountKey), token_uri: `${dead}/token` });
    const e = await failure((await connect(env({ [KEY_VAR]: key }))).query(MQL));
    expect(e).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(e.message).toMatch(/token request for service account .* failed: request failed: /);
  });

  it('no project in the Secret: ConfigError naming the variable ("credentials does not contain a project id")', async () => {
    const e = env();
    delete e[PROJECT_VAR];
    await expect(connect(e)).rejects.toThrow(ConfigError);
    await expect(connect(e)).rejects.toThrow(`stackdriver credentials does not contain a project id: set ${PROJECT_VAR} to key project of Secret test/gcloud-sa`);
  });

  it('a serviceAccountKey that is not JSON: ConfigError that does not echo it', async () => {
    await expect(connect(env({ [KEY_VAR]: 'secret-not-json-material' }))).rejects.toThrow(/^stackdriver: the Secret key serviceAccountKey is not a Google credentials JSON file$/);
  });
});

describe('stackdriver without serviceAccountKey: Application Default Credentials', () => {
  it('GOOGLE_APPLICATION_CREDENTIALS with gcloud user credentials: the refresh token is exchanged', async () => {
    const file = path.join(noGcloud, 'adc.json');
    fs.writeFileSync(file, JSON.stringify({ type: 'authorized_user', ...USER_CREDENTIALS, token_uri: `${sd.url}/token` }));
    sd.replies.push(answer([{ pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 4 })] }]));
    const e = env({ GOOGLE_APPLICATION_CREDENTIALS: file });
    delete e[KEY_VAR];
    expect(await (await connect(e)).query(MQL)).toEqual({ kind: 'value', value: 4 });
    expect(sd.requests[0].form).toEqual({ grant_type: 'refresh_token', ...USER_CREDENTIALS });
    expect(sd.queries()[0].headers.authorization).toBe(`Bearer ${sd.issued[sd.issued.length - 1]}`);
  });

  it('the metadata server (Workload Identity), at GCE_METADATA_HOST, with Metadata-Flavor: Google and the scopes', async () => {
    sd.replies.push(answer([{ pointData: [point('2026-03-04T05:06:00Z', { doubleValue: 8 })] }]));
    const e = env({ GCE_METADATA_HOST: new URL(sd.url).host });
    delete e[KEY_VAR];
    expect(await (await connect(e)).query(MQL)).toEqual({ kind: 'value', value: 8 });
    const meta = sd.requests[0];
    expect(meta.method).toBe('GET');
    expect(meta.headers['metadata-flavor']).toBe('Google');
    expect(new URL(meta.path, sd.url).searchParams.get('scopes')).toBe(STACKDRIVER_SCOPES.join(','));
    expect(meta.path.startsWith('/computeMetadata/v1/instance/service-accounts/default/token?')).toBe(true);
  });

  it('no credentials anywhere: the metadata server cannot be reached, and the message says what was looked for', async () => {
    const e = env({ GCE_METADATA_HOST: `127.0.0.1:${await freePort()}` });
    delete e[KEY_VAR];
    const err = await failure((await connect(e)).query(MQL));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('no Secret key serviceAccountKey, GOOGLE_APPLICATION_CREDENTIALS or gcloud credentials either');
  });

  it('the endpoint defaults to monitoring.googleapis.com; CANARYKIT_STACKDRIVER_ENDPOINT overrides it', () => {
    expect(stackdriverEndpoint({})).toBe('https://monitoring.googleapis.com');
    expect(stackdriverEndpoint({ CANARYKIT_STACKDRIVER_ENDPOINT: 'http://127.0.0.1:1/' })).toBe('http://127.0.0.1:1');
  });
});

describe('stackdriver IsOnline (stackdriver_test.go TestStackDriverProvider_IsOnline)', () => {
  it('an empty query refused as INVALID_ARGUMENT means online', async () => {
    sd.replies.push({ status: 400, body: { error: { code: 400, message: 'Query is empty.', status: 'INVALID_ARGUMENT' } } });
    await (await connect()).isOnline();
    expect(sd.queries()[0].json).toEqual({ query: '' });
  });

  it('success means online', async () => {
    sd.replies.push(answer([]));
    await expect((await connect()).isOnline()).resolves.toBeUndefined();
  });

  it('PERMISSION_DENIED is offline: "unexpected status code: PermissionDenied"', async () => {
    sd.replies.push({ status: 403, body: { error: { code: 403, message: 'insufficient permissions', status: 'PERMISSION_DENIED' } } });
    await expect((await connect()).isOnline()).rejects.toThrow(/^unexpected status code: PermissionDenied$/);
  });

  it('nothing listening: "unexpected error"', async () => {
    await expect((await connect(env({ CANARYKIT_STACKDRIVER_ENDPOINT: `http://127.0.0.1:${await freePort()}` }))).isOnline()).rejects.toThrow(/^unexpected error: /);
  });
});

// ---- compile: Flagger YAML with a Stackdriver MetricTemplate (docs/gitbook/usage/metrics.md) ----

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

const TEMPLATE = (provider: string) => `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: bytes-sent
  namespace: test
spec:
  provider:
${provider}  query: |
    fetch k8s_container
    | metric 'istio.io/service/server/response_latencies'
    | filter
        (metric.destination_service_name == '{{ service }}-canary'
        && metric.destination_service_namespace == '{{ namespace }}')
    | align delta(1m)
    | every 1m
    | group_by [],
        [value_response_latencies_percentile:
          percentile(value.response_latencies, 99)]
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
      - name: "p99 latency"
        templateRef:
          name: bytes-sent
        thresholdRange:
          max: 500
        interval: 1m
`;

describe('compile: a Canary with a Stackdriver MetricTemplate', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('canarykit-stackdriver-');
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('plans the metric with type stackdriver, its secretRef and template, and the rendered MQL', () => {
    fs.writeFileSync(path.join(work, 'podinfo.yaml'), [DEPLOYMENT, TEMPLATE('    type: stackdriver\n    secretRef:\n      name: gcloud-sa\n'), CANARY].join('---\n'));
    const out = compileFiles([work], { stateDir: path.join(work, 'state') });
    const plan = JSON.parse(out.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === 'p99 latency');
    expect(m).toMatchObject({ provider: { type: 'stackdriver', secretRef: 'gcloud-sa' }, templateRef: { name: 'bytes-sent', namespace: 'test' }, interval: '1m', template: true });
    expect(m.provider.address).toBeUndefined();
    expect(m.query).toContain("(metric.destination_service_name == 'podinfo-canary'\n    && metric.destination_service_namespace == 'test')");
  });

  it('a template without a secretRef fails naming the file, the field and the fix, and writes nothing', async () => {
    fs.mkdirSync(path.join(work, 'in'));
    fs.writeFileSync(path.join(work, 'in', 'podinfo.yaml'), [DEPLOYMENT, TEMPLATE('    type: stackdriver\n'), CANARY].join('---\n'));
    const outdir = path.join(work, 'dist');
    const error = await compile({ files: [path.join(work, 'in')], outdir, stateDir: path.join(work, 'state') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toContain('podinfo.yaml#2 MetricTemplate test/bytes-sent: spec.provider.secretRef: is required for type stackdriver');
    expect(message).toContain('kubectl create secret generic gcloud-sa --from-literal=project=<project-id>');
    expect(message).toMatch(/nothing was written/);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });
});
