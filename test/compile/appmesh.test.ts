import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, compileFixture, tempDir, writeStage } from './support';

// `canarykit compile` of Flagger Canaries with `provider: appmesh:v1beta2` (Flagger's App Mesh
// tutorial, pkg/router/appmesh_v1beta2.go) and `provider: appmesh` (pkg/router/appmesh.go), written
// as our own fixtures under test/fixtures/flagger/{appmesh,ab-appmesh}.

const execFileAsync = promisify(execFile);
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const targets = (canary: number, primary: number) => [
  { virtualNodeRef: { name: 'podinfo-canary' }, weight: canary },
  { virtualNodeRef: { name: 'podinfo-primary' }, weight: primary },
];
const perRequest = { unit: 'ms', value: 15000 };
const retryPolicy = { httpRetryEvents: ['gateway-error', 'client-error', 'stream-error'], maxRetries: 3, perRetryTimeout: { unit: 'ms', value: 5000 } };
const route = (name: string, canary: number, primary: number) => ({ name, httpRoute: { match: { prefix: '/' }, timeout: { perRequest }, retryPolicy, action: { weightedTargets: targets(canary, primary) } } });

/** Every manifest of every folder under every validator (App Mesh kinds against their CRDs). */
function problems(out: Output): string[] {
  const found: string[] = [];
  for (const dir of out.dirs) {
    for (const file of out.files(dir)) {
      if (file === 'canary.plan.json' || file === 'kustomization.yaml') continue;
      found.push(...manifestProblems(parse(out.text(dir, file))).map((x) => `${dir}/${file}: ${x}`));
    }
  }
  return found;
}

