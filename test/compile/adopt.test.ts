import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, compileFixture, tempDir, writeStage } from './support';

// Issue 11: objects the user already has with the identity of a generated one are taken over the
// way Flagger takes them over (pkg/router/kubernetes_default.go reconcileService for Services; each
// router's Reconcile for its routing objects), in the canary's folder, never a second copy.

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
let stateDir: string;
let work: string;
beforeEach(() => {
  stateDir = tempDir();
  work = tempDir('canarykit-adopt-');
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** A fixture folder copied to a temporary one, with `extra` (YAML documents) added as extra.yaml and `edit` applied to each file. */
function variant(fixture: string, extra: string, edit: (text: string) => string = (t) => t): string {
  const dir = path.join(work, fixture);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(path.join(FIXTURES, fixture))) fs.writeFileSync(path.join(dir, f), edit(fs.readFileSync(path.join(FIXTURES, fixture, f), 'utf8')));
  if (extra) fs.writeFileSync(path.join(dir, 'extra.yaml'), extra);
  return dir;
}

const compileDir = (dir: string, meshProvider?: string): Output => new Output(compileFiles([dir], { stateDir, controller: meshProvider ? { meshProvider } : undefined }));

function compileError(dir: string): string {
  try {
    compileFiles([dir], { stateDir });
  } catch (e) {
    if (e instanceof ValidationError) return e.message;
    throw e;
  }
  throw new Error('compile succeeded');
}

const cookie = { headers: { cookie: { regex: '^(.*?;)?(type=insider)(;.*)?$' } } };

describe('compile: the Service and VirtualService of Flagger\'s Istio e2e (test/istio/test-canary.sh) are taken over', () => {
  it('bootstrap: one folder; the apex Service keeps the user\'s metadata and type and gets the Canary\'s selector and ports (reconcileService)', () => {
    const out = compileFixture('adopt-istio', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.compiled.passthrough).toBe(0);
    expect(out.obj(DIR, 'service-podinfo')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { labels: { app: 'podinfo' }, name: 'podinfo', namespace: 'test' },
      spec: {
        type: 'ClusterIP',
        // Overwritten: the primary pods, and the Canary's port plus the discovered ones.
        selector: { app: 'podinfo-primary' },
        ports: [
          { name: 'http-podinfo', port: 80, protocol: 'TCP', targetPort: 'http' },
          { name: 'http-metrics', port: 9797, protocol: 'TCP', targetPort: 9797 },
          { name: 'grpc', port: 9999, protocol: 'TCP', targetPort: 9999 },
        ],
      },
    });
    // The VirtualService is the generated one (istio.go reconcileVirtualService replaces the spec).
    expect(out.obj(DIR, 'virtualservice-podinfo')).toEqual({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: {
        gateways: ['mesh'],
        hosts: ['podinfo'],
        http: [
          { match: [cookie], route: [{ destination: { host: 'podinfo-primary' }, weight: 100 }, { destination: { host: 'podinfo-canary' }, weight: 0 }] },
          { route: [{ destination: { host: 'podinfo-primary' }, weight: 100 }] },
        ],
      },
    });
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, 0],
    ['Progressing', { phase: 'Progressing', canaryWeight: 100, iterations: 2 }, 100],
    ['Promoting', { phase: 'Promoting', canaryWeight: 0 }, 0],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 0],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, 0],
  ] as const)('%s: the taken-over objects in the canary folder only, valid, and the folder builds with kustomize', async (_label, patch, canaryWeight) => {
    writeStage(stateDir, compileFixture('adopt-istio', stateDir).plan(DIR), patch as any);
    const out = compileFixture('adopt-istio', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.obj(DIR, 'service-podinfo').spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(out.obj(DIR, 'service-podinfo-canary').spec.selector).toEqual({ app: 'podinfo' });
    const vs = out.obj(DIR, 'virtualservice-podinfo');
    expect(vs.spec.hosts).toEqual(['podinfo']);
    expect(vs.spec.http[0].route.map((r: any) => r.weight)).toEqual([100 - canaryWeight, canaryWeight]);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
      const obj = parse(out.text(DIR, file));
      problems.push(...(obj.apiVersion.startsWith('networking.istio.io/') ? strictSchemaProblems(obj) : manifestProblems(obj)));
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-adopt-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      const built = (await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout;
      expect(built.match(/^kind: VirtualService$/gm)).toHaveLength(1);
      expect(built.match(/^kind: Service$/gm)).toHaveLength(3);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('kept: type, nodePorts of same-named ports, other spec fields, labels, annotations; overwritten: selector, ports; service.apex metadata is not applied', () => {
    const dir = variant('adopt-istio', '', (t) =>
      t
        .replace('    portName: http-podinfo\n', '    portName: http-podinfo\n    apex:\n      labels:\n        flagger-apex: "yes"\n')
        .replace(
          /kind: Service\nmetadata:\n  labels:\n    app: podinfo\n  name: podinfo\n  namespace: test\nspec:[\s\S]*?---/,
          [
            'kind: Service',
            'metadata:',
            '  labels: {app: podinfo, team: web}',
            '  annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}',
            '  name: podinfo',
            '  namespace: test',
            'spec:',
            '  type: NodePort',
            '  externalTrafficPolicy: Local',
            '  sessionAffinity: ClientIP',
            '  ports:',
            '    - {name: http-podinfo, port: 9898, targetPort: http, nodePort: 30080}',
            '    - {name: admin, port: 9000, nodePort: 30090}',
            '  selector: {app: podinfo}',
            '---',
          ].join('\n'),
        ),
    );
    const out = compileDir(dir);
    expect(out.compiled.warnings).toEqual([expect.stringMatching(/existing\.yaml#1 Service test\/podinfo is taken over by Canary test\/podinfo, which sets only its selector and ports.*spec\.service\.apex labels and annotations are not applied/)]);
    const svc = out.obj(DIR, 'service-podinfo');
    expect(svc.metadata).toEqual({ labels: { app: 'podinfo', team: 'web' }, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }, name: 'podinfo', namespace: 'test' });
    expect(svc.spec).toEqual({
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      selector: { app: 'podinfo-primary' },
      // The admin port is dropped (not the Canary's); http-podinfo keeps its nodePort.
      ports: [
        { name: 'http-podinfo', port: 80, protocol: 'TCP', targetPort: 'http', nodePort: 30080 },
        { name: 'http-metrics', port: 9797, protocol: 'TCP', targetPort: 9797 },
        { name: 'grpc', port: 9999, protocol: 'TCP', targetPort: 9999 },
      ],
    });
  });

  it('a Service Flagger created (its controller is this Canary) gets the Canary\'s labels and annotations', () => {
    const owned = ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: podinfo-canary', '  namespace: test', '  labels: {old: label}', '  annotations: {old: annotation}',
      '  ownerReferences:', '    - {apiVersion: flagger.app/v1beta1, kind: Canary, name: podinfo, uid: 00000000-0000-0000-0000-000000000001, controller: true, blockOwnerDeletion: true}',
      'spec:', '  ports: [{name: http, port: 1}]', ''].join('\n');
    const svc = compileDir(variant('adopt-istio', owned)).obj(DIR, 'service-podinfo-canary');
    expect(svc.metadata.labels).toEqual({ app: 'podinfo-canary' });
    expect(svc.metadata.annotations).toBeUndefined();
    expect(svc.metadata.ownerReferences).toHaveLength(1);
    expect(svc.spec.selector).toEqual({ app: 'podinfo' });
  });

  it('the VirtualService gets the apex metadata in place of the user\'s, keeping kubectl\'s last-applied-configuration; a DestinationRule keeps its metadata (istio.go)', () => {
    const dir = variant('adopt-istio', ['apiVersion: networking.istio.io/v1beta1', 'kind: DestinationRule', 'metadata:', '  name: podinfo-primary', '  namespace: test', '  labels: {team: web}', 'spec:', '  host: podinfo-primary', '  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}', ''].join('\n'), (t) =>
      t
        .replace('    portName: http-podinfo\n', '    portName: http-podinfo\n    apex:\n      annotations:\n        test: annotations-test\n')
        .replace('kind: VirtualService\nmetadata:\n', 'kind: VirtualService\nmetadata:\n  labels: {team: web}\n  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}", note: mine}\n'),
    );
    const out = compileDir(dir);
    expect(out.obj(DIR, 'virtualservice-podinfo').metadata).toEqual({ name: 'podinfo', namespace: 'test', annotations: { test: 'annotations-test', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } });
    expect(out.obj(DIR, 'destinationrule-podinfo-primary')).toEqual({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'podinfo-primary', namespace: 'test', labels: { team: 'web' } },
      spec: { host: 'podinfo-primary' },
    });
  });

  it('without the existing objects the output is what it was before (the generated objects only)', () => {
    const dir = path.join(work, 'plain');
    fs.mkdirSync(dir);
    for (const f of ['deployment.yaml', 'canary.yaml']) fs.copyFileSync(path.join(FIXTURES, 'adopt-istio', f), path.join(dir, f));
    const plain = compileDir(dir);
    const adopted = compileFixture('adopt-istio', stateDir);
    expect(plain.files(DIR)).toEqual(adopted.files(DIR));
    expect(plain.obj(DIR, 'virtualservice-podinfo')).toEqual(adopted.obj(DIR, 'virtualservice-podinfo'));
    expect(plain.obj(DIR, 'service-podinfo').spec.selector).toEqual(adopted.obj(DIR, 'service-podinfo').spec.selector);
  });
});

describe('compile: routing objects of other providers are taken over as their Flagger routers do', () => {
  it('nginx (ingress.go): the canary Ingress keeps the user\'s labels and own annotations, gets the spec and the canary annotations', () => {
    const existing = ['apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata:', '  name: podinfo-canary', '  namespace: test', '  labels: {team: web}',
      '  annotations: {mine: kept, nginx.ingress.kubernetes.io/canary-weight: "77", kubectl.kubernetes.io/last-applied-configuration: "{}"}', 'spec:', '  rules: []', ''].join('\n');
    const out = compileDir(variant('nginx', existing));
    expect(out.dirs).toEqual([DIR]);
    const ing = out.obj(DIR, 'ingress-podinfo-canary');
    expect(ing.metadata.labels).toEqual({ team: 'web' });
    expect(ing.metadata.annotations).toEqual({ mine: 'kept', 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '0' });
    expect(ing.spec.rules[0].http.paths[0].backend.service.name).toBe('podinfo-canary');
  });

  it('SMI (smi.go): the TrafficSplit keeps its metadata and gets the spec', () => {
    const existing = ['apiVersion: split.smi-spec.io/v1alpha1', 'kind: TrafficSplit', 'metadata:', '  name: podinfo', '  namespace: test', '  annotations: {mine: kept}', 'spec:', '  service: other', '  backends: []', ''].join('\n');
    const out = compileDir(variant('linkerd', existing));
    const ts = out.obj(DIR, 'trafficsplit-podinfo');
    expect(ts.metadata).toEqual({ name: 'podinfo', namespace: 'test', annotations: { mine: 'kept' } });
    expect(ts.spec.service).toBe('podinfo');
    expect(ts.spec.backends.map((b: any) => b.service).sort()).toEqual(['podinfo-canary', 'podinfo-primary']);
    expect(out.compiled.folders.find((f) => f.dir === '_unreferenced')?.files.has('trafficsplit-podinfo.yaml') ?? false).toBe(false);
  });

  it('Gateway API (gateway_api_v1beta1.go): the HTTPRoute gets the Canary\'s labels and keeps other controllers\' annotations', () => {
    const existing = ['apiVersion: gateway.networking.k8s.io/v1beta1', 'kind: HTTPRoute', 'metadata:', '  name: podinfo', '  namespace: test', '  labels: {team: web}',
      '  annotations: {application-networking.k8s.aws/lattice-assigned-domain-name: x.example}', 'spec:', '  hostnames: [old.example.com]', ''].join('\n');
    // Flagger's linkerd tutorial: -mesh-provider gatewayapi:v1beta1 (test/compile/gatewayapi-v1beta1.test.ts).
    const out = compileDir(variant('gatewayapi-v1beta1', existing), 'gatewayapi:v1beta1');
    const route = out.obj(DIR, 'httproute-podinfo');
    expect(route.metadata.labels).toBeUndefined();
    expect(route.metadata.annotations).toEqual({ 'application-networking.k8s.aws/lattice-assigned-domain-name': 'x.example' });
    expect(route.spec.hostnames).not.toEqual(['old.example.com']);
    expect(strictSchemaProblems(route)).toEqual([]);
  });

  it('Contour (contour.go): the HTTPProxy is replaced, metadata included; an older apiVersion of the same group is the same object', () => {
    const existing = ['apiVersion: projectcontour.io/v1', 'kind: HTTPProxy', 'metadata:', '  name: podinfo', '  namespace: test', '  labels: {team: web}', '  finalizers: [example.com/keep]', 'spec:', '  routes: []', ''].join('\n');
    const out = compileDir(variant('contour', existing));
    const proxy = out.obj(DIR, 'httpproxy-podinfo');
    expect(proxy.metadata).toEqual({ name: 'podinfo', namespace: 'test', finalizers: ['example.com/keep'] });
    expect(proxy.spec.routes[0].services.map((s: any) => s.name)).toEqual(['podinfo-primary', 'podinfo-canary']);
  });
});

describe('compile: Skipper and APISIX canary objects', () => {
  it('Skipper (skipper.go Reconcile): the canary Ingress gets spec and annotations, keeps its labels', () => {
    const existing = ['apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata:', '  name: podinfo-canary', '  namespace: test', '  labels: {team: web}', '  annotations: {mine: dropped}', 'spec:', '  rules: []', ''].join('\n');
    const out = compileDir(variant('skipper', existing));
    const ing = out.obj(DIR, 'ingress-podinfo-canary');
    expect(ing.metadata.labels).toEqual({ team: 'web' });
    expect(ing.metadata.annotations.mine).toBeUndefined();
    expect(ing.metadata.annotations['zalando.org/backend-weights']).toBeDefined();
    expect(ing.spec.rules.length).toBeGreaterThan(0);
  });

  it('APISIX (apisix.go Reconcile): the canary ApisixRoute gets the spec, keeps its metadata', () => {
    const existing = ['apiVersion: apisix.apache.org/v2', 'kind: ApisixRoute', 'metadata:', '  name: podinfo-podinfo-canary', '  namespace: test', '  labels: {team: web}', '  annotations: {mine: kept}', 'spec:', '  http: []', ''].join('\n');
    const out = compileDir(variant('apisix', existing));
    const route = out.obj(DIR, 'apisixroute-podinfo-podinfo-canary');
    expect(route.metadata).toEqual({ name: 'podinfo-podinfo-canary', namespace: 'test', labels: { team: 'web' }, annotations: { mine: 'kept' } });
    expect(route.spec.http[0].backends.map((b: any) => b.serviceName)).toEqual(['podinfo-primary', 'podinfo-canary']);
    expect(strictSchemaProblems(route)).toEqual([]);
  });
});

describe('compile: App Mesh and Gloo keep what their routers keep', () => {
  it('App Mesh v1beta2 (appmesh_v1beta2.go): a VirtualNode keeps awsName and meshRef; a VirtualRouter keeps its metadata; a VirtualService stays as written', () => {
    const existing = [
      ['apiVersion: appmesh.k8s.aws/v1beta2', 'kind: VirtualNode', 'metadata:', '  name: podinfo-primary', '  namespace: test', '  labels: {team: web}', 'spec:', '  awsName: podinfo-primary_test', '  meshRef: {name: global, uid: 00000000-0000-0000-0000-000000000002}'],
      ['apiVersion: appmesh.k8s.aws/v1beta2', 'kind: VirtualRouter', 'metadata:', '  name: podinfo', '  namespace: test', '  labels: {team: web}', 'spec:', '  awsName: podinfo_test', '  listeners: []', '  routes: []'],
      ['apiVersion: appmesh.k8s.aws/v1beta2', 'kind: VirtualService', 'metadata:', '  name: podinfo-canary', '  namespace: test', '  annotations: {mine: kept}', 'spec:', '  awsName: podinfo-canary.test', '  provider: {virtualRouter: {virtualRouterRef: {name: podinfo-canary}}}'],
    ].map((l) => l.join('\n')).join('\n---\n');
    const out = compileDir(variant('appmesh', `${existing}\n`));
    const node = out.obj(DIR, 'virtualnode-podinfo-primary');
    expect(node.metadata.labels).toBeUndefined();
    expect(node.spec.awsName).toBe('podinfo-primary_test');
    expect(node.spec.meshRef).toEqual({ name: 'global', uid: '00000000-0000-0000-0000-000000000002' });
    expect(node.spec.serviceDiscovery).toBeDefined();
    const router = out.obj(DIR, 'virtualrouter-podinfo');
    expect(router.metadata.labels).toEqual({ team: 'web' });
    expect(router.spec.awsName).toBe('podinfo_test');
    expect(router.spec.routes.length).toBeGreaterThan(0);
    expect(out.obj(DIR, 'virtualservice-podinfo-canary')).toEqual({
      apiVersion: 'appmesh.k8s.aws/v1beta2',
      kind: 'VirtualService',
      metadata: { name: 'podinfo-canary', namespace: 'test', annotations: { mine: 'kept' } },
      spec: { awsName: 'podinfo-canary.test', provider: { virtualRouter: { virtualRouterRef: { name: 'podinfo-canary' } } } },
    });
  });

  it('Gloo (gloo.go): an existing Upstream is kept but for the config Upstream\'s loadBalancerConfig; the RouteTable is replaced', () => {
    const existing = ['apiVersion: gloo.solo.io/v1', 'kind: Upstream', 'metadata:', '  name: test-podinfo-primaryupstream-80', '  namespace: test', '  labels: {team: web}', 'spec:',
      '  kube: {serviceName: podinfo-primary, serviceNamespace: test, servicePort: 80}', '  connectionConfig: {maxRequestsPerConnection: 10}', ''].join('\n');
    const out = compileDir(variant('gloo', existing));
    expect(out.obj(DIR, 'upstream-test-podinfo-primaryupstream-80')).toEqual({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'test-podinfo-primaryupstream-80', namespace: 'test', labels: { team: 'web' } },
      spec: { kube: { serviceName: 'podinfo-primary', serviceNamespace: 'test', servicePort: 80 }, connectionConfig: { maxRequestsPerConnection: 10 }, loadBalancerConfig: { roundRobin: { slowStartConfig: { minWeightPercent: 5, slowStartWindow: '2m' } } } },
    });
  });
});

describe('compile: one object per group, kind, namespace and name across all output folders', () => {
  it('an input object with the identity of a generated Deployment fails, naming both writers', () => {
    const message = compileError(variant('adopt-istio', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo-primary\n  namespace: test\nspec: {}\n'));
    expect(message).toContain('extra.yaml#1 Deployment test/podinfo-primary: would be written to _unreferenced/ and also to test/podinfo/ (generated by the Canary)');
  });

  it('two canaries generating the same Service fail, naming both folders', () => {
    const second = fs.readFileSync(path.join(FIXTURES, 'adopt-istio', 'canary.yaml'), 'utf8')
      .replace('  name: podinfo\n  namespace: test\n', '  name: other\n  namespace: test\n')
      .replace('    portDiscovery: true\n', '    name: podinfo\n    portDiscovery: true\n')
      .replace('    name: podinfo\n  progressDeadlineSeconds', '    name: other\n  progressDeadlineSeconds');
    const deployment = fs.readFileSync(path.join(FIXTURES, 'adopt-istio', 'deployment.yaml'), 'utf8').replace(/podinfo/g, 'other');
    const message = compileError(variant('adopt-istio', `${second}---\n${deployment}`));
    expect(message).toMatch(/Service test\/podinfo(-primary|-canary)? would be written to test\/podinfo\/ and also to test\/other\/ \(generated by the Canary\)/);
  });
});
