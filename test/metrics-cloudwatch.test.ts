import * as fs from 'fs';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { connectMetric } from '../src/adapters/metrics/connect';
import { cloudWatchEndpoint, GO_ZERO_TIME_EPOCH_SECONDS } from '../src/adapters/metrics/cloudwatch';
import { CLOUDWATCH_SPEC } from '../src/model/metric-providers/cloudwatch';
import { MetricSource } from '../src/adapters/metrics/source';
import { PlannedMetric } from '../src/model/plan';
import { CloudWatchServer, startCloudWatch } from './support/cloudwatch-server';
import { clearAwsCredentials } from '../src/adapters/metrics/aws-credentials';
import { tempDir } from './compile/support';
import { freePort } from './support/prometheus-server';

// pkg/metrics/providers/cloudwatch.go (NewCloudWatchProvider, RunQuery, IsOnline) and
// cloudwatch_test.go, against a local CloudWatch that speaks AWS JSON 1.0 and verifies SigV4.

const KEYS = { accessKeyId: 'AKIDEXAMPLE0CANARYKIT', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYsecretKEY', region: 'ap-northeast-1' };
const SESSION = 'IQoJb3JpZ2luX2VjEHsessiontoken/with+chars==';

// The query of Flagger's docs (usage/metrics.md, Amazon CloudWatch), rendered, with one key in
// another case and one field GetMetricData does not know (json.Unmarshal matches the first, drops the other).
const QUERY = JSON.stringify([
  { Id: 'e1', Expression: 'm1 / m2', Label: 'ErrorRate' },
  {
    id: 'm1',
    MetricStat: { Metric: { Namespace: 'MyKubernetesCluster', MetricName: 'ErrorCount', Dimensions: [{ Name: 'appName', Value: 'podinfo.test' }] }, Period: 60, Stat: 'Sum', Unit: 'Count' },
    ReturnData: false,
    Comment: 'not a MetricDataQuery field',
  },
  {
    Id: 'm2',
    MetricStat: { Metric: { Namespace: 'MyKubernetesCluster', MetricName: 'RequestCount', Dimensions: [{ Name: 'appName', Value: 'podinfo.test' }] }, Period: 60, Stat: 'Sum', Unit: 'Count' },
    ReturnData: false,
  },
]);

const AT = new Date('2026-03-04T05:06:07.000Z');

const metric = (over: Partial<PlannedMetric['provider']> = {}, interval = '1m'): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> => ({
  provider: { type: 'cloudwatch', region: KEYS.region, ...over },
  templateRef: { name: 'cloudwatch-error-rate', namespace: 'test' },
  interval,
});

let cw: CloudWatchServer;
beforeAll(async () => {
  cw = await startCloudWatch({ ...KEYS });
});
afterAll(async () => {
  await cw?.stop();
});
beforeEach(() => {
  cw.requests.length = 0;
  cw.replies.length = 0;
  clearAwsCredentials();
});

const env = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
  AWS_ENDPOINT_URL_CLOUDWATCH: cw.url,
  ...over,
});
const connect = (e: NodeJS.ProcessEnv = env(), m = metric(), timeoutMs = 5000): Promise<MetricSource> => connectMetric(m, { env: e, timeoutMs, driverServer: 'http://unused:9090' });
const failure = async (p: Promise<unknown>): Promise<MetricsError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
};

const ok = (results: unknown[]) => ({ status: 200, body: { MetricDataResults: results, Messages: [] } });

describe('cloudwatch spec (NewCloudWatchProvider)', () => {
  it('refuses a template without a region ("region not specified"), and a region that is no AWS region', () => {
    expect(CLOUDWATCH_SPEC.validate({ type: 'cloudwatch' })).toEqual([{ field: 'region', message: expect.stringContaining('region not specified') }]);
    expect(CLOUDWATCH_SPEC.validate({ type: 'cloudwatch', region: 'tokyo' })[0].message).toContain('like us-east-1');
    expect(CLOUDWATCH_SPEC.validate({ type: 'cloudwatch', region: 'us-gov-west-1' })).toEqual([]);
    expect(CLOUDWATCH_SPEC.secretKeys).toEqual([]);
  });
});

