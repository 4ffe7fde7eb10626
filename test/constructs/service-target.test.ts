import { ApiObject, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Canary, CanaryApp } from '../../src';
import { Provider } from '../../src/constructs/provider';
import { computeRevision } from '../../src/constructs/revision';
import { decide } from '../../src/machine/decide';
import { planTick } from '../../src/machine/tick';
import { CanaryState, PrimarySnapshot } from '../../src/model/state';
import { NO_STATE_DIR, RenderedFolder, renderOne, stage } from '../support/construct-fixtures';
import { manifestProblems } from './manifest-validator';

// Flagger pkg/canary/service_controller.go for a core/v1 Service target: buildService (the -canary
// copy on every Initialize), Promote (the target spec to -primary, metadata filtered by
// -include-label-prefix), HasTargetChanged (the Service spec hash), IsPrimaryReady/IsCanaryReady
// (always ready); pkg/router/factory.go KubernetesRouter: KubernetesNoopRouter (no apex Services);
// scheduler_metrics.go runBuiltinMetricChecks + observers/factory.go: `<provider>:service`.

type Json = Record<string, any>;

function serviceSpec(port: number): Json {
  return { type: 'ClusterIP', clusterIP: '10.0.0.12', selector: { app: 'podinfo' }, ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 9898 }] };
}

function targetJson(port: number): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'podinfo',
      labels: { app: 'podinfo', team: 'web' },
      annotations: { 'example.com/owner': 'web', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
    spec: serviceSpec(port),
  };
}

function snapshot(port: number): PrimarySnapshot {
  const template = serviceSpec(port);
  return { revision: computeRevision(template, {}), template, workload: {}, annotations: { ...targetJson(port).metadata.annotations }, configMaps: {} };
}
const OLD = snapshot(9898);
const NEW = snapshot(8080);

interface Opts {
  state?: CanaryState;
  provider?: Provider;
  serviceName?: string;
  trafficDistribution?: 'PreferClose';
  autoscaler?: boolean;
}

function build(o: Opts = {}): { app: CanaryApp; canary: Canary } {
  const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
  const chart = new Chart(app, 'podinfo', { namespace: 'test' });
  const target = new ApiObject(chart, 'podinfo', targetJson(8080) as any);
  const autoscaler = o.autoscaler
    ? new ApiObject(chart, 'hpa', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'podinfo' }, spec: { scaleTargetRef: { apiVersion: 'v1', kind: 'Service', name: 'podinfo' }, maxReplicas: 3 } } as any)
    : undefined;
  const canary = new Canary(chart, 'canary', {
    target,
    autoscaler,
    service: { port: 9898, name: o.serviceName, trafficDistribution: o.trafficDistribution },
    provider: o.provider ?? Provider.istio(),
    analysis: { stepWeight: 20, maxWeight: 50, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] },
    state: o.state,
    stateDir: NO_STATE_DIR,
  });
  return { app, canary };
}
const render = (o: Opts = {}): RenderedFolder => renderOne(build(o).app);

const cases: Array<{ label: string; state?: CanaryState; primaryPort: number; weight: number }> = [
  { label: 'Initializing (bootstrap)', primaryPort: 8080, weight: 0 },
  { label: 'Initialized', state: stage('Initialized', { primary: NEW, canaryRevision: NEW.revision }), primaryPort: 8080, weight: 0 },
  { label: 'Progressing', state: stage('Progressing', { canaryWeight: 40, iterations: 2, primary: OLD, canaryRevision: NEW.revision }), primaryPort: 9898, weight: 40 },
  { label: 'Promoting', state: stage('Promoting', { canaryWeight: 40, primary: NEW, canaryRevision: NEW.revision }), primaryPort: 8080, weight: 40 },
  { label: 'Finalising', state: stage('Finalising', { primary: NEW, canaryRevision: NEW.revision }), primaryPort: 8080, weight: 0 },
  { label: 'Succeeded', state: stage('Succeeded', { primary: NEW, canaryRevision: NEW.revision }), primaryPort: 8080, weight: 0 },
  { label: 'Failed', state: stage('Failed', { failedChecks: 5, primary: OLD, canaryRevision: NEW.revision }), primaryPort: 9898, weight: 0 },
];

