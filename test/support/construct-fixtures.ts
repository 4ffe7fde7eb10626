/**
 * Builders shared by the Canary construct tests (test/constructs) and the synth benchmark: a
 * podinfo-like target in three flavours (L1 KubeDeployment, cdk8s-plus Deployment, included YAML),
 * CanaryState stages, and helpers that render an app and parse its folders back into objects.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { parse } from 'yaml';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { Canary, CanaryProps } from '../../src/constructs/canary';
import { CanaryApp } from '../../src/constructs/canary-app';
import { StrictInclude } from '../../src/constructs/include';
import { toYaml } from '../../src/constructs/output';
import { Provider } from '../../src/constructs/provider';
import { computeRevision } from '../../src/constructs/revision';
import { GatewayApiOptions } from '../../src/providers/gateway-api';
import { IstioOptions } from '../../src/providers/istio';
import { CanaryServiceOptions } from '../../src/constructs/service-options';
import { Json } from '../../src/constructs/workload/deployment-json';
import { Phase } from '../../src/model/phase';
import { AnalysisPlan, PLAN_FILE } from '../../src/model/plan';
import { CanaryState, PrimarySnapshot, SessionAffinityState, STATE_API_VERSION } from '../../src/model/state';

export const NS = 'test';
export const TARGET = 'podinfo';
export const IMAGE_OLD = 'ghcr.io/stefanprodan/podinfo:6.0.0';
export const IMAGE_NEW = 'ghcr.io/stefanprodan/podinfo:6.1.0';
export const USER_REPLICAS = 3;

export type ProviderKind = 'istio' | 'nginx' | 'gatewayApi' | 'kubernetes';
export const PROVIDERS: readonly ProviderKind[] = ['istio', 'nginx', 'gatewayApi', 'kubernetes'];
export type TargetKind = 'l1' | 'plus' | 'include';

// ---------------------------------------------------------------------------------------------
// temp dirs

const tempDirs: string[] = [];

/** A fresh temp directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'canarykit-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A state directory that holds no state file, so every canary renders its bootstrap stage. */
export const NO_STATE_DIR = path.join(os.tmpdir(), `canarykit-no-state-${process.pid}-${Date.now()}`);

// ---------------------------------------------------------------------------------------------
// targets

/** What varies between podinfo targets. */
export interface PodinfoOptions {
  /** @default 'podinfo' */
  readonly name?: string;
  /** @default IMAGE_NEW */
  readonly image?: string;
  /** @default USER_REPLICAS; null leaves replicas unset */
  readonly replicas?: number | null;
  /** @default { app: <name> } */
  readonly matchLabels?: Record<string, string>;
  /** @default matchLabels */
  readonly podLabels?: Record<string, string>;
  readonly podAnnotations?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  /** Replaces the container's env. */
  readonly env?: k8s.EnvVar[];
  readonly envFrom?: k8s.EnvFromSource[];
  readonly volumes?: k8s.Volume[];
  readonly initContainers?: k8s.Container[];
  /** Extra containers after podinfod. */
  readonly sidecars?: k8s.Container[];
  readonly ports?: k8s.ContainerPort[];
  readonly affinity?: k8s.Affinity;
  readonly topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
}

/** L1 props of a podinfo Deployment. */
export function podinfoProps(o: PodinfoOptions = {}): k8s.KubeDeploymentProps {
  const name = o.name ?? TARGET;
  const matchLabels = o.matchLabels ?? { app: name };
  return {
    metadata: { name, labels: o.labels, annotations: o.annotations },
    spec: {
      replicas: o.replicas === null ? undefined : o.replicas ?? USER_REPLICAS,
      minReadySeconds: 5,
      progressDeadlineSeconds: 60,
      revisionHistoryLimit: 5,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0) } },
      selector: { matchLabels },
      template: {
        metadata: { labels: o.podLabels ?? matchLabels, annotations: o.podAnnotations },
        spec: {
          initContainers: o.initContainers,
          containers: [
            {
              name: 'podinfod',
              image: o.image ?? IMAGE_NEW,
              ports: o.ports ?? [{ name: 'http', containerPort: 9898, protocol: 'TCP' }],
              command: ['./podinfo', '--port=9898'],
              readinessProbe: { httpGet: { path: '/readyz', port: k8s.IntOrString.fromNumber(9898) } },
              resources: { requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('64Mi') } },
              env: o.env,
              envFrom: o.envFrom,
            },
            ...(o.sidecars ?? []),
          ],
          volumes: o.volumes,
          affinity: o.affinity,
          topologySpreadConstraints: o.topologySpreadConstraints,
        },
      },
    },
  };
}

