import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { compile, compileFiles } from '../src/compile';
import { connectMetric } from '../src/adapters/metrics/connect';
import { KubeConfig } from '../src/adapters/metrics/kube-api';
import { externalMetricsConfig, externalMetricsSource, parseExternalMetricsQuery } from '../src/adapters/metrics/externalmetrics';
import { approximateFloat64, parseQuantity } from '../src/adapters/metrics/kube-quantity';
import { canonicalLabelSelector } from '../src/adapters/metrics/label-selector';
import { PlannedMetric } from '../src/model/plan';
import { ExternalMetricValue, FakeKubeApi, HANG, statusFailure } from './support/kube-api-server';
import { podinfoDeploymentYaml } from './support/flagger-yaml';

// Flagger v1.44.0 pkg/metrics/providers/externalmetrics.go (and externalmetrics_test.go) against a
// stand-in for the External Metrics API (no cluster or apiserver binary can run here). Quantities
// and selectors as k8s.io/apimachinery v0.36.2 reads and prints them.

const SA_TOKEN = 'driver-sa-Qm93.token';
const SECRET_TOKEN = 'metrics-secret-77aa';
const API = '/apis/external.metrics.k8s.io/v1beta1';

const item = (value: unknown, labels: Record<string, string> = {}): ExternalMetricValue => ({
  metricName: 'job-success-rate', metricLabels: labels, timestamp: '2026-01-01T00:00:00Z', window: 60, value,
});

let api: FakeKubeApi;
let url: string;
beforeEach(async () => {
  api = new FakeKubeApi();
  url = await api.start();
});
afterEach(async () => {
  await api.close();
});

const config = (over: Partial<KubeConfig> = {}): KubeConfig => ({ server: url, token: SA_TOKEN, insecure: false, origin: 'env', ...over });
const source = (over: Partial<KubeConfig> = {}, timeoutMs = 2000) => externalMetricsSource(config(over), { timeoutMs });

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(MetricsError);
  expect((e as Error).message).not.toContain(SA_TOKEN);
  expect((e as Error).message).not.toContain(SECRET_TOKEN);
  return e as MetricsError;
}

describe('externalmetrics.go parseExternalMetricsQuery (TestExternalMetrics_ParseQuery)', () => {
  it('namespace, metric and a url-encoded labelSelector; namespace default when absent', () => {
    expect(parseExternalMetricsQuery('default/myMetric?labelSelector=label1%3Dvalue1')).toEqual({ namespace: 'default', metricName: 'myMetric', labelSelector: 'label1=value1' });
    expect(parseExternalMetricsQuery('default/myMetric')).toEqual({ namespace: 'default', metricName: 'myMetric', labelSelector: '' });
    expect(parseExternalMetricsQuery('/metric_only')).toEqual({ namespace: 'default', metricName: 'metric_only', labelSelector: '' });
    expect(parseExternalMetricsQuery('myMetric')).toEqual({ namespace: 'default', metricName: 'myMetric', labelSelector: '' });
    // url.Values decoding: + is a space, the first labelSelector wins, a fragment is cut.
    expect(parseExternalMetricsQuery('ns/m?labelSelector=env+in+(prod,dev)&labelSelector=x#top').labelSelector).toBe('env in (dev,prod)');
  });

  it('refuses an empty metric name, too many slashes, bad escapes and bad selectors with Flagger\'s texts', () => {
    for (const q of ['namespaceonly/', '/', '']) expect(() => parseExternalMetricsQuery(q)).toThrow('metric name cannot be empty');
    expect(() => parseExternalMetricsQuery('namespace/metric/extra')).toThrow('malformed query string, too many slashes, expected <namespace>/<metricName>?labelSelector=<urlencoded label selectors>, got namespace/metric/extra');
    expect(() => parseExternalMetricsQuery('ns/m%zz')).toThrow('malformed query string');
    expect(() => parseExternalMetricsQuery('ns/m?labelSelector=env%20in%20prod')).toThrow("error parsing label selector from string env in prod: unable to parse requirement: found 'prod' expected: '('");
  });

  it('labels.Parse(...).String(): requirements sorted by key, set values sorted and unique, == and != kept', () => {
    expect(canonicalLabelSelector('tier, env in (prod, dev,prod), !canary, app==web, track!=stable')).toBe('app==web,!canary,env in (dev,prod),tier,track!=stable');
    expect(canonicalLabelSelector('x notin ()')).toBe('x notin ()');
    expect(() => canonicalLabelSelector('Bad_Prefix/x=y')).toThrow(/prefix part must be a lowercase RFC 1123 subdomain/);
    expect(() => canonicalLabelSelector('a>b')).toThrow(/must be an integer/);
  });
});