describe('Service target at every phase (service_controller.go Initialize / Promote, KubernetesNoopRouter)', () => {
  it.each(cases.map((c) => [c.label, c] as const))('%s', (_l, c) => {
    const f = render({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'DestinationRule/podinfo-canary', 'DestinationRule/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary', 'VirtualService/podinfo',
    ]);
    // The target is the user's, unchanged.
    expect(f.get('Service', 'podinfo')).toEqual({ ...targetJson(8080), metadata: { ...targetJson(8080).metadata, namespace: 'test' } });
    expect(f.get('Service', 'podinfo-primary').spec).toEqual({ type: 'ClusterIP', selector: { app: 'podinfo' }, ports: [{ name: 'http', port: c.primaryPort, protocol: 'TCP', targetPort: 9898 }] });
    expect(f.get('Service', 'podinfo-canary').spec.ports[0].port).toBe(8080);
    const route = f.get('VirtualService', 'podinfo').spec.http.at(-1).route;
    expect(route.map((r: Json) => [r.destination.host, r.weight])).toEqual([['podinfo-primary', 100 - c.weight], ['podinfo-canary', c.weight]]);
    expect(f.objects.flatMap((o) => manifestProblems(o))).toEqual([]);
    expect(f.plan).toMatchObject({ replicas: {}, targetKind: 'Service', workloadKind: 'Service' });
  });

  it('-canary is buildService: the target renamed, every label and annotation but kubectl last-applied, a new cluster IP', () => {
    expect(render({ trafficDistribution: 'PreferClose' }).get('Service', 'podinfo-canary')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'podinfo-canary', namespace: 'test', labels: { app: 'podinfo', team: 'web' }, annotations: { 'example.com/owner': 'web' } },
      spec: { type: 'ClusterIP', selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 9898 }], trafficDistribution: 'PreferClose' },
    });
  });

  it('-primary is Promote: labels and annotations only as -include-label-prefix keeps them (none by default)', () => {
    const primary = render({ state: stage('Succeeded', { primary: NEW, canaryRevision: NEW.revision }) }).get('Service', 'podinfo-primary');
    expect(primary.metadata).toEqual({ name: 'podinfo-primary', namespace: 'test' });
  });

  it('the revision is the Service spec (HasTargetChanged), recorded as the primary snapshot template', () => {
    const { canary } = build();
    expect(canary.plan!.canary.revision).toBe(NEW.revision);
    expect(canary.plan!.canary.template).toEqual(serviceSpec(8080));
    expect(canary.state!.primary.template).toEqual(serviceSpec(8080));
  });

  it('the driver waits for no workload (IsPrimaryReady/IsCanaryReady always true)', () => {
    const plan = build({ state: stage('Progressing', { canaryWeight: 40, primary: OLD, canaryRevision: NEW.revision }) }).canary.plan!;
    const state = stage('Progressing', { canaryWeight: 40, primary: OLD, canaryRevision: NEW.revision });
    const tick = planTick(plan, state, new Date('2026-01-02T04:00:00Z'));
    expect(tick.steps.filter((s) => s.kind === 'readiness')).toEqual([]);
    expect(tick.steps.length).toBeGreaterThan(0);
  });

  it('built-in metrics: `istio:service` and `contour:service` get Istio\'s queries, `gatewayapi:service` the HTTP observer (observers/factory.go)', () => {
    const query = (provider: Provider): string => build({ provider }).canary.plan!.metrics[0].query;
    expect(query(Provider.istio())).toContain('istio_requests_total{');
    expect(query(Provider.contour())).toContain('istio_requests_total{');
    expect(query(Provider.contour())).toContain('destination_workload=~"podinfo"');
    expect(query(Provider.gatewayApi({ gatewayRefs: [{ name: 'gateway', namespace: 'istio-ingress' }] }))).toContain('http_request_duration_seconds_count{');
  });

  it('Initializing completes without observing a workload (decide: primary never waited for)', () => {
    const { canary } = build();
    const d = decide(canary.plan!, canary.state!, { webhooks: [], metrics: [], providers: { available: true } }, new Date('2026-01-02T04:00:00Z'));
    expect(d.state?.phase).toBe('Initialized');
  });

  it('the built-in query of a Service target is exactly the Istio observer\'s (contour:service falls to factory.go\'s default)', () => {
    const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const deployment = new ApiObject(chart, 'd', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'podinfo' }, spec: { selector: { matchLabels: { app: 'podinfo' } }, template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } } as any);
    const istio = new Canary(chart, 'canary', { target: deployment, service: { port: 9898 }, provider: Provider.istio(), analysis: { stepWeight: 20, maxWeight: 50, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] }, stateDir: NO_STATE_DIR });
    expect(build({ provider: Provider.contour() }).canary.plan!.metrics[0].query).toBe(istio.plan!.metrics[0].query);
  });

  it('provider kubernetes (KubernetesNoopRouter and the Nop mesh router): only the two copies', () => {
    const f = render({ provider: Provider.kubernetes(), state: stage('Succeeded', { primary: NEW, canaryRevision: NEW.revision }) });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary']);
  });

  it('refuses a target with a fixed nodePort: Flagger\'s copies would claim the same port and never be created', () => {
    const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const t = targetJson(8080);
    t.spec = { type: 'NodePort', selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 8080, nodePort: 30080 }] };
    const c = new Canary(chart, 'canary', { target: new ApiObject(chart, 'podinfo', t as any), service: { port: 9898 }, provider: Provider.istio(), analysis: { stepWeight: 20, maxWeight: 50 }, stateDir: NO_STATE_DIR });
    expect(c.validateProblems()).toEqual([{ path: 'target', message: expect.stringContaining('spec.ports[0].nodePort 30080') }]);
  });

  it('warns that service.apex/primary/canary and portDiscovery are ignored (KubernetesNoopRouter)', () => {
    const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const c = new Canary(chart, 'canary', { target: new ApiObject(chart, 'podinfo', targetJson(8080) as any), service: { port: 9898, portDiscovery: true, apex: { labels: { a: 'b' } } }, provider: Provider.istio(), analysis: { stepWeight: 20, maxWeight: 50 }, stateDir: NO_STATE_DIR });
    expect(c.validateProblems()).toEqual([]);
    expect(c.validateWarnings().map((w) => w.path)).toEqual(['service.apex', 'service.portDiscovery']);
  });

  it('refuses service.name other than the target, and an autoscaler', () => {
    expect(build({ serviceName: 'web' }).canary.validateProblems()).toEqual([{ path: 'service.name', message: expect.stringContaining(`must be the target's name "podinfo" or unset`) }]);
    expect(build({ autoscaler: true }).canary.validateProblems()).toEqual([{ path: 'autoscaler', message: expect.stringContaining('the target is a Service') }]);
  });

  it('is byte-identical across runs', () => {
    const a = render({ state: stage('Progressing', { canaryWeight: 40, primary: OLD, canaryRevision: NEW.revision }) });
    const b = render({ state: stage('Progressing', { canaryWeight: 40, primary: OLD, canaryRevision: NEW.revision }) });
    expect([...a.files.entries()]).toEqual([...b.files.entries()]);
  });
});
