import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { connectMetric } from '../src/adapters/metrics/connect';
import { SPLUNK, decodeBinaryMessage, reducePoints, splunkEndpoints } from '../src/adapters/metrics/splunk';
import { MetricSource, secretEnvVar } from '../src/adapters/metrics/source';
import { SPLUNK_SPEC } from '../src/model/metric-providers/splunk';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from '../src/constructs/output-dir';
import { PlannedMetric } from '../src/model/plan';
import { Output, tempDir } from './compile/support';
import { observe } from '../src/driver/observe';
import { clientForProvider } from '../src/adapters/prometheus/client';
import { makePlan, makeState, metric } from './support/plans';
import { SplunkServer, binaryJson, dataMessage, endOfChannel, jobStart, startSplunkServer, until } from './support/splunk-server';

// pkg/metrics/providers/splunk.go (Flagger v1.44.0) over signalflow-client-go v2.3.0's protocol,
// against a local SignalFlow realm (test/support/splunk-server.ts). Each test names the Flagger
// or client function it reproduces.

const CH = 'ch-1';
const PROGRAM = "data('traces.count', filter=filter('sf_service', 'podinfo')).sum().publish()";
const AT = new Date('2026-12-02T06:00:00.000Z');

let server: SplunkServer;
beforeEach(async () => {
  server = await startSplunkServer();
});
afterEach(async () => {
  await server.close();
});

/** A planned metric of type splunk whose Secret splunk lives in istio-system. */
function planned(address: string, interval = '1m'): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> {
  return { provider: { type: 'splunk', address, secretRef: 'splunk' }, templateRef: { name: 'success-rate', namespace: 'istio-system' }, interval };
}
const TOKEN_VAR = secretEnvVar('istio-system', 'splunk', 'sf_token_key');

/** The source the driver builds (connect.ts), the token read from the environment. */
function source(o: { address?: string; interval?: string; token?: string; timeoutMs?: number } = {}): Promise<MetricSource> {
  return connectMetric(planned(o.address ?? server.url, o.interval), {
    env: { [TOKEN_VAR]: o.token ?? server.token },
    timeoutMs: o.timeoutMs ?? 2000,
    driverServer: 'http://prometheus:9090',
  });
}

/** A computation that publishes `series` and then ends, as SignalFlow answers an immediate job. */
function answer(series: { tsid: bigint; metric?: string }[], batches: Buffer[]): () => { frames: (object | Buffer)[] } {
  return () => ({ frames: [...jobStart(CH, 'GmKdMzwAgAA', series.map((s) => ({ tsid: s.tsid, metric: s.metric ?? 'traces.count' }))), ...batches, endOfChannel(CH, 'GmKdMzwAgAA')] });
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
}

describe('splunk endpoints (splunk_test.go TestNewSplunkProvider)', () => {
  it('a realm API address becomes its stream endpoint, and the stream address its API endpoint', () => {
    expect(splunkEndpoints('https://api.us1.signalfx.com')).toEqual({
      stream: 'wss://stream.us1.signalfx.com/v2/signalflow',
      connect: 'wss://stream.us1.signalfx.com/v2/signalflow/connect',
      validation: 'https://api.us1.signalfx.com/v2/metric?limit=1',
    });
    expect(splunkEndpoints('wss://stream.eu0.signalfx.com')).toEqual({
      stream: 'wss://stream.eu0.signalfx.com/v2/signalflow',
      connect: 'wss://stream.eu0.signalfx.com/v2/signalflow/connect',
      validation: 'https://api.eu0.signalfx.com/v2/metric?limit=1',
    });
  });

  it('connect.go joins the stream path with connect, so a trailing slash does not double it', () => {
    expect(splunkEndpoints('https://api.us1.signalfx.com/').connect).toBe('wss://stream.us1.signalfx.com/v2/signalflow/connect');
  });
});

