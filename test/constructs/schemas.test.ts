import { execFile } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { Duration } from 'cdk8s';
import { buildExampleApp } from '../../src/main';
import { FAMILIES } from '../../src/examples/families';

/** Canaries of the example app beyond podinfo and frontend: one per provider family, and Knative. */
const EXAMPLE_FAMILIES = FAMILIES.length + 1;
import { CanaryApp } from '../../src/constructs/canary-app';
import { CanaryState } from '../../src/model/state';
import {
  FixtureOptions,
  NO_STATE_DIR,
  RenderedFolder,
  addPodinfoChart,
  newPrimary,
  oldPrimary,
  readFolder,
  removeTempDirs,
  renderAll,
  stage,
  tempDir,
} from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems, validateWithModels } from './manifest-validator';

afterAll(removeTempDirs);

const execFileAsync = promisify(execFile);

const refs = {
  podLabels: { app: 'podinfo', 'app.kubernetes.io/version': '6.1.0' },
  podAnnotations: { 'prometheus.io/scrape': 'true' },
  annotations: { 'example.com/owner': 'web' },
  volumes: [
    { name: 'settings', configMap: { name: 'settings' } },
    { name: 'bundle', projected: { sources: [{ configMap: { name: 'bundle' } }, { secret: { name: 'tls' } }] } },
    { name: 'creds', secret: { secretName: 'creds' } },
  ],
  env: [
    { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'env-values', key: 'level' } } },
    { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
  ],
  envFrom: [{ configMapRef: { name: 'env-all' } }],
  ports: [
    { name: 'http', containerPort: 9898 },
    { name: 'grpc', containerPort: 9999 },
    { containerPort: 9797 },
  ],
  sidecars: [{ name: 'istio-proxy', image: 'proxyv2', ports: [{ name: 'http-envoy-prom', containerPort: 15090 }] }],
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'podinfo' } }, topologyKey: 'kubernetes.io/hostname' } },
      ],
    },
  },
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'podinfo' } } }],
};
const configMaps = { settings: { 'app.yaml': 'v: 2' }, bundle: { 'ca.crt': 'pem' }, 'env-values': { level: 'debug' }, 'env-all': { A: '1' } };
const previousConfigMaps = { settings: { 'app.yaml': 'v: 1' }, bundle: { 'ca.crt': 'old' }, 'env-values': { level: 'info' }, 'env-all': { A: '0' } };
const secrets = { creds: { token: 't' }, tls: { 'tls.crt': 'c' } };
const rich: FixtureOptions = {
  podinfo: refs,
  configMaps,
  secrets,
  hpa: true,
  service: { portDiscovery: true, apex: { labels: { tier: 'edge' }, annotations: { 'example.com/apex': 'yes' } }, canary: { labels: { track: 'canary' } } },
};
const header = { 'x-canary': { exact: 'insider' } };

/** Rich fixtures: every provider, A/B, mirroring, session affinity, HPA, tracked ConfigMaps. */
const FIXTURES: Record<string, FixtureOptions> = {
  'istio canary with route options': {
    ...rich,
    istio: {
      gateways: ['istio-system/public-gateway', 'mesh'],
      hosts: ['app.example.com'],
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
      retries: { attempts: 3, perTryTimeout: Duration.seconds(2), retryOn: 'gateway-error,connect-failure,refused-stream' },
      timeout: Duration.seconds(30),
      rewrite: { uri: '/' },
      headers: { request: { set: { 'x-env': 'prod' } }, response: { remove: ['x-powered-by'] } },
      corsPolicy: { allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['GET', 'POST'], maxAge: '24h' },
      match: [{ uri: { prefix: '/api' } }],
    },
  },
  'istio A/B with service match': {
    ...rich,
    istio: { match: [{ uri: { prefix: '/' } }] },
    analysis: { iterations: 10, match: [{ headers: header }, { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } }, sourceLabels: { app: 'tester' } }] },
  },
  'istio mirroring': { ...rich, analysis: { iterations: 5, mirror: true, mirrorWeight: 30 } },
  'istio session affinity': {
    ...rich,
    analysis: { stepWeight: 20, sessionAffinity: { cookieName: 'canary-session', primaryCookieName: 'primary-session', maxAge: Duration.hours(1) } },
  },
  'nginx canary': { ...rich, provider: 'nginx', ingress: { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } } },
  'nginx A/B by header and cookie': { ...rich, provider: 'nginx', analysis: { iterations: 10, match: [{ headers: { 'x-canary': { regex: 'ins.*' }, cookie: { exact: 'canary' } } }] } },
  'gatewayApi canary with matches and timeouts': {
    ...rich,
    provider: 'gatewayApi',
    gatewayApi: {
      gatewayRefs: [{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }],
      match: [{ uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: { 'x-tenant': { regex: 't-.*' } } }],
      timeout: Duration.seconds(30),
      backendTimeout: Duration.seconds(10),
    },
  },
  'gatewayApi A/B': { ...rich, provider: 'gatewayApi', analysis: { iterations: 10, match: [{ headers: header, queryParams: { beta: { exact: 'true' } } }] } },
  'gatewayApi blue/green mirroring': { ...rich, provider: 'gatewayApi', analysis: { iterations: 5, mirror: true } },
  'gatewayApi session affinity': { ...rich, provider: 'gatewayApi', analysis: { stepWeight: 20, sessionAffinity: { cookieName: 'canary-session' } } },
  'kubernetes blue/green': { ...rich, provider: 'kubernetes' },
  'cdk8s-plus target': { target: 'plus', hpa: true },
  'included YAML target': { target: 'include', provider: 'nginx' },
  'headless, named targetPort, appProtocol': { service: { headless: true, port: 80, targetPort: 'http', appProtocol: 'http' } },
};

