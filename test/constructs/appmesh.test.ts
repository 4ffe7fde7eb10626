import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { Duration } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { CanaryServiceOptions } from '../../src/constructs/service-options';
import { CanaryState } from '../../src/model/state';
import { AppMeshOptions } from '../../src/providers/appmesh';
import { fixture, phaseCases, removeTempDirs, render, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems } from './manifest-validator';

// Flagger pkg/router/appmesh_v1beta2.go (AppMeshv1beta2Router: Reconcile, reconcileVirtualNode,
// reconcileVirtualRouter, SetRoutes) and pkg/router/appmesh.go (AppMeshRouter, v1beta1) rendered
// per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

interface Opts {
  appMesh?: AppMeshOptions;
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  service?: Partial<CanaryServiceOptions>;
  podinfo?: { matchLabels?: Record<string, string> };
}
const renderAppMesh = (o: Opts = {}): RenderedFolder =>
  render({
    canary: { provider: Provider.appMesh(o.appMesh) },
    analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    service: o.service,
    podinfo: o.podinfo,
  });

const v2Targets = (canary: number, primary: number) => [
  { virtualNodeRef: { name: 'podinfo-canary' }, weight: canary },
  { virtualNodeRef: { name: 'podinfo-primary' }, weight: primary },
];
const v1Targets = (canary: number, primary: number) => [
  { virtualNodeName: 'podinfo-canary', weight: canary },
  { virtualNodeName: 'podinfo-primary', weight: primary },
];
const listener = { portMapping: { port: 9898, protocol: 'http' } };

function problems(f: RenderedFolder): string[] {
  return f.objects.flatMap(manifestProblems);
}