/** Writes each compiled folder to disk and runs `kubectl kustomize` on it. */
async function kustomizeAll(out: Output): Promise<Map<string, string>> {
  const root = tempDir('canarykit-appmesh-kustomize-');
  const built = new Map<string, string>();
  try {
    for (const dir of out.dirs) {
      const target = path.join(root, dir);
      fs.mkdirSync(target, { recursive: true });
      for (const file of out.files(dir)) fs.writeFileSync(path.join(target, file), out.text(dir, file));
      built.set(dir, (await execFileAsync('kubectl', ['kustomize', target], { encoding: 'utf8' })).stdout);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return built;
}

function refusal(fixture: string, file: string, from: string, to: string): string {
  const dir = tempDir('canarykit-appmesh-bad-');
  try {
    const text = fs.readFileSync(path.join(FIXTURES, fixture, file), 'utf8');
    expect(text).toContain(from);
    fs.writeFileSync(path.join(dir, file), text.replace(from, to));
    try {
      compileFiles([dir], { stateDir });
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as ValidationError).message;
    }
    throw new Error('expected a ValidationError');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('compile: podinfo on App Mesh v1beta2 (App Mesh tutorial)', () => {
  it('bootstrap: VirtualNodes, VirtualRouters and VirtualServices as reconcileVirtualNode / reconcileVirtualRouter create them', () => {
    const out = compileFixture('appmesh', stateDir);
    expect(out.files('test/podinfo').sort()).toEqual([
      'canary.plan.json', 'deployment-podinfo-primary.yaml', 'deployment-podinfo.yaml', 'horizontalpodautoscaler-podinfo-primary.yaml',
      'horizontalpodautoscaler-podinfo.yaml', 'kustomization.yaml', 'service-podinfo-canary.yaml', 'service-podinfo-primary.yaml', 'service-podinfo.yaml',
      'virtualnode-podinfo-canary.yaml', 'virtualnode-podinfo-primary.yaml', 'virtualrouter-podinfo-canary.yaml', 'virtualrouter-podinfo.yaml',
      'virtualservice-podinfo-canary.yaml', 'virtualservice-podinfo.yaml',
    ]);
    const listeners = [{ portMapping: { port: 9898, protocol: 'http' }, timeout: { http: { perRequest } } }];
    const backends = [
      { virtualService: { virtualServiceRef: { name: 'backend1' } } },
      { virtualService: { virtualServiceARN: 'arn:aws:appmesh:eu-west-1:12345678910:mesh/my-mesh/virtualService/backend2' } },
    ];
    const logging = { accessLog: { file: { path: '/dev/stdout' } } };
    expect(out.obj('test/podinfo', 'virtualnode-podinfo-primary')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualNode',
      metadata: { name: 'podinfo-primary', namespace: 'test' },
      spec: { podSelector: { matchLabels: { app: 'podinfo-primary' } }, listeners, serviceDiscovery: { dns: { hostname: 'podinfo-primary.test.svc.cluster.local.' } }, backends, logging },
    });
    expect(out.obj('test/podinfo', 'virtualnode-podinfo-canary').spec).toEqual({
      podSelector: { matchLabels: { app: 'podinfo' } }, listeners, serviceDiscovery: { dns: { hostname: 'podinfo-canary.test.svc.cluster.local.' } }, backends, logging,
    });
    expect(out.obj('test/podinfo', 'virtualrouter-podinfo')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualRouter',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { listeners: [{ portMapping: { port: 9898, protocol: 'http' } }], routes: [route('podinfo', 0, 100)] },
    });
    expect(out.obj('test/podinfo', 'virtualrouter-podinfo-canary').spec.routes).toEqual([route('podinfo-canary', 100, 0)]);
    expect(out.obj('test/podinfo', 'virtualservice-podinfo')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualService',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { provider: { virtualRouter: { virtualRouterRef: { name: 'podinfo' } } } },
    });
    const plan = out.plan('test/podinfo');
    expect(plan).toMatchObject({ provider: 'appmeshv1beta2', strategy: 'canary', routing: { flaggerName: 'appmesh:v1beta2', shiftsWeights: true, promotionSteps: true } });
    const [success, duration] = plan.metrics;
    expect(success).toMatchObject({ name: 'request-success-rate', builtin: true });
    expect(success.query).toContain('envoy_cluster_upstream_rq{');
    expect(success.query).toContain('kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"');
    expect(duration.query).toContain('envoy_cluster_upstream_rq_time_bucket{');
    expect(duration.query).not.toContain('1000');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, 100, 0],
    ['Progressing at 5', { phase: 'Progressing', canaryWeight: 5 }, 95, 5],
    ['WaitingPromotion at 50', { phase: 'WaitingPromotion', canaryWeight: 50 }, 50, 50],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, 50, 50],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 100, 0],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, 100, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, 100, 0],
  ] as const)('%s: SetRoutes weights on VirtualRouter podinfo, every object valid, the folder builds with kustomize', async (_label, patch, primary, canary) => {
    writeStage(stateDir, compileFixture('appmesh', stateDir).plan('test/podinfo'), patch);
    const out = compileFixture('appmesh', stateDir);
    expect(out.obj('test/podinfo', 'virtualrouter-podinfo').spec.routes).toEqual([route('podinfo', canary, primary)]);
    expect(out.obj('test/podinfo', 'virtualrouter-podinfo-canary').spec.routes).toEqual([route('podinfo-canary', 100, 0)]);
    expect(problems(out)).toEqual([]);
    const built = await kustomizeAll(out);
    expect(built.get('test/podinfo')).toContain('kind: VirtualRouter');
  });

  it.each([
    ['the tutorial\'s rewrite', '    match:\n', '    rewrite:\n      uri: /\n    match:\n', 'spec.service.rewrite: is only used with provider istio', 'not appmesh:v1beta2 (Flagger ignores it)'],
    ['meshName', '    port: 9898\n', '    port: 9898\n    meshName: global\n', 'spec.service.meshName: is only used with provider appmesh, not appmesh:v1beta2', 'remove it'],
    ['a header in service.match', '          prefix: /\n', '          prefix: /\n        headers:\n          x-env:\n            exact: prod\n', 'spec.service.match[0].headers', 'is ignored by provider appmesh:v1beta2'],
    ['an unknown retry event', 'retryOn: "gateway-error,client-error,stream-error"', 'retryOn: "5xx"', 'spec.service.retries.retryOn: "5xx" is not an App Mesh HTTP retry event', 'server-error'],
    ['mirroring', '    stepWeight: 5\n', '    stepWeight: 5\n    mirror: true\n', 'spec.analysis.mirror: provider appmesh:v1beta2 cannot mirror traffic', 'istio'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const text = refusal('appmesh', 'podinfo.yaml', from, to);
    expect(text).toContain(where);
    expect(text).toContain(message);
  });
});

