import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { Canary, CanaryApp } from '../../src';
import { Provider } from '../../src/constructs/provider';
import { computeRevision } from '../../src/constructs/revision';
import { k8s } from 'cdk8s-plus-28';
import { CanaryState, PrimarySnapshot } from '../../src/model/state';
import { IMAGE_NEW, IMAGE_OLD, NO_STATE_DIR, RenderedFolder, renderOne, stage } from '../support/construct-fixtures';
import { manifestProblems } from './manifest-validator';

// Flagger pkg/canary/daemonset_controller.go for a DaemonSet target: createPrimaryDaemonSet (the
// -primary copy), Promote (template, updateStrategy, minReadySeconds, revisionHistoryLimit), and
// ScaleToZero/ScaleFromZero (the node selector flagger.app/scale-to-zero: "true", added and removed).

type Json = Record<string, any>;

function daemonSetProps(image = IMAGE_NEW, updateStrategy: k8s.DaemonSetUpdateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } }): k8s.KubeDaemonSetProps {
  return {
    metadata: { name: 'podinfo', labels: { team: 'web' }, annotations: { 'example.com/owner': 'web' } },
    spec: {
      minReadySeconds: 3,
      revisionHistoryLimit: 4,
      updateStrategy,
      selector: { matchLabels: { app: 'podinfo' } },
      template: {
        metadata: { labels: { app: 'podinfo' } },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          containers: [{ name: 'podinfod', image, ports: [{ name: 'http', containerPort: 9898 }] }],
        },
      },
    },
  };
}

function snapshot(image: string): PrimarySnapshot {
  const s = new k8s.KubeDaemonSet(new Chart(new CanaryApp(), 'x'), 'd', daemonSetProps(image)).toJson().spec;
  return {
    revision: computeRevision(s.template, {}),
    template: s.template,
    workload: { minReadySeconds: s.minReadySeconds, revisionHistoryLimit: s.revisionHistoryLimit, strategy: s.updateStrategy },
    annotations: { 'example.com/owner': 'web' },
    configMaps: {},
  };
}
const OLD = snapshot(IMAGE_OLD);
const NEW = snapshot(IMAGE_NEW);

interface Opts {
  state?: CanaryState;
  flavour?: 'l1' | 'plus';
  provider?: Provider;
  strategy?: k8s.DaemonSetUpdateStrategy;
  autoscaler?: boolean;
}