/** The manifest an L1 podinfo Deployment synthesizes to. */
export function podinfoJson(o: PodinfoOptions = {}): Json {
  const scratch = new Chart(new App(), 'scratch');
  return new k8s.KubeDeployment(scratch, 'd', podinfoProps(o)).toJson();
}

/** A cdk8s-plus Deployment set up the way canarykit needs it (see src/main.ts). */
export function plusPodinfo(chart: Chart, o: PodinfoOptions = {}): kplus.Deployment {
  const name = o.name ?? TARGET;
  const deploy = new kplus.Deployment(chart, name, {
    metadata: { name, labels: o.labels, annotations: o.annotations },
    replicas: o.replicas === null ? undefined : o.replicas ?? USER_REPLICAS,
    select: false,
    podMetadata: { labels: o.podLabels ?? { app: name } },
    containers: [
      {
        name: 'podinfod',
        image: o.image ?? IMAGE_NEW,
        ports: [{ number: 9898, name: 'http' }],
        command: ['./podinfo', '--port=9898'],
        securityContext: { user: 1000, group: 1000 },
      },
    ],
  });
  deploy.select(kplus.LabelSelector.of({ labels: o.matchLabels ?? { app: name } }));
  return deploy;
}

/** Writes the podinfo Deployment (plus `extra` documents) to a YAML file in a temp dir. */
export function writePodinfoYaml(o: PodinfoOptions = {}, extra: Json[] = []): string {
  const file = path.join(tempDir('canarykit-include-'), 'podinfo.yaml');
  fs.writeFileSync(file, [podinfoJson(o), ...extra].map((d) => toYaml(d)).join('---\n'));
  return file;
}

/** Adds a podinfo target of the given flavour to `chart` and returns the construct to pass as `target`. */
export function addTarget(chart: Chart, kind: TargetKind, o: PodinfoOptions = {}): IConstruct {
  const name = o.name ?? TARGET;
  switch (kind) {
    case 'l1':
      return new k8s.KubeDeployment(chart, name, podinfoProps(o));
    case 'plus':
      return plusPodinfo(chart, o);
    case 'include': {
      const inc = new StrictInclude(chart, `${name}-yaml`, { url: writePodinfoYaml(o) });
      return inc.apiObjects.find((a) => a.kind === 'Deployment')!;
    }
  }
}

/** The user's HPA for the target. */
export function addHpa(chart: Chart, target = TARGET, min = 2, max = 6): k8s.KubeHorizontalPodAutoscalerV2 {
  return new k8s.KubeHorizontalPodAutoscalerV2(chart, 'hpa', {
    metadata: { name: target, labels: { team: 'web', 'kustomize.toolkit.fluxcd.io/name': 'apps' } },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  });
}