describe('compile: A/B testing on App Mesh v1beta1 (provider: appmesh)', () => {
  const v1Targets = (canary: number, primary: number) => [
    { virtualNodeName: 'abtest-canary', weight: canary },
    { virtualNodeName: 'abtest-primary', weight: primary },
  ];
  const retry = { perRetryTimeoutMillis: 250, maxRetries: 2, httpRetryEvents: ['gateway-error'] };
  const headers = [{ name: 'x-canary', match: { exact: 'insider' } }, { name: 'cookie', match: { regex: '^(.*?;)?(canary=insider)(;.*)?$' } }];
  const abRoutes = (canary: number) => [
    { name: 'abtest-a', priority: 10, http: { match: { prefix: '/api', headers }, retryPolicy: retry, action: { weightedTargets: v1Targets(canary, 100 - canary) } } },
    { name: 'abtest-b', priority: 20, http: { match: { prefix: '/api' }, retryPolicy: retry, action: { weightedTargets: [{ virtualNodeName: 'abtest-primary', weight: 100 }] } } },
  ];

  it('bootstrap: three VirtualNodes, VirtualService abtest.test with the header route and the gateway annotations, abtest-canary.test', () => {
    const out = compileFixture('ab-appmesh', stateDir);
    expect(out.plan('test/abtest')).toMatchObject({ provider: 'appmesh', strategy: 'ab-testing', routing: { flaggerName: 'appmesh' } });
    const listener = { portMapping: { port: 9898, protocol: 'http' } };
    expect(out.obj('test/abtest', 'virtualservice-abtest.test')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta1',
      kind: 'VirtualService',
      metadata: {
        name: 'abtest.test',
        namespace: 'test',
        annotations: {
          'gateway.appmesh.k8s.aws/expose': 'true',
          'gateway.appmesh.k8s.aws/domain': 'app.example.com,',
          // Flagger copies service.timeout as written.
          'gateway.appmesh.k8s.aws/timeout': '1m',
          'gateway.appmesh.k8s.aws/retries': '2',
        },
      },
      spec: { meshName: 'global', virtualRouter: { name: 'abtest', listeners: [listener] }, routes: abRoutes(0) },
    });
    expect(out.obj('test/abtest', 'virtualservice-abtest-canary.test')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'abtest-canary.test', namespace: 'test' },
      spec: {
        meshName: 'global',
        virtualRouter: { name: 'abtest-canary', listeners: [listener] },
        routes: [{ name: 'abtest-canary', http: { match: { prefix: '/api' }, retryPolicy: retry, action: { weightedTargets: v1Targets(100, 0) } } }],
      },
    });
    for (const [name, hostName] of [['abtest', 'abtest-primary.test'], ['abtest-primary', 'abtest-primary.test'], ['abtest-canary', 'abtest-canary.test']]) {
      expect(out.obj('test/abtest', `virtualnode-${name}`)).toEqual({
        apiVersion: 'appmesh.k8s.aws/v1beta1',
        kind: 'VirtualNode',
        metadata: { name, namespace: 'test' },
        spec: { meshName: 'global', listeners: [listener], serviceDiscovery: { dns: { hostName } }, backends: [{ virtualService: { virtualServiceName: 'backend1.test' } }] },
      });
    }
    expect(problems(out)).toEqual([]);
  });

  it.each([
    ['Progressing, iteration 3', { phase: 'Progressing', canaryWeight: 100, iterations: 3 }, 100],
    ['Promoting', { phase: 'Promoting', canaryWeight: 100 }, 100],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, 0],
  ] as const)('%s: the header route carries the staged weights; the folder builds with kustomize', async (_label, patch, canary) => {
    writeStage(stateDir, compileFixture('ab-appmesh', stateDir).plan('test/abtest'), patch);
    const out = compileFixture('ab-appmesh', stateDir);
    expect(out.obj('test/abtest', 'virtualservice-abtest.test').spec.routes).toEqual(abRoutes(canary));
    expect(problems(out)).toEqual([]);
    expect((await kustomizeAll(out)).get('test/abtest')).toContain('name: abtest.test');
  });

  it.each([
    ['no meshName', '    meshName: global\n', '', 'spec.service.meshName: is required for App Mesh v1beta1', 'empty service.meshName'],
    ['a timeout without hosts', '    hosts:\n      - app.example.com\n', '', 'spec.service.timeout: is only written as the App Mesh gateway annotation on v1beta1', 'set hosts'],
    ['a query parameter A/B match', '      - headers:\n          x-canary:\n', '      - queryParams:\n          beta:\n            exact: "1"\n        headers:\n          x-canary:\n', 'spec.analysis.match[0]: provider appmesh matches headers only', 'remove queryParams'],
    ['a relative path prefix', 'prefix: /api', 'prefix: api', 'spec.service.match[0].uri.prefix: must start with "/"', '(got "api")'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const text = refusal('ab-appmesh', 'abtest.yaml', from, to);
    expect(text).toContain(where);
    expect(text).toContain(message);
  });
});