/** The stages each fixture is rendered at. */
function stagesOf(o: FixtureOptions): Array<CanaryState | undefined> {
  const podinfo = o.podinfo ?? {};
  const old = oldPrimary(podinfo, o.configMaps ? previousConfigMaps : {});
  const promoted = newPrimary(podinfo, o.configMaps ?? {});
  const sessionAffinity = { cookie: 'canary-session=AbCdEfGhIj', primaryCookie: 'primary-session=KlMnOpQrSt' };
  return [
    undefined,
    stage('Progressing', { canaryWeight: 40, mirror: !!o.analysis?.mirror, primary: old, sessionAffinity }),
    stage('Progressing', { canaryWeight: 100, primary: old, sessionAffinity }),
    stage('Succeeded', { primary: promoted, sessionAffinity: { previousCookie: sessionAffinity.cookie } }),
    stage('Failed', { primary: promoted }),
  ];
}

const withNamespace = (s: CanaryState | undefined, ns: string) => s && { ...s, namespace: ns };

/** Every fixture at every stage, one chart per (fixture, stage), in one app. */
function buildAll(outdir: string): CanaryApp {
  const app = new CanaryApp({ outdir });
  let i = 0;
  for (const o of Object.values(FIXTURES)) {
    for (const state of stagesOf(o)) {
      addPodinfoChart(app, { ...o, state: withNamespace(state, `ns${i}`), chartId: `c${i}`, namespace: `ns${i}` });
      i++;
    }
  }
  return app;
}