describe('splunk RunQuery (splunk_test.go TestSplunkProvider_RunQuery, signalflow-client-go client.go/computation.go)', () => {
  it('ok: authenticates, executes the program over ten intervals back, and returns the last point of the one series', async () => {
    const tsid = 0x1a2b3c4d5e6f7081n;
    server.onExecute(
      answer([{ tsid }], [
        dataMessage(CH, 1_733_100_000_000, [{ tsid, type: 2, value: 97.5 }]),
        dataMessage(CH, 1_733_100_010_000, [{ tsid, type: 2, value: 98.25 }]),
        dataMessage(CH, 1_733_100_020_000, [{ tsid, type: 2, value: 99.125 }]),
      ]),
    );
    const src = await source({ interval: '100s' });
    await expect(src.query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: 99.125 });
    expect(server.upgrades).toEqual(['/v2/signalflow/connect']);
    const stop = AT.getTime();
    // client.go makeAuthRequest, then requests.go ExecuteRequest: Start = now - 10 × interval, Stop = now, Immediate.
    expect(server.received).toEqual([
      { type: 'authenticate', token: server.token },
      { type: 'execute', program: PROGRAM, channel: CH, start: stop - 1_000_000, stop, resolution: 0, maxDelay: 0, immediate: true, timezone: '' },
    ]);
    expect(JSON.stringify(server.received[1])).toBe(
      `{"type":"execute","program":${JSON.stringify(PROGRAM)},"channel":"ch-1","start":${stop - 1_000_000},"stop":${stop},"resolution":0,"maxDelay":0,"immediate":true,"timezone":""}`,
    );
    // The socket is closed once the computation ended.
    await until(() => server.closed === 1, 'the client to close its socket');
  });

  it('takes the last point across several batches, in the order received, whatever their timestamps', async () => {
    const tsid = 77n;
    server.onExecute(
      answer([{ tsid }], [
        dataMessage(CH, 1_733_100_020_000, [{ tsid, type: 2, value: 3 }]),
        dataMessage(CH, 1_733_100_000_000, [{ tsid, type: 2, value: 1 }]),
      ]),
    );
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: 1 });
  });

  it('reads long, int32 and double points (messages/binary.go DataPayload.Value)', async () => {
    const tsid = 5n;
    for (const [type, value, expected] of [
      [1, 123_456_789_012n, 123_456_789_012],
      [1, -42n, -42],
      [3, -7, -7],
      [2, 0.25, 0.25],
    ] as const) {
      server.onExecute(answer([{ tsid }], [dataMessage(CH, 1, [{ tsid, type, value }])]));
      await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: expected });
    }
  });

  it('reads gzip-compressed batches and version 2 batches (timestamp and max delay), and JSON sent in binary frames', async () => {
    const tsid = 9n;
    server.onExecute(() => ({
      frames: [
        ...jobStart(CH, 'h', [{ tsid, metric: 'traces.count' }]),
        dataMessage(CH, 10, [{ tsid, type: 2, value: 1.5 }], { compress: true }),
        dataMessage(CH, 20, [{ tsid, type: 2, value: 2.5 }], { version: 2, maxDelayMs: 3000 }),
        binaryJson(CH, endOfChannel(CH, 'h'), true),
      ],
    }));
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: 2.5 });
  });

  it('no values: series without data points are no data (ErrNoValuesFound)', async () => {
    server.onExecute(answer([{ tsid: 1n }, { tsid: 2n }, { tsid: 3n }], []));
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'no-data' });
  });

  it('points without a value are dropped before picking (DataPayload.Value() == nil)', async () => {
    server.onExecute(
      answer([{ tsid: 1n }, { tsid: 2n }], [
        dataMessage(CH, 10, [{ tsid: 1n, type: 2, value: 12 }, { tsid: 2n, type: 0, value: 0 }]),
        dataMessage(CH, 20, [{ tsid: 2n, type: 0, value: 0 }]),
      ]),
    );
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: 12 });
    server.onExecute(answer([{ tsid: 2n }], [dataMessage(CH, 20, [{ tsid: 2n, type: 0, value: 0 }])]));
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'no-data' });
  });

  it('multiple values: more than one time series with values is an error (ErrMultipleValuesReturned)', async () => {
    const series = [{ tsid: 11n }, { tsid: 12n }, { tsid: 13n }];
    server.onExecute(answer(series, [dataMessage(CH, 10, series.map((s, i) => ({ tsid: s.tsid, type: 2 as const, value: i + 1 })))]));
    const e = await failure((await source()).query(PROGRAM, AT));
    expect(e.kind).toBe('bad-response');
    expect(e.message).toContain('query returned multiple values (3 time series)');
    expect(e.message).toContain(`splunk query to ${server.url.replace('http', 'ws')}/v2/signalflow failed`);
  });

  it('a NaN as last point is no data (canarykit; Flagger would return NaN, which passes every threshold)', async () => {
    server.onExecute(answer([{ tsid: 1n }], [dataMessage(CH, 10, [{ tsid: 1n, type: 2, value: 4 }]), dataMessage(CH, 20, [{ tsid: 1n, type: 2, value: NaN }])]));
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'no-data' });
  });

  it('ignores data of other channels (client.go handleMessage routes by channel)', async () => {
    server.onExecute(answer([{ tsid: 1n }], [dataMessage('ch-9', 10, [{ tsid: 1n, type: 2, value: 500 }]), dataMessage(CH, 10, [{ tsid: 1n, type: 2, value: 5 }])]));
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: 5 });
  });

  it('a job error message fails the query as a bad query (computation.go ComputationError), token redacted', async () => {
    server.onExecute(() => ({
      frames: [
        { type: 'control-message', channel: CH, event: 'STREAM_START', timestampMs: 1 },
        { type: 'error', channel: CH, error: 400, errorType: 'ANALYTICS_PROGRAM_ERROR', message: `Unexpected token near "publish(" (request token ${server.token})` },
      ],
    }));
    const e = await failure((await source()).query('data(', AT));
    expect(e.kind).toBe('bad-query');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('error executing query: 400 (ANALYTICS_PROGRAM_ERROR): Unexpected token near "publish("');
    expect(e.message).not.toContain(server.token);
  });

  it('an auth failure is an HTTP 401 error that retrying cannot fix, naming the Secret key, never the token', async () => {
    const wrong = 'wrong-token-0123456789';
    const e = await failure((await source({ token: wrong })).query(PROGRAM, AT));
    expect(server.received).toEqual([{ type: 'authenticate', token: wrong }]);
    expect(e.kind).toBe('http');
    expect(e.status).toBe(401);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('authentication failed: 401 (AUTHENTICATION_FAILED): Invalid authentication token; check key sf_token_key');
    expect(e.message).not.toContain(wrong);
  });

  it("an auth error without a code (the form of signalflow-client-go's fake backend) is a 401 too", async () => {
    server.setAuthError({ type: 'error', message: 'Invalid auth token' });
    const e = await failure((await source({ token: 'nope-nope' })).query(PROGRAM, AT));
    expect([e.kind, e.status]).toEqual(['http', 401]);
    expect(e.message).toContain('authentication failed: Invalid auth token');
  });

  it('CHANNEL_ABORT ends the computation like END_OF_CHANNEL (computation.go processMessage); keep-alives and info messages are skipped', async () => {
    server.onExecute(() => ({
      frames: [
        { type: 'control-message', event: 'KEEP_ALIVE', timestampMs: 5 },
        ...jobStart(CH, 'h', [{ tsid: 1n, metric: 'x' }]),
        { type: 'message', channel: CH, logicalTimestampMs: 6, message: { messageCode: 'JOB_DETECTED_LAG', messageLevel: 'WARNING', timestampMs: 6, contents: { lagMs: 2000 } } },
        dataMessage(CH, 10, [{ tsid: 1n, type: 2, value: 42 }]),
        { type: 'control-message', channel: CH, event: 'CHANNEL_ABORT', abortInfo: { sf_job_abortState: 'FAILED', sf_job_abortReason: 'job stopped' }, timestampMs: 7 },
      ],
    }));
    await expect((await source()).query(PROGRAM, AT)).resolves.toEqual({ kind: 'value', value: 42 });
  });

  it('a computation that does not end in time is a timeout, and the socket is closed', async () => {
    server.onExecute(() => ({ frames: jobStart(CH, 'h', [{ tsid: 1n, metric: 'traces.count' }]) }));
    const e = await failure((await source({ timeoutMs: 300 })).query(PROGRAM, AT));
    expect(e.kind).toBe('timeout');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('no end of the computation within 300 ms');
    await until(() => server.closed === 1, 'the client to close its socket');
  });

  it('a connection closed before the end of the channel is an error, not the partial data', async () => {
    server.onExecute(() => ({ frames: [...jobStart(CH, 'h', [{ tsid: 1n, metric: 'x' }]), dataMessage(CH, 10, [{ tsid: 1n, type: 2, value: 1 }]), { close: 1011, reason: 'internal error' }] }));
    const e = await failure((await source()).query(PROGRAM, AT));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain('the connection closed before the computation ended (close code 1011, internal error)');
  });

  it('an unreachable realm and a refused upgrade are unreachable', async () => {
    const url = server.url;
    server.refuseUpgrades(403);
    let e = await failure((await source()).query(PROGRAM, AT));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain(`could not connect to ${url.replace('http', 'ws')}/v2/signalflow/connect`);
    await server.close();
    e = await failure((await source({ address: url })).query(PROGRAM, AT));
    expect(e.kind).toBe('unreachable');
    expect(e.retryable).toBe(true);
    server = await startSplunkServer();
  });

  it('a truncated data batch is an unreadable answer', async () => {
    const whole = dataMessage(CH, 10, [{ tsid: 1n, type: 2, value: 1 }, { tsid: 1n, type: 2, value: 2 }]);
    server.onExecute(() => ({ frames: [whole.subarray(0, whole.length - 5)] }));
    const e = await failure((await source()).query(PROGRAM, AT));
    expect(e.kind).toBe('bad-response');
    expect(e.message).toContain('data message declares 2 points but holds 1');
  });
});