/** The user's Ingress routing www.example.com to the apex Service. */
export function addIngress(chart: Chart, o: { name?: string; service?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}): k8s.KubeIngress {
  return new k8s.KubeIngress(chart, 'ingress', {
    metadata: {
      name: o.name ?? TARGET,
      labels: o.labels,
      annotations: o.annotations ?? { 'kubernetes.io/ingress.class': 'nginx' },
    },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'www.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: o.service ?? TARGET, port: { number: 9898 } } } },
              { path: '/static', pathType: 'Prefix', backend: { service: { name: 'static-files', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  });
}

// ---------------------------------------------------------------------------------------------
// states

/** A primary snapshot holding `deployment` (a manifest) and the tracked ConfigMap data. */
export function snapshotOf(deployment: Json, configMaps: Record<string, Record<string, string>> = {}): PrimarySnapshot {
  const s = deployment.spec;
  return {
    revision: computeRevision(s.template, configMaps),
    template: JSON.parse(JSON.stringify(s.template)),
    workload: {
      replicas: s.replicas,
      minReadySeconds: s.minReadySeconds,
      progressDeadlineSeconds: s.progressDeadlineSeconds,
      revisionHistoryLimit: s.revisionHistoryLimit,
      strategy: s.strategy,
    },
    annotations: { ...deployment.metadata.annotations },
    configMaps,
  };
}

/** Primary running the previous podinfo (IMAGE_OLD). */
export function oldPrimary(o: PodinfoOptions = {}, configMaps: Record<string, Record<string, string>> = {}): PrimarySnapshot {
  return snapshotOf(podinfoJson({ ...o, image: IMAGE_OLD }), configMaps);
}

/** Primary running the current target (as after a promotion). */
export function newPrimary(o: PodinfoOptions = {}, configMaps: Record<string, Record<string, string>> = {}): PrimarySnapshot {
  return snapshotOf(podinfoJson(o), configMaps);
}

export interface StageOptions {
  readonly canaryWeight?: number;
  readonly mirror?: boolean;
  readonly iterations?: number;
  readonly failedChecks?: number;
  readonly primary?: PrimarySnapshot;
  readonly canaryRevision?: string;
  readonly sessionAffinity?: SessionAffinityState;
  readonly namespace?: string;
  readonly name?: string;
}

/** A CanaryState at `phase`; the primary defaults to the previous podinfo. */
export function stage(phase: Phase, o: StageOptions = {}): CanaryState {
  const primary = o.primary ?? oldPrimary();
  return {
    apiVersion: STATE_API_VERSION,
    kind: 'CanaryState',
    namespace: o.namespace ?? NS,
    name: o.name ?? TARGET,
    phase,
    canaryWeight: o.canaryWeight ?? 0,
    mirror: o.mirror ?? false,
    iterations: o.iterations ?? 0,
    failedChecks: o.failedChecks ?? 0,
    canaryRevision: o.canaryRevision ?? newPrimary().revision,
    primary,
    lastTransitionTime: '2026-01-02T03:04:05Z',
    ...(o.sessionAffinity ? { sessionAffinity: o.sessionAffinity } : {}),
  };
}

/** One row of the phase table every provider is checked against. */
export interface PhaseCase {
  readonly label: string;
  /** undefined: no state file (bootstrap). */
  readonly state?: CanaryState;
  /** Which template the primary runs. */
  readonly primaryImage: string;
  /** Target replicas up (user's replicas) or 0. */
  readonly targetUp: boolean;
  readonly primaryWeight: number;
  readonly canaryWeight: number;
}

/** Flagger's stages of one canary run, with what the objects must look like in each (reference §3.3, §8). */
export function phaseCases(): PhaseCase[] {
  const promoted = newPrimary();
  return [
    // No state file: Initializing, the primary built from the target, which keeps serving until the primary is ready.
    { label: 'Initializing (bootstrap, no state file)', primaryImage: IMAGE_NEW, targetUp: true, primaryWeight: 100, canaryWeight: 0 },
    { label: 'Initialized', state: stage('Initialized', { primary: promoted }), primaryImage: IMAGE_NEW, targetUp: false, primaryWeight: 100, canaryWeight: 0 },
    { label: 'Progressing at 20', state: stage('Progressing', { canaryWeight: 20 }), primaryImage: IMAGE_OLD, targetUp: true, primaryWeight: 80, canaryWeight: 20 },
    { label: 'WaitingPromotion at max weight', state: stage('WaitingPromotion', { canaryWeight: 50 }), primaryImage: IMAGE_OLD, targetUp: true, primaryWeight: 50, canaryWeight: 50 },
    { label: 'Promoting', state: stage('Promoting', { canaryWeight: 50, primary: promoted }), primaryImage: IMAGE_NEW, targetUp: true, primaryWeight: 50, canaryWeight: 50 },
    { label: 'Finalising', state: stage('Finalising', { primary: promoted }), primaryImage: IMAGE_NEW, targetUp: true, primaryWeight: 100, canaryWeight: 0 },
    { label: 'Succeeded', state: stage('Succeeded', { primary: promoted }), primaryImage: IMAGE_NEW, targetUp: false, primaryWeight: 100, canaryWeight: 0 },
    { label: 'Failed (rolled back)', state: stage('Failed', { failedChecks: 5 }), primaryImage: IMAGE_OLD, targetUp: false, primaryWeight: 100, canaryWeight: 0 },
    // A failed promotion routes everything back to the (promoted) primary, like any rollback.
    { label: 'Failed promotion (routes 100/0)', state: stage('Failed', { primary: promoted }), primaryImage: IMAGE_NEW, targetUp: false, primaryWeight: 100, canaryWeight: 0 },
  ];
}

// ---------------------------------------------------------------------------------------------
// apps

export interface FixtureOptions {
  /** @default 'istio' */
  readonly provider?: ProviderKind;
  readonly istio?: IstioOptions;
  readonly gatewayApi?: Partial<GatewayApiOptions>;
  /** Options of the user Ingress (nginx). */
  readonly ingress?: Parameters<typeof addIngress>[1];
  readonly nginxPrefix?: string;
  /** @default 'l1' */
  readonly target?: TargetKind;
  readonly podinfo?: PodinfoOptions;
  /** undefined renders the bootstrap stage. */
  readonly state?: CanaryState;
  /** @default stepWeight 10, maxWeight 50 (iterations 5 for kubernetes) */
  readonly analysis?: CanaryAnalysisOptions;
  /** Merged over `{ port: 9898 }`. */
  readonly service?: Partial<CanaryServiceOptions>;
  /** Adds the user HPA and passes it as `autoscaler`. */
  readonly hpa?: boolean;
  /** ConfigMaps defined in the chart (name -> data). */
  readonly configMaps?: Record<string, Record<string, string>>;
  /** Secrets defined in the chart (name -> stringData). */
  readonly secrets?: Record<string, Record<string, string>>;
  /** Any other Canary props. */
  readonly canary?: Partial<CanaryProps>;
  /** Builds the provider in the podinfo chart (for providers taking objects of the chart). @default - from `provider` */
  readonly providerIn?: (chart: Chart) => Provider;
  /** Chart id. @default 'podinfo' */
  readonly chartId?: string;
  readonly namespace?: string;
}

export interface Fixture {
  readonly app: CanaryApp;
  readonly chart: Chart;
  readonly canary: Canary;
  readonly target: IConstruct;
}

export function defaultAnalysis(provider: ProviderKind): CanaryAnalysisOptions {
  return provider === 'kubernetes' ? { iterations: 5 } : { stepWeight: 10, maxWeight: 50 };
}

/** Builds the provider of a fixture (the nginx one needs the chart for its Ingress). */
export function makeProvider(chart: Chart, o: FixtureOptions): Provider {
  switch (o.provider ?? 'istio') {
    case 'istio':
      return Provider.istio(o.istio);
    case 'nginx':
      return Provider.nginx({ ingress: addIngress(chart, o.ingress), annotationsPrefix: o.nginxPrefix });
    case 'gatewayApi':
      return Provider.gatewayApi({
        gatewayRefs: [{ name: 'public', namespace: 'gateway-system' }],
        hosts: ['app.example.com'],
        ...o.gatewayApi,
      });
    case 'kubernetes':
      return Provider.kubernetes();
  }
}

/** Adds one podinfo chart with its Canary to `app`. */
export function addPodinfoChart(app: App, o: FixtureOptions = {}): Omit<Fixture, 'app'> {
  const chart = new Chart(app, o.chartId ?? TARGET, { namespace: o.namespace ?? NS });
  const target = addTarget(chart, o.target ?? 'l1', o.podinfo);
  for (const [name, data] of Object.entries(o.configMaps ?? {})) new k8s.KubeConfigMap(chart, `cm-${name}`, { metadata: { name }, data });
  for (const [name, stringData] of Object.entries(o.secrets ?? {})) new k8s.KubeSecret(chart, `secret-${name}`, { metadata: { name }, type: 'Opaque', stringData });
  const provider = o.providerIn?.(chart) ?? makeProvider(chart, o);
  const hpa = o.hpa ? addHpa(chart, o.podinfo?.name ?? TARGET) : undefined;
  const canary = new Canary(chart, 'canary', {
    target,
    service: { port: 9898, ...o.service },
    provider,
    analysis: o.analysis ?? defaultAnalysis(o.provider ?? 'istio'),
    autoscaler: hpa,
    state: o.state,
    stateDir: NO_STATE_DIR,
    ...o.canary,
  });
  return { chart, canary, target };
}

/** A CanaryApp holding one podinfo chart. */
export function fixture(o: FixtureOptions = {}, outdir?: string): Fixture {
  const app = new CanaryApp({ outdir: outdir ?? path.join(os.tmpdir(), 'canarykit-unused-outdir') });
  return { app, ...addPodinfoChart(app, o) };
}

// ---------------------------------------------------------------------------------------------
// reading output

/** One rendered folder with its manifests parsed. */
export interface RenderedFolder {
  readonly dir: string;
  readonly files: Map<string, string>;
  /** Every manifest (kustomization.yaml and the plan excluded), in file order. */
  readonly objects: Json[];
  readonly plan?: AnalysisPlan;
  readonly kustomization: Json;
  /** The object of `kind` named `name`; throws when missing. */
  get(kind: string, name: string): Json;
  /** The object of `kind` named `name`, or undefined. */
  find(kind: string, name: string): Json | undefined;
  /** Every object of `kind`. */
  all(kind: string): Json[];
}

export function readFolder(dir: string, files: Map<string, string>): RenderedFolder {
  const objects = [...files.entries()]
    .filter(([n]) => n.endsWith('.yaml') && n !== 'kustomization.yaml')
    .map(([, text]) => parse(text, { version: '1.1' }) as Json); // read as kubectl does (YAML 1.1)
  const planText = files.get(PLAN_FILE);
  const find = (kind: string, name: string): Json | undefined => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  return {
    dir,
    files,
    objects,
    plan: planText === undefined ? undefined : (JSON.parse(planText) as AnalysisPlan),
    kustomization: parse(files.get('kustomization.yaml') ?? '{}', { version: '1.1' }),
    find,
    get(kind, name) {
      const o = find(kind, name);
      if (!o) throw new Error(`${dir}: no ${kind} ${name} (have ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')})`);
      return o;
    },
    all: (kind) => objects.filter((o) => o.kind === kind),
  };
}

/** Renders `app` and parses every folder. */
export function renderAll(app: CanaryApp): RenderedFolder[] {
  return app.render().map((f) => readFolder(f.dir, f.files));
}

/** Renders an app expected to hold exactly one folder. */
export function renderOne(app: CanaryApp): RenderedFolder {
  const folders = renderAll(app);
  if (folders.length !== 1) throw new Error(`expected one folder, got ${folders.map((f) => f.dir).join(', ')}`);
  return folders[0];
}

/** Builds a fixture and renders its single folder. */
export function render(o: FixtureOptions = {}): RenderedFolder {
  return renderOne(fixture(o).app);
}

/** Every file under `dir` (relative path -> bytes), for before/after comparisons. */
export function snapshotDir(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Route weights a folder carries, per provider (kubernetes: the fake 100/0 Flagger reports). */
export function routeWeights(provider: ProviderKind, f: RenderedFolder, svc = TARGET): { primary: number; canary: number } {
  switch (provider) {
    case 'istio': {
      const route = f.get('VirtualService', svc).spec.http.at(-1).route;
      return { primary: route[0].weight, canary: route[1].weight };
    }
    case 'nginx': {
      const c = Number(f.get('Ingress', `${TARGET}-canary`).metadata.annotations['nginx.ingress.kubernetes.io/canary-weight']);
      return { primary: 100 - c, canary: c };
    }
    case 'gatewayApi': {
      const refs = f.get('HTTPRoute', svc).spec.rules.at(-1).backendRefs;
      return { primary: refs[0].weight, canary: refs[1].weight };
    }
    case 'kubernetes':
      return { primary: 100, canary: 0 };
  }
}

/** The ApiObject behind a construct (cdk8s-plus constructs wrap one). */
export function jsonOf(c: IConstruct): Json {
  return ApiObject.of(c).toJson();
}

export { Duration };
