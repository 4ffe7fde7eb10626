import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, MetricsError } from '../src/errors';
import { compile, compileFiles } from '../src/compile';
import { connectMetric } from '../src/adapters/metrics/connect';
import { KubeConfig } from '../src/adapters/metrics/kube-api';
import { keptnSource, parseKeptnQuery, parseGoFloat } from '../src/adapters/metrics/keptn';
import { PlannedMetric } from '../src/model/plan';
import { FakeKubeApi, HANG, statusFailure } from './support/kube-api-server';
import { podinfoDeploymentYaml } from './support/flagger-yaml';

// Flagger v1.44.0 pkg/metrics/providers/keptn.go (and keptn_test.go), against a stand-in for the
// Kubernetes API server: no cluster or apiserver binary can run here.

const TOKEN = 'sa-token-Zx81.kq0';
const METRICS = '/apis/metrics.keptn.sh/v1beta1/namespaces/default/keptnmetrics';
const ANALYSES = '/apis/metrics.keptn.sh/v1beta1/namespaces/default/analyses';

/** A KeptnMetric as Keptn's metrics operator leaves it after fetching (status.value is a string). */
function keptnMetric(name: string, value?: string): Record<string, unknown> {
  return {
    apiVersion: 'metrics.keptn.sh/v1beta1',
    kind: 'KeptnMetric',
    metadata: { name, namespace: 'default', uid: 'b0f3', resourceVersion: '4411', generation: 1 },
    spec: { provider: { name: 'my-prometheus-keptn-provider' }, query: 'sum(rate(http_requests_total[1m]))', fetchIntervalSeconds: 10 },
    ...(value === undefined ? {} : { status: { value, rawValue: 'eyJ2YWx1ZSI6M30=', lastUpdated: '2026-01-01T00:00:10Z' } }),
  };
}

let api: FakeKubeApi;
let url: string;
beforeEach(async () => {
  api = new FakeKubeApi();
  api.token = TOKEN;
  url = await api.start();
});
afterEach(async () => {
  await api.close();
});

const config = (over: Partial<KubeConfig> = {}): KubeConfig => ({ server: url, token: TOKEN, insecure: false, origin: 'env', ...over });
const FAST = { timeoutMs: 3000, pollMs: 10 };
const source = (over: Partial<KubeConfig> = {}, timing = FAST) => keptnSource(config(over), { timeoutMs: 2000 }, timing);

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(MetricsError);
  expect((e as Error).message).not.toContain(TOKEN);
  return e as MetricsError;
}

describe('keptn.go parseQuery', () => {
  it('keptnmetric/<ns>/<name>: later parts ignored, the whole query lower-cased (the docs example)', () => {
    expect(parseKeptnQuery('keptnmetric/my-namespace/response-time/2m/reporter=destination')).toEqual({ resource: 'keptnmetrics', namespace: 'my-namespace', name: 'response-time' });
    expect(parseKeptnQuery('  KeptnMetrics/Default/My-Metric\n')).toEqual({ resource: 'keptnmetrics', namespace: 'default', name: 'my-metric' });
  });

  it('analysis: timeframe defaults to 1m, arguments are k=v pairs split at ";" (others skipped)', () => {
    expect(parseKeptnQuery('analysis/default/my-analysis')).toEqual({ resource: 'analyses', namespace: 'default', name: 'my-analysis', timeframe: '1m', args: {} });
    expect(parseKeptnQuery('analyses/default/my-analysis/5m/foo=bar;bar=foo;junk;a=b=c')).toEqual({
      resource: 'analyses', namespace: 'default', name: 'my-analysis', timeframe: '5m', args: { foo: 'bar', bar: 'foo' },
    });
  });

  it('refuses fewer than three parts and unknown kinds with Flagger\'s messages (TestKeptnProvider_RunQuery_KeptnMetric)', () => {
    expect(() => parseKeptnQuery('invalid/default')).toThrow('unexpected query format. query must be in the format <keptnmetric|analysis>/<namespace>/<resourceName>/<duration>/<arguments>');
    expect(() => parseKeptnQuery('invalid/default/my-metric')).toThrow("unexpected resource kind provided in the query. must be one of: ['keptnmetric', 'analysis']");
  });

  it('reads status.value as strconv.ParseFloat does', () => {
    expect(parseGoFloat('3.0')).toBe(3);
    expect(parseGoFloat('-1.5e3')).toBe(-1500);
    expect(parseGoFloat('.5')).toBe(0.5);
    expect(parseGoFloat('+Inf')).toBe(Infinity);
    expect(parseGoFloat('invalid')).toBeUndefined();
    expect(parseGoFloat('1e400')).toBeUndefined();
    expect(parseGoFloat('')).toBeUndefined();
  });
});