describe('splunk credentials and settings (NewSplunkProvider)', () => {
  it('missing sf_token_key is a ConfigError naming the environment variable', async () => {
    const e = await connectMetric(planned(server.url), { env: {}, timeoutMs: 1000, driverServer: 'http://prometheus:9090' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(`splunk credentials do not contain sf_token_key: set ${TOKEN_VAR} to key sf_token_key of Secret istio-system/splunk`);
    expect(TOKEN_VAR).toBe('CANARYKIT_SECRET_ISTIO_SYSTEM_SPLUNK_SF_TOKEN_KEY');
  });

  it('an empty address or an interval Go cannot parse is a ConfigError', () => {
    const ctx = (interval: string) => ({ interval, credentials: { sf_token_key: 't' }, env: {}, timeoutMs: 1000, credentialHint: () => '' });
    expect(() => SPLUNK.connect({ type: 'splunk' }, ctx('1m'))).toThrow(/splunk endpoint is not set/);
    expect(() => SPLUNK.connect({ type: 'splunk', address: server.url }, ctx('1 minute'))).toThrow(/error parsing metric interval "1 minute"/);
  });

  it('validate refuses at synth what NewSplunkProvider refuses: no address, no Secret, not a URL', () => {
    expect(SPLUNK_SPEC.secretKeys).toEqual(['sf_token_key']);
    expect(SPLUNK_SPEC.validate({ type: 'splunk', address: 'https://api.us1.signalfx.com', secretRef: 'splunk' })).toEqual([]);
    expect(SPLUNK_SPEC.validate({ type: 'splunk', address: 'wss://stream.us1.signalfx.com', secretRef: 'splunk' })).toEqual([]);
    expect(SPLUNK_SPEC.validate({ type: 'splunk' }).map((p) => p.field)).toEqual(['address', 'secretRef']);
    expect(SPLUNK_SPEC.validate({ type: 'splunk', address: 'api.us1.signalfx.com', secretRef: 's' })[0].message).toMatch(/must be a URL like https:\/\/api.<REALM>.signalfx.com/);
    expect(SPLUNK_SPEC.validate({ type: 'splunk', address: 'https://user:tok@api.us1.signalfx.com', secretRef: 's' })[0].message).toMatch(/must not embed credentials/);
  });
});

describe('splunk IsOnline (splunk_test.go TestSplunkProvider_IsOnline)', () => {
  it('200: GET /v2/metric?limit=1 with the token in X-SF-Token', async () => {
    await (await source()).isOnline(AT);
    expect(server.requests.map((r) => [r.method, r.url, r.headers['x-sf-token']])).toEqual([['GET', '/v2/metric?limit=1', server.token]]);
    expect(server.upgrades).toEqual([]);
  });

  it('the stream form of the address reaches the same API endpoint', async () => {
    await (await source({ address: server.url.replace('http', 'ws') })).isOnline(AT);
    expect(server.requests.map((r) => r.url)).toEqual(['/v2/metric?limit=1']);
  });

  it('401: an error carrying the body, never the token', async () => {
    server.setMetricApi(401, JSON.stringify({ code: 401, message: `Unauthorized token ${server.token}` }));
    const e = await failure((await source()).isOnline(AT));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(401);
    expect(e.message).toBe(`error response from ${server.url}/v2/metric?limit=1: HTTP 401: {"code":401,"message":"Unauthorized token ***"}`);
    expect(e.message).not.toContain(server.token);
  });

  it('any status but 200 is offline; an unreachable API is a request failure', async () => {
    server.setMetricApi(204);
    expect((await failure((await source()).isOnline(AT))).status).toBe(204);
    const url = server.url;
    await server.close();
    const e = await failure((await source({ address: url })).isOnline(AT));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain(`request to ${url}/v2/metric?limit=1 failed`);
    server = await startSplunkServer();
  });
});

describe('splunk through the driver (observe.ts, scheduler_metrics.go checkMetricProviderAvailability)', () => {
  const templated = (): PlannedMetric => ({ ...metric('success rate'), builtin: false, template: true, ...planned(server.url) });
  const deps = (env: NodeJS.ProcessEnv) => ({
    metricsClient: (provider: PlannedMetric['provider'] & { address: string }) => clientForProvider(provider, { timeoutMs: 1000 }),
    metricSource: (m: PlannedMetric) => connectMetric(m, { env, timeoutMs: 2000, driverServer: 'http://prometheus:9090' }),
    callWebhook: async () => ({ ok: true, message: 'unused', attempts: 1 }),
  });

  it("a failing IsOnline reads as Flagger's provider error while Initializing", async () => {
    server.setMetricApi(401, '{"message":"unauthorized"}');
    const m = templated();
    const out = await observe(makePlan({ metrics: [m] }), makeState({ phase: 'Initializing' }), [{ kind: 'providers', metrics: [m] }], {}, deps({ [TOKEN_VAR]: server.token }), AT);
    expect(out.observations.providers).toEqual({
      available: false,
      message: `splunk in metric template success-rate.istio-system not avaiable: error response from ${server.url}/v2/metric?limit=1: HTTP 401: {"message":"unauthorized"}`,
    });
  });

  it('a metric check gets the value of the SignalFlow program', async () => {
    server.onExecute(answer([{ tsid: 3n }], [dataMessage(CH, 10, [{ tsid: 3n, type: 2, value: 99.5 }])]));
    const m = { ...templated(), query: PROGRAM, thresholdRange: { min: 99 } };
    const out = await observe(makePlan({ metrics: [m] }), makeState({ phase: 'Progressing', canaryRevision: 'rev-2' }), [{ kind: 'metric', metric: m }], {}, deps({ [TOKEN_VAR]: server.token }), AT);
    expect(out.observations.metrics).toEqual([expect.objectContaining({ metric: 'success rate', outcome: 'pass', value: 99.5 })]);
  });
});

describe('splunk loads its libraries lazily (source.ts MetricProviderModule)', () => {
  it('importing the registry loads no undici; connecting does', () => {
    const script = [
      "const r = require('./src/adapters/metrics/registry');",
      "const loaded = () => Object.keys(require.cache).some((k) => /node_modules[\\/\\\\]undici[\\/\\\\]/.test(k));",
      'const before = loaded();',
      "r.METRIC_PROVIDERS.splunk.connect({ type: 'splunk', address: 'http://127.0.0.1:9' }, { interval: '1m', credentials: { sf_token_key: 't' }, env: {}, timeoutMs: 100, credentialHint: () => '' });",
      'console.log(JSON.stringify([before, loaded()]));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    expect(JSON.parse(out.trim())).toEqual([false, true]);
  });
});

describe('splunk value picking (splunk.go RunQuery), pure', () => {
  it('decodes a version 1 batch as messages/binary.go does', () => {
    const msg = dataMessage('ch-1', 1_733_100_000_000, [{ tsid: -3n, type: 1, value: 2n ** 53n }, { tsid: 4n, type: 0, value: 0 }]);
    const gunzip = (): Uint8Array => {
      throw new Error('not compressed');
    };
    expect(decodeBinaryMessage(msg, gunzip)).toEqual({ kind: 'data', channel: 'ch-1', timestampMs: 1_733_100_000_000n, points: [{ tsid: -3n, value: 2 ** 53 }, { tsid: 4n, value: undefined }] });
    expect(() => decodeBinaryMessage(msg.subarray(0, 20), gunzip)).toThrow(/at least 21 bytes/);
  });

  it('reduces as RunQuery: nil dropped, one series, the last point', () => {
    expect(reducePoints([])).toEqual({ kind: 'no-data' });
    expect(reducePoints([{ tsid: 1n, value: 1 }, { tsid: 1n, value: 2 }])).toEqual({ kind: 'value', value: 2 });
    expect(reducePoints([{ tsid: 1n, value: 1 }, { tsid: 2n, value: 2 }])).toEqual({ kind: 'multiple', series: 2 });
  });
});

// docs/gitbook/usage/metrics.md "Splunk": the MetricTemplate and the analysis that references it.
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  replicas: 2
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
          image: ghcr.io/stefanprodan/podinfo:6.7.1
          ports:
            - name: http
              containerPort: 9898
`;
const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: kubernetes
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 2
    iterations: 5
    metrics:
      - name: "success rate"
        templateRef:
          name: success-rate
          namespace: istio-system
        thresholdRange:
          min: 99
        interval: 1m
`;
const TEMPLATE = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: success-rate
  namespace: istio-system
spec:
  provider:
    type: splunk
    address: https://api.us1.signalfx.com
    secretRef:
      name: splunk
  query: |
    total = data('traces.count', filter=filter('sf_service', '{{target}}')).sum().publish(enable=False)
    success = data('traces.count', filter=filter('sf_service', '{{target}}') and filter('sf_error', 'false')).sum().publish(enable=False)
    ((success/total) * 100).publish()
`;

describe('compile: a Splunk MetricTemplate (metrics.md "Splunk")', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('canarykit-splunk-');
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  function write(template: string): string {
    const input = path.join(work, 'in');
    fs.mkdirSync(input, { recursive: true });
    fs.writeFileSync(path.join(input, 'podinfo.yaml'), [DEPLOYMENT, CANARY, template].join('---\n'));
    return input;
  }

  it('plans the metric with the splunk provider, its Secret, its template and the rendered SignalFlow program', () => {
    const out = new Output(compileFiles([write(TEMPLATE)], { stateDir: path.join(work, 'state') }));
    const metric = out.plan('test/podinfo').metrics.find((m) => m.name === 'success rate');
    expect(metric).toMatchObject({
      interval: '1m',
      thresholdRange: { min: 99 },
      template: true,
      builtin: false,
      templateRef: { name: 'success-rate', namespace: 'istio-system' },
      provider: { type: 'splunk', address: 'https://api.us1.signalfx.com', secretRef: 'splunk' },
    });
    expect(metric?.query).toBe(
      "total = data('traces.count', filter=filter('sf_service', 'podinfo')).sum().publish(enable=False)\n" +
        "success = data('traces.count', filter=filter('sf_service', 'podinfo') and filter('sf_error', 'false')).sum().publish(enable=False)\n" +
        '((success/total) * 100).publish()\n',
    );
  });

  it.each([
    ['no address', TEMPLATE.replace('    address: https://api.us1.signalfx.com\n', ''), 'spec.provider.address: is required for type splunk'],
    ['no secretRef', TEMPLATE.replace('    secretRef:\n      name: splunk\n', ''), 'spec.provider.secretRef: is required for type splunk: name a Secret with key sf_token_key'],
    ['an address that is no URL', TEMPLATE.replace('https://api.us1.signalfx.com', 'api.us1.signalfx.com'), 'spec.provider.address: must be a URL like https://api.<REALM>.signalfx.com'],
  ])('%s fails with file, field and fix, nothing written', async (_name, template, expected) => {
    const outdir = path.join(work, 'dist');
    fs.mkdirSync(outdir, { recursive: true });
    fs.writeFileSync(path.join(outdir, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
    const error = await compile({ files: [write(template)], outdir, stateDir: path.join(work, 'state') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toContain(`podinfo.yaml#3 MetricTemplate istio-system/success-rate: ${expected}`);
    expect(message).toContain('(used by Canary test/podinfo spec.analysis.metrics[0])');
    expect(message).toMatch(/nothing was written/);
    expect(fs.readdirSync(outdir)).toEqual([OUTPUT_MARKER]);
  });
});