describe('resource.Quantity AsApproximateFloat64 (the value Flagger compares)', () => {
  const f = (s: string) => approximateFloat64(parseQuantity(s));
  it('decimal, binary and exponent suffixes', () => {
    expect(f('1500m')).toBe(1.5);
    expect(f('1.1111')).toBe(1.1111); // externalmetrics_test.go testMetricValue 11111e-4
    expect(f('2Ki')).toBe(2048);
    expect(f('1.5Gi')).toBe(1610612736);
    expect(f('1e3')).toBe(1000);
    expect(f('-250u')).toBe(-0.00025);
    expect(f('12k')).toBe(12000);
  });
  it('rounds up below a nano, as ParseQuantity does', () => {
    expect(f('0.0000000001')).toBe(1e-9);
    expect(f('1.5n')).toBe(2e-9);
  });
  it('refuses what ParseQuantity refuses', () => {
    expect(() => parseQuantity('5x')).toThrow(/quantities must match the regular expression/);
    expect(() => parseQuantity('1e')).toThrow(/suffix/);
    expect(() => parseQuantity('')).toThrow();
  });
});

describe('externalmetrics.go RunQuery: GET the external metric list, the first item\'s value (TestExternalMetrics_RunQuery)', () => {
  it('GET /apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>?labelSelector=<canonical> with the Bearer token; first item wins', async () => {
    api.externalMetrics.set('webapp-frontend/job-success-rate', [item('1500m', { env: 'production', job: 'a' }), item('2', { env: 'production', job: 'b' })]);
    const value = await source().query('webapp-frontend/job-success-rate?labelSelector=job%20in%20(b,a),env%3Dproduction');
    expect(value).toEqual({ kind: 'value', value: 1.5 });
    expect(api.requests).toHaveLength(1);
    const [req] = api.requests;
    expect(req.method).toBe('GET');
    expect(req.path).toBe(`${API}/namespaces/webapp-frontend/job-success-rate`);
    expect([...req.query.entries()]).toEqual([['labelSelector', 'env=production,job in (a,b)']]);
    expect(req.headers.authorization).toBe(`Bearer ${SA_TOKEN}`);
    expect(req.headers.accept).toBe('application/json, */*');
  });

  it('no labelSelector parameter without a selector; the default namespace without one ("Metric only, default namespace")', async () => {
    api.externalMetrics.set('default/myMetric', [item('11111e-4')]);
    expect(await source().query('myMetric')).toEqual({ kind: 'value', value: 1.1111 });
    expect(api.requests[0].path).toBe(`${API}/namespaces/default/myMetric`);
    expect([...api.requests[0].query.keys()]).toEqual([]);
  });

  it('an empty list is no data ("Fails when no external metrics are returned": ErrNoValuesFound)', async () => {
    api.externalMetrics.set('default/myMetric', []);
    expect(await source().query('default/myMetric?labelSelector=label1%3Dvalue1')).toEqual({ kind: 'no-data' });
  });

  it('an invalid query asks nothing ("Fails on invalid query"); a bad quantity is a bad-response', async () => {
    const e = await failure(source().query('namespace/metric/extra'));
    expect(e.kind).toBe('bad-query');
    expect(e.message).toContain('error parsing metric query: malformed query string, too many slashes');
    expect(api.requests).toEqual([]);
    api.externalMetrics.set('default/odd', [item('12 apples')]);
    const odd = await failure(source().query('odd'));
    expect(odd.kind).toBe('bad-response');
    expect(odd.message).toContain('value "12 apples"');
  });

  it('an unknown metric: the adapter\'s 404 Status is an http error ("Fails when external metrics API returns an error")', async () => {
    const e = await failure(source().query('default/nope'));
    expect([e.kind, e.status, e.retryable]).toEqual(['http', 404, false]);
    expect(e.message).toContain('NotFound: the server could not find the metric nope for namespace default');
    expect(e.message).toContain(`externalmetrics request to Kubernetes API ${url} failed`);
  });

  it('403 (no RBAC on external.metrics.k8s.io) names the resource; the token never shows even when echoed', async () => {
    api.handler = (req) =>
      statusFailure(403, 'Forbidden', `job-success-rate.external.metrics.k8s.io is forbidden: User "system:serviceaccount:canarykit:driver" cannot list resource "job-success-rate" in API group "external.metrics.k8s.io" in the namespace "default" (${req.headers.authorization})`);
    const e = await failure(source().query('default/job-success-rate'));
    expect([e.kind, e.status]).toEqual(['http', 403]);
    expect(e.message).toContain('cannot list resource "job-success-rate" in API group "external.metrics.k8s.io"');
  });

  it('5xx is retryable; a server that never answers times out; a closed port is unreachable', async () => {
    api.handler = () => statusFailure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    expect((await failure(source().query('m'))).retryable).toBe(true);
    api.handler = () => HANG;
    expect((await failure(source({}, 100).query('m'))).kind).toBe('timeout');
    await api.close();
    expect((await failure(source().query('m'))).kind).toBe('unreachable');
  });
});