describe('keptn.go queryKeptnMetric: GET the KeptnMetric, read status.value', () => {
  it('gets metrics.keptn.sh/v1beta1 keptnmetrics/<name> in the namespace with the Bearer token and returns the value', async () => {
    api.objects.set(`${METRICS}/my-metric`, keptnMetric('my-metric', '3.0'));
    api.objects.set(`${METRICS}/other`, keptnMetric('other', '7'));
    expect(await source().query('keptnmetric/default/my-metric')).toEqual({ kind: 'value', value: 3 });
    expect(api.requests).toHaveLength(1);
    const [req] = api.requests;
    expect(req.method).toBe('GET');
    expect(req.path).toBe(`${METRICS}/my-metric`);
    expect([...req.query.keys()]).toEqual([]);
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers.accept).toBe('application/json');
  });

  it('a KeptnMetric that is not there: the API server\'s 404 Status becomes an http error ("KeptnMetric not found")', async () => {
    const e = await failure(source().query('keptnmetric/default/my-metric'));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(404);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('could not retrieve KeptnMetric default/my-metric');
    expect(e.message).toContain('NotFound: keptnmetrics.metrics.keptn.sh "my-metric" not found');
    expect(e.message).toContain(url);
  });

  it('403 Forbidden (missing RBAC) names the verb and resource; the token never shows even when echoed', async () => {
    api.handler = (req) =>
      statusFailure(403, 'Forbidden', `keptnmetrics.metrics.keptn.sh "my-metric" is forbidden: User "system:serviceaccount:canarykit:driver" cannot get resource "keptnmetrics" in API group "metrics.keptn.sh" in the namespace "default" (sent ${req.headers.authorization})`);
    const e = await failure(source().query('keptnmetric/default/my-metric'));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(403);
    expect(e.message).toContain('cannot get resource "keptnmetrics" in API group "metrics.keptn.sh"');
    expect(e.message).toContain('Bearer ***');
  });

  it('a value that is not a float and a KeptnMetric without status are errors, not no-data (Flagger returns plain errors)', async () => {
    api.objects.set(`${METRICS}/bad`, keptnMetric('bad', 'invalid'));
    api.objects.set(`${METRICS}/fresh`, keptnMetric('fresh'));
    const bad = await failure(source().query('keptnmetric/default/bad'));
    expect(bad.kind).toBe('bad-response');
    expect(bad.message).toContain('could not parse value of KeptnMetric default/bad to float');
    const fresh = await failure(source().query('keptnmetric/default/fresh'));
    expect(fresh.kind).toBe('bad-response');
    expect(fresh.message).toContain('could not retrieve KeptnMetric - no value found in resource default/fresh');
  });

  it('a malformed query is a bad-query error and asks nothing', async () => {
    const e = await failure(source().query('invalid/default'));
    expect(e.kind).toBe('bad-query');
    expect(e.message).toContain('unexpected query format');
    expect(api.requests).toEqual([]);
  });

  it('401 for a wrong token, 5xx retryable, an unreachable server and a server that never answers', async () => {
    expect((await failure(source({ token: 'wrong' }).query('keptnmetric/default/x'))).status).toBe(401);
    api.handler = () => statusFailure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    const unavailable = await failure(source().query('keptnmetric/default/x'));
    expect([unavailable.kind, unavailable.retryable]).toEqual(['http', true]);
    api.handler = () => HANG;
    const slow = await failure(keptnSource(config(), { timeoutMs: 100 }).query('keptnmetric/default/x'));
    expect(slow.kind).toBe('timeout');
    await api.close();
    const down = await failure(source().query('keptnmetric/default/x'));
    expect(down.kind).toBe('unreachable');
  });

  it('IsOnline succeeds without asking (keptn.go IsOnline)', async () => {
    await expect(source().isOnline()).resolves.toBeUndefined();
    expect(api.requests).toEqual([]);
  });
});