describe('cloudwatch RunQuery: GetMetricData over AWS JSON 1.0, signed with SigV4', () => {
  it('POSTs GetMetricData to / with the query as MetricDataQueries over [at - 10 x interval, at], MaxDatapoints 20', async () => {
    cw.replies.push(ok([{ Id: 'e1', Label: 'ErrorRate', Timestamps: [1772600760, 1772600700], Values: [0.25, 0.5], StatusCode: 'Complete' }]));
    const source = await connect(env(), metric({}, '2m'));
    expect(await source.query(QUERY, AT)).toEqual({ kind: 'value', value: 0.25 });
    expect(cw.requests).toHaveLength(1);
    const [req] = cw.requests;
    expect(req.signatureProblem).toBeUndefined();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(req.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(req.scope).toEqual({ date: String(req.headers['x-amz-date']).slice(0, 8), region: 'ap-northeast-1', service: 'monitoring', accessKeyId: KEYS.accessKeyId });
    expect(req.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-target', 'content-type']));
    expect(req.headers['x-amz-security-token']).toBeUndefined();
    expect(req.json).toEqual({
      MetricDataQueries: [
        { Id: 'e1', Expression: 'm1 / m2', Label: 'ErrorRate' },
        { Id: 'm1', MetricStat: { Metric: { Namespace: 'MyKubernetesCluster', MetricName: 'ErrorCount', Dimensions: [{ Name: 'appName', Value: 'podinfo.test' }] }, Period: 60, Stat: 'Sum', Unit: 'Count' }, ReturnData: false },
        { Id: 'm2', MetricStat: { Metric: { Namespace: 'MyKubernetesCluster', MetricName: 'RequestCount', Dimensions: [{ Name: 'appName', Value: 'podinfo.test' }] }, Period: 60, Stat: 'Sum', Unit: 'Count' }, ReturnData: false },
      ],
      // cloudWatchStartDeltaMultiplierOnMetricInterval: 10 x 2m before the end.
      StartTime: AT.getTime() / 1000 - 1200,
      EndTime: AT.getTime() / 1000,
      MaxDatapoints: 20,
    });
    expect(source.address).toBe(cw.url);
  });

  it('picks the first value of the first result of several (RunQuery: MetricDataResults[0].Values[0])', async () => {
    cw.replies.push(
      ok([
        { Id: 'e1', Label: 'ErrorRate', Timestamps: [1772600760, 1772600700, 1772600640], Values: [0.03, 0.9, 0.8], StatusCode: 'Complete' },
        { Id: 'e2', Label: 'Other', Timestamps: [1772600760], Values: [42], StatusCode: 'Complete' },
      ]),
    );
    expect(await (await connect()).query(QUERY, AT)).toEqual({ kind: 'value', value: 0.03 });
  });

  it('signs AWS_SESSION_TOKEN as X-Amz-Security-Token (temporary credentials)', async () => {
    const server = await startCloudWatch({ ...KEYS, sessionToken: SESSION });
    try {
      server.replies.push(ok([{ Id: 'e1', Values: [7] }]));
      const source = await connect({ ...env(), AWS_SESSION_TOKEN: SESSION, AWS_ENDPOINT_URL_CLOUDWATCH: server.url });
      expect(await source.query(QUERY, AT)).toEqual({ kind: 'value', value: 7 });
      expect(server.requests[0].signatureProblem).toBeUndefined();
      expect(server.requests[0].signedHeaders).toContain('x-amz-security-token');
    } finally {
      await server.stop();
    }
  });

  it('the signature really is checked: a wrong secret is refused by the server and is a MetricsError, not a value', async () => {
    const e = await failure((await connect(env({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }))).query(QUERY, AT));
    expect(cw.requests[0].signatureProblem).toBe('signature does not match');
    expect(e.kind).toBe('http');
    expect(e.status).toBe(400);
    expect(e.message).toContain('InvalidSignatureException');
    expect(e.message).not.toContain('not-the-secret');
  });

  it('AWS_ENDPOINT_URL is used when AWS_ENDPOINT_URL_CLOUDWATCH is not set; the default is monitoring.<region>.amazonaws.com', async () => {
    cw.replies.push(ok([{ Id: 'e1', Values: [1] }]));
    const e = env({ AWS_ENDPOINT_URL: cw.url });
    delete e.AWS_ENDPOINT_URL_CLOUDWATCH;
    expect(await (await connect(e)).query(QUERY, AT)).toEqual({ kind: 'value', value: 1 });
    expect(cloudWatchEndpoint('eu-west-1', {})).toBe('https://monitoring.eu-west-1.amazonaws.com');
    expect(cloudWatchEndpoint('cn-north-1', {})).toBe('https://monitoring.cn-north-1.amazonaws.com.cn');
    expect(cloudWatchEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://a:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toBe('https://monitoring.eu-west-1.amazonaws.com');
  });
});

describe('cloudwatch no data (ErrNoValuesFound, cloudwatch_test.go "no values")', () => {
  it.each([
    ['no MetricDataResults', { MetricDataResults: [] }],
    ['an answer without MetricDataResults', {}],
    ['a first result without values, even when a later one has some', { MetricDataResults: [{ Id: 'e1', Values: [], Timestamps: [] }, { Id: 'e2', Values: [3], Timestamps: [1772600760] }] }],
  ])('%s', async (_name, body) => {
    cw.replies.push({ status: 200, body });
    expect(await (await connect()).query(QUERY, AT)).toEqual({ kind: 'no-data' });
  });
});

describe('cloudwatch failures are MetricsErrors with the provider and address, never a credential', () => {
  it('a query that is not a JSON list of MetricDataQuery: bad-query ("error unmarshaling query"), nothing sent', async () => {
    const source = await connect();
    for (const q of ['{ not json', '{"Id":"e1"}', '[{"Id": 1}]', '[{"Id":"m1","MetricStat":{"Period":"60"}}]']) {
      const e = await failure(source.query(q, AT));
      expect(e.kind).toBe('bad-query');
      expect(e.message).toMatch(/^cloudwatch query to http:\/\/127\.0\.0\.1:\d+ \(region ap-northeast-1, credentials from AWS_ACCESS_KEY_ID\) failed: error unmarshaling query: /);
    }
    expect(cw.requests).toHaveLength(0);
  });

  it('HTTP 400 InvalidParameterValue: bad-query, not retried', async () => {
    cw.replies.push({ status: 400, body: { __type: 'com.amazonaws.cloudwatch#InvalidParameterValueException', message: 'The value m3 for parameter MetricDataQueries is not valid.' } });
    const e = await failure((await connect()).query(QUERY, AT));
    expect(e).toMatchObject({ kind: 'bad-query', status: 400, retryable: false, address: cw.url });
    expect(e.message).toContain('InvalidParameterValueException: The value m3 for parameter MetricDataQueries is not valid.');
    expect(cw.requests).toHaveLength(1);
  });

  it('HTTP 403 AccessDenied echoing the session token: http, and the token and secret are masked', async () => {
    const server = await startCloudWatch({ ...KEYS, sessionToken: SESSION });
    try {
      server.replies.push({ status: 403, body: { __type: 'AccessDeniedException', message: `User with token ${SESSION} and key ${KEYS.secretAccessKey} is not authorized to perform cloudwatch:GetMetricData` } });
      const e = await failure((await connect({ ...env(), AWS_SESSION_TOKEN: SESSION, AWS_ENDPOINT_URL_CLOUDWATCH: server.url })).query(QUERY, AT));
      expect(e).toMatchObject({ kind: 'http', status: 403, retryable: false });
      expect(e.message).toContain('AccessDeniedException');
      expect(e.message).not.toContain(SESSION);
      expect(e.message).not.toContain(KEYS.secretAccessKey);
      expect(e.message).not.toContain(encodeURIComponent(SESSION));
    } finally {
      await server.stop();
    }
  });

  it('5xx and throttling are retried as the SDK does (cloudWatchMaxRetries 3), then answer', async () => {
    cw.replies.push({ status: 503, body: { __type: 'ServiceUnavailable', message: 'try again' } });
    cw.replies.push({ status: 400, body: { __type: 'Throttling', message: 'Rate exceeded' } });
    cw.replies.push(ok([{ Id: 'e1', Values: [5] }]));
    expect(await (await connect()).query(QUERY, AT)).toEqual({ kind: 'value', value: 5 });
    expect(cw.requests).toHaveLength(3);
  });

  it('a 500 that persists: four attempts, then a retryable http error', async () => {
    for (let i = 0; i < 4; i++) cw.replies.push({ status: 500, body: { __type: 'InternalServiceError', message: 'boom' } });
    const e = await failure((await connect()).query(QUERY, AT));
    expect(e).toMatchObject({ kind: 'http', status: 500, retryable: true });
    expect(cw.requests).toHaveLength(4);
  });

  it('no answer within the timeout: timeout', async () => {
    cw.replies.push({ status: 200, body: {}, hang: true });
    const e = await failure((await connect(env(), metric(), 300)).query(QUERY, AT));
    expect(e).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('nothing listening: unreachable', async () => {
    const e = await failure((await connect(env({ AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${await freePort()}` }))).query(QUERY, AT));
    expect(e).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(e.message).toMatch(/^cloudwatch query to http:\/\/127\.0\.0\.1:\d+ \(region ap-northeast-1, credentials from AWS_ACCESS_KEY_ID\) failed: request failed: /);
  });

  it('an answer that is not JSON: bad-response', async () => {
    cw.replies.push({ status: 200, body: '<html>proxy</html>' });
    expect((await failure((await connect()).query(QUERY, AT))).kind).toBe('bad-response');
  });

  it('missing AWS credentials: ConfigError naming the variables to set', async () => {
    const e = env();
    delete e.AWS_SECRET_ACCESS_KEY;
    await expect(connect(e)).rejects.toThrow(ConfigError);
    await expect(connect(e)).rejects.toThrow('cloudwatch in region ap-northeast-1: set AWS_SECRET_ACCESS_KEY as well');
    delete e.AWS_ACCESS_KEY_ID;
    await expect(connect(e)).rejects.toThrow(/needs AWS credentials with cloudwatch:GetMetricData: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(and AWS_SESSION_TOKEN for temporary credentials\), or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN/);
  });
});

describe('cloudwatch credentials beyond static keys (the SDK default chain)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('canarykit-aws-');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const noKeys = (over: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ AWS_ENDPOINT_URL_CLOUDWATCH: cw.url, ...over });

  it('EKS IRSA: AssumeRoleWithWebIdentity at STS with the token file, then GetMetricData signed with the temporary keys', async () => {
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, `${cw.webIdentity.token}\n`);
    cw.replies.push(ok([{ Id: 'e1', Values: [0.5] }]), ok([{ Id: 'e1', Values: [0.6] }]));
    const e = noKeys({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: cw.webIdentity.roleArn, AWS_ROLE_SESSION_NAME: 'canarykit-test', AWS_ENDPOINT_URL_STS: cw.url });
    expect(await (await connect(e)).query(QUERY, AT)).toEqual({ kind: 'value', value: 0.5 });
    expect(await (await connect(e)).query(QUERY, AT)).toEqual({ kind: 'value', value: 0.6 });
    const [sts, q1, q2] = cw.requests;
    expect(sts.json).toEqual({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: cw.webIdentity.roleArn, RoleSessionName: 'canarykit-test', WebIdentityToken: cw.webIdentity.token });
    expect(sts.headers.authorization).toBeUndefined();
    const temp = cw.issued[cw.issued.length - 1];
    for (const q of [q1, q2]) {
      expect(q.signatureProblem).toBeUndefined();
      expect(q.scope?.accessKeyId).toBe(temp.accessKeyId);
      expect(q.headers['x-amz-security-token']).toBe(temp.sessionToken);
    }
    // One STS call: the temporary credentials are reused until shortly before they expire.
    expect(cw.requests).toHaveLength(3);
  });

  it('IRSA refused by STS: http error without the web identity token', async () => {
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'eyJ.wrong-token.sig');
    const e = noKeys({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: cw.webIdentity.roleArn, AWS_ENDPOINT_URL_STS: cw.url });
    const err = await failure((await connect(e)).query(QUERY, AT));
    expect(err).toMatchObject({ kind: 'http', status: 400 });
    expect(err.message).toContain(`cloudwatch: AssumeRoleWithWebIdentity for ${cw.webIdentity.roleArn} at ${cw.url} failed: HTTP 400 InvalidIdentityToken: Incorrect token audience for ***`);
    expect(err.message).not.toContain('wrong-token');
  });

  it('EKS Pod Identity / ECS: container credentials with the authorization token file', async () => {
    const tokenFile = path.join(dir, 'eks-pod-identity-token');
    fs.writeFileSync(tokenFile, cw.containerToken);
    cw.replies.push(ok([{ Id: 'e1', Values: [9] }]));
    const e = noKeys({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${cw.url}/v2/credentials/pod`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile });
    expect(await (await connect(e)).query(QUERY, AT)).toEqual({ kind: 'value', value: 9 });
    const [creds, q] = cw.requests;
    expect(creds.headers.authorization).toBe(cw.containerToken);
    expect(q.signatureProblem).toBeUndefined();
    expect(q.scope?.accessKeyId).toMatch(/^ASIAPOD/);
  });
});

describe('cloudwatch IsOnline (cloudwatch_test.go TestCloudWatchProvider_IsOnline)', () => {
  it('sends an empty query over Go zero times; a 400 bad request means online', async () => {
    cw.replies.push({ status: 400, body: { __type: 'com.amazonaws.cloudwatch#InvalidParameterValueException', message: 'The parameter MetricDataQueries must not be empty.' } });
    await (await connect()).isOnline(AT);
    expect(cw.requests[0].json).toEqual({ MetricDataQueries: [], StartTime: GO_ZERO_TIME_EPOCH_SECONDS, EndTime: GO_ZERO_TIME_EPOCH_SECONDS });
    expect(cw.requests[0].signatureProblem).toBeUndefined();
  });

  it('success means online', async () => {
    cw.replies.push(ok([]));
    await expect((await connect()).isOnline(AT)).resolves.toBeUndefined();
  });

  it('forbidden (403) is offline: "unexpected status code"', async () => {
    cw.replies.push({ status: 403, body: { __type: 'AccessDeniedException', message: 'not authorized to perform: cloudwatch:GetMetricData' } });
    await expect((await connect()).isOnline(AT)).rejects.toThrow(/^unexpected status code: 403 AccessDeniedException: not authorized/);
  });

  it('a 400 that is an authentication failure (bad signature) is offline too', async () => {
    await expect((await connect(env({ AWS_SECRET_ACCESS_KEY: 'wrong-secret' }))).isOnline(AT)).rejects.toThrow(/^unexpected status code: 400 InvalidSignatureException/);
  });

  it('nothing listening: "unexpected error"', async () => {
    await expect((await connect(env({ AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${await freePort()}` }))).isOnline(AT)).rejects.toThrow(/^unexpected error: /);
  });
});

// ---- compile: Flagger YAML with a CloudWatch MetricTemplate (docs/gitbook/usage/metrics.md) ----

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
  name: cloudwatch-error-rate
  namespace: test
spec:
  provider:
${provider}  query: |
    [
        { "Id": "e1", "Expression": "m1 / m2", "Label": "ErrorRate" },
        { "Id": "m1", "ReturnData": false, "MetricStat": { "Period": 60, "Stat": "Sum", "Unit": "Count",
          "Metric": { "Namespace": "MyKubernetesCluster", "MetricName": "ErrorCount",
            "Dimensions": [ { "Name": "appName", "Value": "{{ name }}.{{ namespace }}" } ] } } },
        { "Id": "m2", "ReturnData": false, "MetricStat": { "Period": 60, "Stat": "Sum", "Unit": "Count",
          "Metric": { "Namespace": "MyKubernetesCluster", "MetricName": "RequestCount",
            "Dimensions": [ { "Name": "appName", "Value": "{{ name }}.{{ namespace }}" } ] } } }
    ]
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
      - name: "app error rate"
        templateRef:
          name: cloudwatch-error-rate
          namespace: test
        thresholdRange:
          max: 0.1
        interval: 1m
`;

describe('compile: a Canary with a CloudWatch MetricTemplate', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('canarykit-cloudwatch-');
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('plans the metric with type cloudwatch, its region and template, and the rendered query', () => {
    fs.writeFileSync(path.join(work, 'podinfo.yaml'), [DEPLOYMENT, TEMPLATE('    type: cloudwatch\n    region: ap-northeast-1 # specify the region of your metrics\n'), CANARY].join('---\n'));
    const out = compileFiles([work], { stateDir: path.join(work, 'state') });
    const folder = out.folders.find((f) => f.dir === 'test/podinfo')!;
    const plan = JSON.parse(folder.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === 'app error rate');
    expect(m).toMatchObject({ provider: { type: 'cloudwatch', region: 'ap-northeast-1' }, templateRef: { name: 'cloudwatch-error-rate', namespace: 'test' }, interval: '1m', template: true });
    expect(m.provider.address).toBeUndefined();
    const queries = JSON.parse(m.query);
    expect(queries[1].MetricStat.Metric.Dimensions).toEqual([{ Name: 'appName', Value: 'podinfo.test' }]);
    expect(queries.map((q: { Id: string }) => q.Id)).toEqual(['e1', 'm1', 'm2']);
  });

  it('a template without a region fails naming the file, the field and the fix, and writes nothing', async () => {
    fs.mkdirSync(path.join(work, 'in'));
    fs.writeFileSync(path.join(work, 'in', 'podinfo.yaml'), [DEPLOYMENT, TEMPLATE('    type: cloudwatch\n'), CANARY].join('---\n'));
    const outdir = path.join(work, 'dist');
    const error = await compile({ files: [path.join(work, 'in')], outdir, stateDir: path.join(work, 'state') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toContain('podinfo.yaml#2 MetricTemplate test/cloudwatch-error-rate: spec.provider.region: is required for type cloudwatch');
    expect(message).toContain('set it to the AWS region of your metrics');
    expect(message).toMatch(/nothing was written/);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });
});