describe('externalmetrics.go IsOnline: list kube-system/dummy-metric', () => {
  it('online when the list answers', async () => {
    api.externalMetrics.set('kube-system/dummy-metric', []);
    await expect(source().isOnline()).resolves.toBeUndefined();
    expect(api.requests.map((r) => [r.path, [...r.query.keys()]])).toEqual([[`${API}/namespaces/kube-system/dummy-metric`, []]]);
  });

  it('any error is "external metrics service unavailable" (a 404 for the dummy metric too, as in Flagger)', async () => {
    await expect(source().isOnline()).rejects.toThrow(/^external metrics service unavailable: externalmetrics request to Kubernetes API .* HTTP 404/);
    await api.close();
    await expect(source().isOnline()).rejects.toThrow(/external metrics service unavailable: .*request failed/);
  });
});

describe('NewExternalMetricsProvider: the template\'s address, insecureSkipVerify and Secret token over the driver\'s config', () => {
  const ctx = (env: NodeJS.ProcessEnv, credentials: Record<string, string> = {}) => ({ env, credentials, credentialHint: (k: string) => `set CANARYKIT_SECRET_DEFAULT_EM_${k.toUpperCase()}` });
  const driverEnv = { CANARYKIT_KUBE_API_URL: 'https://10.0.0.1:6443', CANARYKIT_KUBE_TOKEN: SA_TOKEN, CANARYKIT_KUBE_CA_FILE: '/ca.pem', CANARYKIT_KUBE_INSECURE_SKIP_TLS_VERIFY: 'true' };

  it('no address: the driver\'s API server and token ("In cluster, automatic address and token"); insecureSkipVerify is the template\'s', () => {
    expect(externalMetricsConfig({ type: 'externalmetrics' }, ctx(driverEnv))).toEqual({ server: 'https://10.0.0.1:6443', token: SA_TOKEN, caFile: '/ca.pem', insecure: false, origin: 'env' });
  });

  it('an address and a Secret token replace the driver\'s ("Custom provider address and token")', () => {
    expect(externalMetricsConfig({ type: 'externalmetrics', address: 'https://em.default.svc:8443', secretRef: 'em', insecureSkipVerify: true }, ctx(driverEnv, { token: SECRET_TOKEN }))).toEqual({
      server: 'https://em.default.svc:8443', token: SECRET_TOKEN, caFile: '/ca.pem', insecure: true, origin: 'env',
    });
    // Outside a cluster an address and a token are enough.
    expect(externalMetricsConfig({ type: 'externalmetrics', address: 'https://em:8443', secretRef: 'em' }, ctx({}, { token: SECRET_TOKEN })).server).toBe('https://em:8443');
  });

  it('a secretRef whose token is not set, or no configuration at all: ConfigErrors naming what to set', () => {
    expect(() => externalMetricsConfig({ type: 'externalmetrics', secretRef: 'em' }, ctx(driverEnv))).toThrow(/CANARYKIT_SECRET_DEFAULT_EM_TOKEN/);
    expect(() => externalMetricsConfig({ type: 'externalmetrics' }, ctx({}))).toThrow(ConfigError);
  });

  it('through connectMetric: the Secret token from CANARYKIT_SECRET_<NS>_<SECRET>_TOKEN is what the server gets', async () => {
    api.externalMetrics.set('default/myMetric', [item('42')]);
    const metric: PlannedMetric = {
      name: 'em', query: 'default/myMetric', interval: '1m', thresholdRange: { min: 10 }, builtin: false, template: true,
      provider: { type: 'externalmetrics', address: url, secretRef: 'em-token' }, templateRef: { name: 'my-external-metric', namespace: 'default' },
    };
    const env = { CANARYKIT_KUBE_API_URL: 'http://127.0.0.1:1', CANARYKIT_KUBE_TOKEN: SA_TOKEN, CANARYKIT_SECRET_DEFAULT_EM_TOKEN_TOKEN: SECRET_TOKEN };
    const s = await connectMetric(metric, { env, timeoutMs: 2000, driverServer: 'http://prometheus:9090' });
    expect(await s.query(metric.query)).toEqual({ kind: 'value', value: 42 });
    expect(api.requests[0].headers.authorization).toBe(`Bearer ${SECRET_TOKEN}`);
    const missing = await connectMetric(metric, { env: { CANARYKIT_KUBE_API_URL: url }, timeoutMs: 2000, driverServer: 'x' }).catch((x: unknown) => x);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toContain('CANARYKIT_SECRET_DEFAULT_EM_TOKEN_TOKEN');
  });
});