describe('keptn.go queryKeptnAnalysis: create an Analysis, poll it until Completed, delete it', () => {
  /** Completes each created Analysis on its `n`th GET with `pass`. */
  function completeOn(n: number, pass: boolean): void {
    api.onGet = (obj, count) => {
      if (count >= n) obj.status = { state: 'Completed', pass, raw: '{}' };
      else obj.status = { state: 'Progressing' };
    };
  }

  it('a passed Analysis is 1: POST body as Flagger writes it, GETs of the created name, then DELETE (TestKeptnProvider_RunQueryAnalysis "get passed Analysis")', async () => {
    completeOn(3, true);
    expect(await source().query('analysis/default/my-analysis/5m/foo=bar;bar=foo')).toEqual({ kind: 'value', value: 1 });
    const [post] = api.find('POST');
    expect(post.path).toBe(ANALYSES);
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.body).toEqual({
      apiVersion: 'metrics.keptn.sh/v1beta1',
      kind: 'Analysis',
      metadata: { name: expect.stringMatching(/^my-analysis-[0-9a-f]{6}$/), namespace: 'default' },
      spec: { analysisDefinition: { name: 'my-analysis' }, timeframe: { recent: '5m' }, args: { foo: 'bar', bar: 'foo' } },
    });
    const name = post.body.metadata.name as string;
    expect(api.find('GET').map((r) => r.path)).toEqual([`${ANALYSES}/${name}`, `${ANALYSES}/${name}`, `${ANALYSES}/${name}`]);
    const [del] = api.find('DELETE');
    expect(del.path).toBe(`${ANALYSES}/${name}`);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'GET', 'GET', 'DELETE']);
    expect(api.objects.size).toBe(0);
  });

  it('a failed Analysis is 0; defaults timeframe 1m and no args ("get failed Analysis")', async () => {
    completeOn(1, false);
    expect(await source().query('analysis/default/my-analysis')).toEqual({ kind: 'value', value: 0 });
    expect(api.find('POST')[0].body.spec).toEqual({ analysisDefinition: { name: 'my-analysis' }, timeframe: { recent: '1m' }, args: {} });
    expect(api.objects.size).toBe(0);
  });

  it('Completed without a pass flag keeps polling', async () => {
    api.onGet = (obj, count) => {
      obj.status = count < 2 ? { state: 'Completed' } : { state: 'Completed', pass: true };
    };
    expect(await source().query('analysis/default/my-analysis')).toEqual({ kind: 'value', value: 1 });
    expect(api.find('GET')).toHaveLength(2);
  });

  it('an Analysis that never finishes times out and is still deleted ("analysis does not finish")', async () => {
    const e = await failure(source({}, { timeoutMs: 1500, pollMs: 50 }).query('analysis/default/my-analysis'));
    expect(e.kind).toBe('timeout');
    expect(e.message).toContain('encountered timeout while waiting for Keptn Analysis default/my-analysis to be finished');
    expect(api.find('DELETE')).toHaveLength(1);
    expect(api.objects.size).toBe(0);
  });

  it('a refused create (no AnalysisDefinition CRD, RBAC) fails without polling; a non-boolean pass is an error', async () => {
    api.handler = (req) => (req.method === 'POST' ? statusFailure(403, 'Forbidden', 'analyses.metrics.keptn.sh is forbidden: User "system:serviceaccount:canarykit:driver" cannot create resource "analyses"') : undefined);
    const refused = await failure(source().query('analysis/default/my-analysis'));
    expect(refused.message).toContain('could not create Keptn Analysis default/my-analysis');
    expect(refused.status).toBe(403);
    expect(api.find('GET')).toEqual([]);
    api.handler = undefined;
    api.onGet = (obj) => {
      obj.status = { state: 'Completed', pass: 'yes' };
    };
    const odd = await failure(source().query('analysis/default/my-analysis'));
    expect(odd.kind).toBe('bad-response');
    expect(api.objects.size).toBe(0);
  });
});