function refusal(render: () => unknown): string {
  try {
    render();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

describe('App Mesh v1beta2 across the phases of a run (appmesh_v1beta2.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderAppMesh({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
      'VirtualNode/podinfo-canary', 'VirtualNode/podinfo-primary', 'VirtualRouter/podinfo', 'VirtualRouter/podinfo-canary',
      'VirtualService/podinfo', 'VirtualService/podinfo-canary',
    ]);
    expect(f.get('VirtualRouter', 'podinfo')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualRouter',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { listeners: [listener], routes: [{ name: 'podinfo', httpRoute: { match: { prefix: '/' }, action: { weightedTargets: v2Targets(c.canaryWeight, c.primaryWeight) } } }] },
    });
    // reconcileVirtualRouter(canaryName, 100): the canary router sends everything to the canary, at every phase.
    expect(f.get('VirtualRouter', 'podinfo-canary').spec.routes).toEqual([
      { name: 'podinfo-canary', httpRoute: { match: { prefix: '/' }, action: { weightedTargets: v2Targets(100, 0) } } },
    ]);
    expect(f.get('VirtualService', 'podinfo')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualService',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { provider: { virtualRouter: { virtualRouterRef: { name: 'podinfo' } } } },
    });
    expect(f.get('VirtualService', 'podinfo-canary').spec).toEqual({ provider: { virtualRouter: { virtualRouterRef: { name: 'podinfo-canary' } } } });
    expect(f.get('VirtualNode', 'podinfo-primary')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualNode',
      metadata: { name: 'podinfo-primary', namespace: 'test' },
      spec: {
        podSelector: { matchLabels: { app: 'podinfo-primary' } },
        listeners: [listener],
        serviceDiscovery: { dns: { hostname: 'podinfo-primary.test.svc.cluster.local.' } },
      },
    });
    expect(f.get('VirtualNode', 'podinfo-canary').spec).toEqual({
      podSelector: { matchLabels: { app: 'podinfo' } },
      listeners: [listener],
      serviceDiscovery: { dns: { hostname: 'podinfo-canary.test.svc.cluster.local.' } },
    });
    expect(problems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'appmesh:v1beta2', shiftsWeights: true, promotionSteps: true });
    expect(f.plan?.provider).toBe('appmeshv1beta2');
  });

  it('Promoting with stepWeightPromotion: the committed step weight (40/60)', () => {
    const f = renderAppMesh({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 40 }, state: stage('Promoting', { canaryWeight: 60 }) });
    expect(f.get('VirtualRouter', 'podinfo').spec.routes[0].httpRoute.action.weightedTargets).toEqual(v2Targets(60, 40));
  });

  it('blue/green: the canary at 100 during the iterations', () => {
    const f = renderAppMesh({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('VirtualRouter', 'podinfo').spec.routes[0].httpRoute.action.weightedTargets).toEqual(v2Targets(100, 0));
    expect(problems(f)).toEqual([]);
  });

  it('A/B: route <svc>-a (priority 10, headers sorted by name) takes the staged weights, <svc>-b (priority 20) stays on the primary', () => {
    const analysis = { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' }, cookie: { regex: '^(.*?;)?(canary=insider)(;.*)?$' } } }] };
    for (const [state, canary] of [[undefined, 0], [stage('Progressing', { canaryWeight: 100, iterations: 2 }), 100]] as const) {
      const f = renderAppMesh({ analysis, state });
      expect(f.plan?.strategy).toBe('ab-testing');
      expect(f.get('VirtualRouter', 'podinfo').spec.routes).toEqual([
        {
          name: 'podinfo-a',
          priority: 10,
          httpRoute: {
            match: { prefix: '/', headers: [{ name: 'cookie', match: { regex: '^(.*?;)?(canary=insider)(;.*)?$' } }, { name: 'x-canary', match: { exact: 'insider' } }] },
            action: { weightedTargets: v2Targets(canary, 100 - canary) },
          },
        },
        { name: 'podinfo-b', priority: 20, httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNodeRef: { name: 'podinfo-primary' }, weight: 100 }] } } },
      ]);
      // The canary router has no A/B routes (Flagger's A/B branch needs canaryWeight 0).
      expect(f.get('VirtualRouter', 'podinfo-canary').spec.routes.map((r: { name: string }) => r.name)).toEqual(['podinfo-canary']);
      expect(problems(f)).toEqual([]);
    }
  });

  it('options: prefix, timeout, retries, backends (name and ARN), access log, gateway hosts; gRPC port name; numeric targetPort', () => {
    const f = renderAppMesh({
      appMesh: {
        pathPrefix: '/api',
        timeout: Duration.seconds(15),
        retries: { attempts: 3, perTryTimeout: Duration.seconds(5), retryOn: 'gateway-error,client-error' },
        backends: ['backend1', 'arn:aws:appmesh:eu-west-1:12345678910:mesh/my-mesh/virtualService/backend2'],
        accessLog: true,
        hosts: ['app.example.com', 'www.example.com'],
      },
      service: { port: 80, targetPort: 9898, portName: 'grpc-web' },
      podinfo: { matchLabels: { 'app.kubernetes.io/name': 'podinfo' } },
    });
    const perRequest = { unit: 'ms', value: 15000 };
    const retryPolicy = { httpRetryEvents: ['gateway-error', 'client-error'], maxRetries: 3, perRetryTimeout: { unit: 'ms', value: 5000 } };
    expect(f.get('VirtualNode', 'podinfo-primary').spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'podinfo-primary' } },
      listeners: [{ portMapping: { port: 9898, protocol: 'grpc' }, timeout: { http: { perRequest } } }],
      serviceDiscovery: { dns: { hostname: 'podinfo-primary.test.svc.cluster.local.' } },
      backends: [
        { virtualService: { virtualServiceRef: { name: 'backend1' } } },
        { virtualService: { virtualServiceARN: 'arn:aws:appmesh:eu-west-1:12345678910:mesh/my-mesh/virtualService/backend2' } },
      ],
      logging: { accessLog: { file: { path: '/dev/stdout' } } },
    });
    expect(f.get('VirtualRouter', 'podinfo').spec).toEqual({
      listeners: [{ portMapping: { port: 9898, protocol: 'grpc' } }],
      routes: [{ name: 'podinfo', httpRoute: { match: { prefix: '/api' }, timeout: { perRequest }, retryPolicy, action: { weightedTargets: v2Targets(0, 100) } } }],
    });
    expect(f.get('VirtualService', 'podinfo').metadata.annotations).toEqual({
      'gateway.appmesh.k8s.aws/expose': 'true',
      'gateway.appmesh.k8s.aws/domain': 'app.example.com,www.example.com,',
      'gateway.appmesh.k8s.aws/timeout': '15s',
      'gateway.appmesh.k8s.aws/retries': '3',
    });
    expect(f.get('VirtualService', 'podinfo-canary').metadata.annotations).toBeUndefined();
    expect(problems(f)).toEqual([]);
  });

  it('retries without values: one retry on gateway-error after 250ms (makeRetryPolicy defaults), no retries annotation', () => {
    const f = renderAppMesh({ appMesh: { retries: {}, hosts: ['app.example.com'] } });
    expect(f.get('VirtualRouter', 'podinfo').spec.routes[0].httpRoute.retryPolicy).toEqual({ httpRetryEvents: ['gateway-error'], maxRetries: 1, perRetryTimeout: { unit: 'ms', value: 250 } });
    expect(f.get('VirtualService', 'podinfo').metadata.annotations).toEqual({ 'gateway.appmesh.k8s.aws/expose': 'true', 'gateway.appmesh.k8s.aws/domain': 'app.example.com,' });
  });

  it('apex labels and annotations go on the VirtualNodes only (reconcileVirtualNode)', () => {
    const f = renderAppMesh({ service: { apex: { labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } } } });
    for (const n of ['podinfo-primary', 'podinfo-canary']) {
      expect(f.get('VirtualNode', n).metadata).toEqual({ name: n, namespace: 'test', labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } });
    }
    expect(f.get('VirtualRouter', 'podinfo').metadata).toEqual({ name: 'podinfo', namespace: 'test' });
    expect(f.get('VirtualService', 'podinfo').metadata).toEqual({ name: 'podinfo', namespace: 'test' });
  });

  it.each([
    ['mirror', {}, { stepWeight: 10, maxWeight: 50, mirror: true }, 'analysis.mirror', 'provider appmesh:v1beta2 cannot mirror traffic'],
    ['session affinity', {}, { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } }, 'analysis.sessionAffinity', 'provider appmesh:v1beta2 has no session affinity'],
    ['a URI match', {}, { iterations: 5, match: [{ uri: { prefix: '/x' } }] }, 'analysis.match[0]', 'matches headers only'],
    ['an empty header match', {}, { iterations: 5, match: [{ headers: { 'x-canary': {} } }] }, 'analysis.match[0].headers.x-canary', 'needs a non-empty exact, prefix or regex'],
    ['meshName on v1beta2', { meshName: 'global' }, undefined, 'provider.appmesh.meshName', 'is only used by App Mesh v1beta1'],
    ['an unknown retry event', { retries: { retryOn: '5xx' } }, undefined, 'provider.appmesh.retries.retryOn', '"5xx" is not an App Mesh HTTP retry event'],
    ['a relative path prefix', { pathPrefix: 'api' }, undefined, 'provider.appmesh.pathPrefix', 'must start with "/"'],
  ] as const)('%s is refused at synth time', (_label, appMesh, analysis, where, message) => {
    const text = refusal(() => renderAppMesh({ appMesh: appMesh as AppMeshOptions, analysis: analysis as CanaryAnalysisOptions | undefined }));
    expect(text).toContain(where);
    expect(text).toContain(message);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    const out = tempDir('canarykit-appmesh-kustomize-');
    for (const [i, state] of [undefined, stage('Progressing', { canaryWeight: 30 })].entries()) {
      fixture({ canary: { provider: Provider.appMesh() }, analysis: { stepWeight: 10, maxWeight: 50 }, state }, path.join(out, String(i))).app.synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built).toContain('kind: VirtualRouter');
      expect(built.split(/^---$/m).length).toBe(fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
    }
  });
});