function build(o: Opts = {}): { app: CanaryApp; canary: Canary } {
  const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
  const chart = new Chart(app, 'podinfo', { namespace: 'test' });
  let target;
  if (o.flavour === 'plus') {
    const ds = new kplus.DaemonSet(chart, 'podinfo', { metadata: { name: 'podinfo' }, select: false, podMetadata: { labels: { app: 'podinfo' } } });
    ds.select(kplus.LabelSelector.of({ labels: { app: 'podinfo' } }));
    ds.addContainer({ name: 'podinfod', image: IMAGE_NEW, portNumber: 9898, securityContext: { ensureNonRoot: false } });
    target = ds;
  } else {
    target = new k8s.KubeDaemonSet(chart, 'podinfo', daemonSetProps(IMAGE_NEW, o.strategy));
  }
  const autoscaler = o.autoscaler
    ? new k8s.KubeHorizontalPodAutoscalerV2(chart, 'hpa', { metadata: { name: 'podinfo' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' }, maxReplicas: 3 } })
    : undefined;
  const canary = new Canary(chart, 'canary', {
    target,
    autoscaler,
    service: { port: 9898 },
    provider: o.provider ?? Provider.kubernetes(),
    analysis: { iterations: 5 },
    state: o.state,
    stateDir: NO_STATE_DIR,
  });
  return { app, canary };
}
const render = (o: Opts = {}): RenderedFolder => renderOne(build(o).app);

const cases: Array<{ label: string; state?: CanaryState; primary: string; up: boolean }> = [
  { label: 'Initializing (bootstrap): the target keeps serving', primary: IMAGE_NEW, up: true },
  { label: 'Initialized: the target scaled to zero', state: stage('Initialized', { primary: NEW }), primary: IMAGE_NEW, up: false },
  { label: 'Progressing', state: stage('Progressing', { canaryWeight: 100, iterations: 2, primary: OLD }), primary: IMAGE_OLD, up: true },
  { label: 'Promoting', state: stage('Promoting', { canaryWeight: 100, primary: NEW }), primary: IMAGE_NEW, up: true },
  { label: 'Finalising', state: stage('Finalising', { primary: NEW }), primary: IMAGE_NEW, up: true },
  { label: 'Succeeded', state: stage('Succeeded', { primary: NEW }), primary: IMAGE_NEW, up: false },
  { label: 'Failed', state: stage('Failed', { failedChecks: 5, primary: OLD }), primary: IMAGE_OLD, up: false },
];

describe('DaemonSet target at every phase (daemonset_controller.go ScaleToZero / ScaleFromZero / Promote)', () => {
  it.each(cases.map((c) => [c.label, c] as const))('%s', (_l, c) => {
    const f = render({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'DaemonSet/podinfo', 'DaemonSet/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
    ]);
    const target = f.get('DaemonSet', 'podinfo');
    expect(target.spec.replicas).toBeUndefined();
    expect(target.spec.template.spec.nodeSelector).toEqual(
      c.up ? { 'kubernetes.io/os': 'linux' } : { 'kubernetes.io/os': 'linux', 'flagger.app/scale-to-zero': 'true' },
    );
    const primary = f.get('DaemonSet', 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0].image).toBe(c.primary);
    expect(primary.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(f.objects.flatMap((o) => manifestProblems(o))).toEqual([]);
    expect(f.plan?.replicas).toEqual({});
    expect(f.plan?.workloadKind).toBe('DaemonSet');
    expect(f.plan?.targetKind).toBe('DaemonSet');
    expect(f.plan?.workloads).toEqual({ primary: 'podinfo-primary', canary: 'podinfo' });
  });

  it('the -primary DaemonSet as createPrimaryDaemonSet builds it', () => {
    const primary = render({ state: stage('Succeeded', { primary: NEW }) }).get('DaemonSet', 'podinfo-primary');
    expect(primary).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'podinfo-primary', namespace: 'test', labels: { app: 'podinfo-primary' }, annotations: { 'example.com/owner': 'web' } },
      spec: {
        minReadySeconds: 3,
        revisionHistoryLimit: 4,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        selector: { matchLabels: { app: 'podinfo-primary' } },
        template: {
          metadata: { labels: { app: 'podinfo-primary' }, annotations: { 'flagger-id': expect.any(String) } },
          spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'podinfod', image: IMAGE_NEW, ports: [{ name: 'http', containerPort: 9898 }] }] },
        },
      },
    });
  });

  it('the Services select the primary and canary pods by the selector label', () => {
    const f = render({ state: stage('Progressing', { canaryWeight: 100, primary: OLD }) });
    expect(f.get('Service', 'podinfo').spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(f.get('Service', 'podinfo-canary').spec.selector).toEqual({ app: 'podinfo' });
  });

  it('a cdk8s-plus DaemonSet target, scaled to zero after initialization', () => {
    const f = render({ flavour: 'plus', state: stage('Initialized', { primary: NEW }) });
    expect(f.get('DaemonSet', 'podinfo').spec.template.spec.nodeSelector).toEqual({ 'flagger.app/scale-to-zero': 'true' });
    const boot = render({ flavour: 'plus' });
    expect(boot.get('DaemonSet', 'podinfo').spec.template.spec.nodeSelector).toBeUndefined();
    expect(boot.get('DaemonSet', 'podinfo-primary').spec.template.spec.nodeSelector).toBeUndefined();
    expect(boot.get('DaemonSet', 'podinfo-primary').spec.selector).toEqual({ matchLabels: { app: 'podinfo-primary' } });
  });

  it('a DaemonSet with a weighted provider (Istio): weights as for a Deployment', () => {
    const f = render({ provider: Provider.istio(), state: stage('Progressing', { canaryWeight: 100, primary: OLD }) });
    expect(f.get('VirtualService', 'podinfo').spec.http.at(-1).route.map((r: Json) => r.weight)).toEqual([0, 100]);
  });

  it('refuses an OnDelete updateStrategy (createPrimaryDaemonSet: must have RollingUpdate strategy)', () => {
    const problems = build({ strategy: { type: 'OnDelete' } }).canary.validateProblems();
    expect(problems).toEqual([{ path: 'target', message: expect.stringContaining('spec.updateStrategy.type must be RollingUpdate for a DaemonSet target (got OnDelete)') }]);
  });

  it('refuses an autoscaler: a DaemonSet has no replicas to scale', () => {
    const problems = build({ autoscaler: true }).canary.validateProblems();
    expect(problems).toEqual([{ path: 'autoscaler', message: expect.stringContaining('cannot be used with a DaemonSet target') }]);
  });

  it('is byte-identical across runs', () => {
    const a = render({ state: stage('Initialized', { primary: NEW }) });
    const b = render({ state: stage('Initialized', { primary: NEW }) });
    expect([...a.files.entries()]).toEqual([...b.files.entries()]);
  });
});

describe('a DaemonSet target that already carries the scale-to-zero node selector', () => {
  it('is the same revision as without it (HasTargetChanged ignores it) and the primary never gets it', () => {
    const props = daemonSetProps();
    const withKey = daemonSetProps();
    withKey.spec!.template.spec!.nodeSelector!['flagger.app/scale-to-zero'] = 'true';
    const revisionOf = (p: k8s.KubeDaemonSetProps) => {
      const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
      const chart = new Chart(app, 'podinfo', { namespace: 'test' });
      const c = new Canary(chart, 'canary', { target: new k8s.KubeDaemonSet(chart, 'podinfo', p), service: { port: 9898 }, provider: Provider.kubernetes(), analysis: { iterations: 5 }, stateDir: NO_STATE_DIR });
      const f = renderOne(app);
      return { revision: c.plan!.canary.revision, primary: f.get('DaemonSet', 'podinfo-primary').spec.template.spec.nodeSelector, target: f.get('DaemonSet', 'podinfo').spec.template.spec.nodeSelector };
    };
    expect(revisionOf(withKey)).toEqual(revisionOf(props));
    // Initializing: the target serves, so ScaleFromZero's removal applies to it too.
    expect(revisionOf(withKey)).toMatchObject({ primary: { 'kubernetes.io/os': 'linux' }, target: { 'kubernetes.io/os': 'linux' } });
  });
});