describe('keptn: the driver\'s Kubernetes credentials', () => {
  const metric: PlannedMetric = {
    name: 'response-time', query: 'keptnmetric/default/my-metric', interval: '1m', thresholdRange: { max: 5 }, builtin: false, template: true,
    provider: { type: 'keptn' }, templateRef: { name: 'response-time', namespace: 'istio-system' },
  };

  it('connects with CANARYKIT_KUBE_API_URL and CANARYKIT_KUBE_TOKEN', async () => {
    api.objects.set(`${METRICS}/my-metric`, keptnMetric('my-metric', '2.5'));
    const s = await connectMetric(metric, { env: { CANARYKIT_KUBE_API_URL: url, CANARYKIT_KUBE_TOKEN: TOKEN }, timeoutMs: 2000, driverServer: 'http://prometheus:9090' });
    expect(s.address).toBe(url);
    expect(await s.query(metric.query)).toEqual({ kind: 'value', value: 2.5 });
  });

  it('without a Kubernetes configuration: a ConfigError naming the variables to set', async () => {
    const e = await connectMetric(metric, { env: {}, timeoutMs: 2000, driverServer: 'http://prometheus:9090' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('CANARYKIT_KUBE_API_URL');
    expect((e as Error).message).toContain('KUBERNETES_SERVICE_HOST');
  });
});

describe('compile: a keptn MetricTemplate (docs/gitbook/usage/metrics.md "Keptn")', () => {
  const TEMPLATE = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: response-time
  namespace: istio-system
spec:
  provider:
    type: keptn
  query: keptnmetric/{{ namespace }}/response-time/{{ interval }}/reporter=destination
`;
  const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 20
    stepWeight: 10
    metrics:
      - name: keptn-response-time
        templateRef:
          name: response-time
          namespace: istio-system
        thresholdRange:
          max: 500
        interval: 2m
`;
  let work: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-keptn-'));
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });
  const write = (template: string): string => {
    const dir = path.join(work, 'in');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), [podinfoDeploymentYaml('test', 'ghcr.io/stefanprodan/podinfo:6.1.0'), template, CANARY].join('---\n'));
    return dir;
  };

  it('plans the keptn provider with the rendered query and the template reference', () => {
    const out = compileFiles([write(TEMPLATE)], { stateDir: path.join(work, 'state') });
    const plan = JSON.parse(out.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    const metric = plan.metrics.find((m: PlannedMetric) => m.name === 'keptn-response-time');
    expect(metric).toMatchObject({
      query: 'keptnmetric/test/response-time/2m/reporter=destination',
      interval: '2m',
      provider: { type: 'keptn' },
      template: true,
      templateRef: { name: 'response-time', namespace: 'istio-system' },
      thresholdRange: { max: 500 },
    });
    expect(metric.provider).toEqual({ type: 'keptn' });
  });

  // keptn.go NewKeptnProvider reads none of the template's fields: Flagger runs such YAML unchanged.
  it('accepts an address and secretRef keptn.go never reads, as Flagger does', async () => {
    const outdir = path.join(work, 'dist');
    const input = write(TEMPLATE.replace('    type: keptn\n', '    type: keptn\n    address: http://keptn.example:8080\n    secretRef:\n      name: keptn\n'));
    await compile({ files: [input], outdir, stateDir: path.join(work, 'state') });
    const plan = JSON.parse(fs.readFileSync(path.join(outdir, 'test', 'podinfo', 'canary.plan.json'), 'utf8'));
    expect(plan.metrics.find((m: PlannedMetric) => m.name === 'keptn-response-time').provider).toMatchObject({ type: 'keptn' });
  });

});