describe('App Mesh v1beta1 across the phases of a run (appmesh.go Reconcile / SetRoutes)', () => {
  const v1 = (o: Opts = {}) => renderAppMesh({ ...o, appMesh: { apiVersion: 'v1beta1', meshName: 'global', ...o.appMesh } });

  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = v1({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
      'VirtualNode/podinfo', 'VirtualNode/podinfo-canary', 'VirtualNode/podinfo-primary', 'VirtualService/podinfo-canary.test', 'VirtualService/podinfo.test',
    ]);
    expect(f.get('VirtualService', 'podinfo.test')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'podinfo.test', namespace: 'test' },
      spec: {
        meshName: 'global',
        virtualRouter: { name: 'podinfo', listeners: [listener] },
        routes: [{ name: 'podinfo', http: { match: { prefix: '/' }, action: { weightedTargets: v1Targets(c.canaryWeight, c.primaryWeight) } } }],
      },
    });
    expect(f.get('VirtualService', 'podinfo-canary.test').spec).toEqual({
      meshName: 'global',
      virtualRouter: { name: 'podinfo-canary', listeners: [listener] },
      routes: [{ name: 'podinfo-canary', http: { match: { prefix: '/' }, action: { weightedTargets: v1Targets(100, 0) } } }],
    });
    // The apex node resolves to the primary's DNS name (reconcileVirtualNode(apexName, primaryHost)).
    for (const [name, host] of [['podinfo', 'podinfo-primary.test'], ['podinfo-primary', 'podinfo-primary.test'], ['podinfo-canary', 'podinfo-canary.test']]) {
      expect(f.get('VirtualNode', name)).toEqual({
        apiVersion: 'appmesh.k8s.aws/v1beta1',
        kind: 'VirtualNode',
        metadata: { name, namespace: 'test' },
        spec: { meshName: 'global', listeners: [listener], serviceDiscovery: { dns: { hostName: host } } },
      });
    }
    expect(problems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'appmesh', shiftsWeights: true, promotionSteps: true });
  });

  it('A/B, retries, backends, access log and gateway hosts', () => {
    const f = v1({
      appMesh: { hosts: ['app.example.com'], timeout: Duration.minutes(1), retries: { attempts: 2, retryOn: 'server-error' }, backends: ['backend1'], accessLog: true },
      analysis: { iterations: 10, match: [{ headers: { 'x-canary': { prefix: 'ins' } } }] },
      state: stage('Progressing', { canaryWeight: 100, iterations: 1 }),
    });
    const retryPolicy = { perRetryTimeoutMillis: 250, maxRetries: 2, httpRetryEvents: ['server-error'] };
    expect(f.get('VirtualService', 'podinfo.test').spec.routes).toEqual([
      { name: 'podinfo-a', priority: 10, http: { match: { prefix: '/', headers: [{ name: 'x-canary', match: { prefix: 'ins' } }] }, retryPolicy, action: { weightedTargets: v1Targets(100, 0) } } },
      { name: 'podinfo-b', priority: 20, http: { match: { prefix: '/' }, retryPolicy, action: { weightedTargets: [{ virtualNodeName: 'podinfo-primary', weight: 100 }] } } },
    ]);
    expect(f.get('VirtualService', 'podinfo.test').metadata.annotations).toEqual({
      'gateway.appmesh.k8s.aws/expose': 'true',
      'gateway.appmesh.k8s.aws/domain': 'app.example.com,',
      'gateway.appmesh.k8s.aws/timeout': '60s',
      'gateway.appmesh.k8s.aws/retries': '2',
    });
    expect(f.get('VirtualNode', 'podinfo').spec).toMatchObject({
      backends: [{ virtualService: { virtualServiceName: 'backend1' } }],
      logging: { accessLog: { file: { path: '/dev/stdout' } } },
    });
    expect(problems(f)).toEqual([]);
  });

  it.each([
    ['no meshName', { meshName: undefined }, 'provider.appmesh.meshName', 'is required for App Mesh v1beta1'],
    ['a timeout without hosts', { timeout: Duration.seconds(5) }, 'provider.appmesh.timeout', 'needs hosts'],
  ] as const)('%s is refused at synth time', (_label, appMesh, where, message) => {
    const text = refusal(() => v1({ appMesh: appMesh as AppMeshOptions }));
    expect(text).toContain(where);
    expect(text).toContain(message);
  });

  it('an unknown apiVersion is refused', () => {
    expect(() => Provider.appMesh({ apiVersion: 'v1' as never })).toThrow(/must be v1beta1 or v1beta2/);
  });
});