describe('every synthesized object validates against independent schemas', () => {
  const folders: RenderedFolder[] = [];
  const load = (): RenderedFolder[] => {
    if (folders.length) return folders;
    folders.push(...renderAll(buildAll(NO_STATE_DIR)), ...renderAll(buildExampleApp()));
    return folders;
  };

  it('the validators reject bad objects and unknown kinds (negative controls)', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } };
    expect(manifestProblems(deployment)).toEqual([]);
    expect(manifestProblems({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } }).join('\n')).toMatch(/kubernetes-models: .*replicas[\s\S]*strict schema: .*replicas/);
    // Unknown fields: kubernetes-models accepts them, the strict 1.28 schema does not (like kubectl --validate=strict).
    const typo = { ...deployment, spec: { ...deployment.spec, replica: 2 } };
    expect(() => validateWithModels(typo)).not.toThrow();
    expect(strictSchemaProblems(typo).join()).toContain('(replica)');
    expect(strictSchemaProblems({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'v' }, spec: { http: [{ route: [{ destination: { host: 'h' }, wieght: 1 }] }] } }).join()).toContain('(wieght)');
    expect(strictSchemaProblems({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ backendRefs: [{ name: 's', port: 80, weight: -1 }] }] } }).join()).toMatch(/weight/);
    expect(() => manifestProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toThrow(/no kubernetes-models schema|no Kubernetes 1.28/);
    expect(() => validateWithModels({ apiVersion: 'v1', kind: 'Widget' })).toThrow(/no kubernetes-models schema for v1 Widget/);
    expect(() => strictSchemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget' })).toThrow(/no Kubernetes 1.28 or CRD schema/);
    // A provider CRD from ../shared/crds (issue 10) is strict too: Contour's port bound compiles as draft-07.
    expect(strictSchemaProblems({ apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', metadata: { name: 'p' }, spec: { routes: [{ services: [{ name: 's', port: 65536 }] }] } }).join()).toMatch(/port/);
    expect(strictSchemaProblems({ apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 't' }, spec: { service: 's', backends: [{ service: 'a', weight: 10, wieght: 1 }] } }).join()).toContain('(wieght)');
  });

  it('kubernetes-models, the Kubernetes 1.28 definitions and the Istio / Gateway API CRDs accept every object', () => {
    const all = load();
    const kinds = new Set<string>();
    const problems: string[] = [];
    let count = 0;
    for (const f of all) {
      for (const obj of f.objects) {
        kinds.add(`${obj.apiVersion} ${obj.kind}`);
        problems.push(...manifestProblems(obj).map((p) => `${f.dir}: ${p}`));
        count++;
      }
    }
    expect(problems).toEqual([]);
    // The example app has one canary per provider family (src/examples/families.ts).
    expect([...kinds].sort()).toEqual([
      'apisix.apache.org/v2 ApisixRoute',
      'appmesh.k8s.aws/v1beta2 VirtualNode',
      'appmesh.k8s.aws/v1beta2 VirtualRouter',
      'appmesh.k8s.aws/v1beta2 VirtualService',
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'gateway.networking.k8s.io/v1 HTTPRoute',
      'gateway.solo.io/v1 RouteTable',
      'gloo.solo.io/v1 Upstream',
      'kuma.io/v1alpha1 TrafficRoute',
      'networking.istio.io/v1beta1 DestinationRule',
      'networking.istio.io/v1beta1 VirtualService',
      'networking.k8s.io/v1 Ingress',
      'projectcontour.io/v1 HTTPProxy',
      'serving.knative.dev/v1 Service',
      'split.smi-spec.io/v1alpha1 TrafficSplit',
      'traefik.io/v1alpha1 TraefikService',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
    ]);
    expect(count).toBeGreaterThan(500);
  });

  it('the rich fixtures really exercise A/B, mirroring, session affinity, portDiscovery and config copies', () => {
    const all = load();
    const text = all.flatMap((f) => [...f.files.values()]).join('\n');
    for (const needle of ['mirrorPercentage', 'RequestMirror', 'Set-Cookie', 'canary-by-header-pattern', 'canary-by-cookie', 'sourceLabels', 'tcp-podinfod-2', 'settings-primary', 'ResponseHeaderModifier', 'Max-Age=-1', 'corsPolicy', 'clusterIP: None']) {
      expect(text, needle).toContain(needle);
    }
  });
});

describe('every output folder builds with kubectl kustomize', () => {
  const kustomize = async (dir: string): Promise<string> => (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;

  it('the example app and every fixture folder', async () => {
    const root = tempDir('canarykit-kustomize-');
    const example = path.join(root, 'example');
    buildExampleApp(example).synth();
    const fixtures = path.join(root, 'fixtures');
    buildAll(fixtures).synth();

    const dirs: string[] = [];
    for (const base of [example, fixtures]) {
      for (const ns of fs.readdirSync(base).filter((n) => !n.startsWith('.'))) for (const name of fs.readdirSync(path.join(base, ns))) dirs.push(path.join(base, ns, name));
    }
    expect(dirs.length).toBe(Object.keys(FIXTURES).length * 5 + 2 + EXAMPLE_FAMILIES);
    // kubectl is a separate process per folder; run a few at a time.
    const queue = [...dirs];
    const worker = async (): Promise<void> => {
      for (let dir = queue.shift(); dir; dir = queue.shift()) {
        const files = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir!, n), 'utf8')]));
        const folder = readFolder(dir, files);
        const built = await kustomize(dir);
        // kustomize emits every manifest, once, and nothing else (the plan is not a resource).
        expect(built.split(/^---$/m).length, dir).toBe(folder.objects.length);
        expect(built).not.toContain('AnalysisPlan');
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  });
});