describe('compile: an externalmetrics MetricTemplate (docs/gitbook/usage/metrics.md "Kubernetes External Metrics")', () => {
  const TEMPLATE = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: my-external-metric
  namespace: test
spec:
  provider:
    type: externalmetrics
    address: https://external-metrics-server.default.svc.cluster.local:8443
    secretRef:
      name: external-metric-server-token
  query: webapp-frontend/job-success-rate?labelSelector=env%3D{{ variables.env }}
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
      - name: job-success-rate
        templateRef:
          name: my-external-metric
        templateVariables:
          env: production
        thresholdRange:
          min: 95
        interval: 1m
`;
  let work: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-em-'));
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

  it('plans the provider (address, secretRef), the rendered query and the template reference', () => {
    const out = compileFiles([write(TEMPLATE)], { stateDir: path.join(work, 'state') });
    const plan = JSON.parse(out.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    const metric = plan.metrics.find((m: PlannedMetric) => m.name === 'job-success-rate');
    expect(metric).toMatchObject({
      query: 'webapp-frontend/job-success-rate?labelSelector=env%3Dproduction',
      interval: '1m',
      template: true,
      templateRef: { name: 'my-external-metric', namespace: 'test' },
      thresholdRange: { min: 95 },
    });
    expect(metric.provider).toEqual({ type: 'externalmetrics', address: 'https://external-metrics-server.default.svc.cluster.local:8443', secretRef: 'external-metric-server-token' });
  });

  it('refuses an address client-go refuses, with file, field and fix (headers it never sends are accepted); nothing written', async () => {
    const outdir = path.join(work, 'dist');
    const input = write(
      TEMPLATE.replace('address: https://external-metrics-server.default.svc.cluster.local:8443', 'address: external-metrics-server.default.svc/metrics\n    headers:\n      X-Scope-OrgID: [tenant]'),
    );
    const e = await compile({ files: [input], outdir, stateDir: path.join(work, 'state') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    const message = (e as Error).message;
    expect(message).toContain('podinfo.yaml#2 MetricTemplate test/my-external-metric: spec.provider.address: "external-metrics-server.default.svc/metrics": a host:port pair takes no path');
    expect(message).toContain('write an http(s) URL such as https://external-metrics-server.default.svc:8443, or a host:port pair');
    expect(message).not.toContain('spec.provider.headers');
    expect(message).toContain('used by Canary test/podinfo spec.analysis.metrics[0]');
    expect(message).toMatch(/nothing was written/);
    expect(fs.existsSync(outdir)).toBe(false);
  });
});
