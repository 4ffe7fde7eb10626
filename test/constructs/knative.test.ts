import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { Canary, CanaryProps } from '../../src/constructs/canary';
import { CanaryApp } from '../../src/constructs/canary-app';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { StrictInclude } from '../../src/constructs/include';
import { Provider } from '../../src/constructs/provider';
import { computeRevision } from '../../src/constructs/revision';
import { Json } from '../../src/constructs/workload/deployment-json';
import { Phase } from '../../src/model/phase';
import { CanaryState, PrimarySnapshot } from '../../src/model/state';
import { NO_STATE_DIR, readFolder, removeTempDirs, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { strictSchemaProblems } from './manifest-validator';

// Flagger pkg/canary/knative_controller.go (Initialize, Promote) and pkg/router/knative.go
// (SetRoutes) rendered per committed stage: a Canary whose target is a Knative Service, with
// Provider.knative(). No primary workload, no Services; the Service's own spec.traffic routes.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);
const OLD = 'ghcr.io/stefanprodan/podinfo:6.0.0';
const NEW = 'ghcr.io/stefanprodan/podinfo:6.0.1';

/** A Knative Service manifest for podinfo running `image`. */
function knativeService(image = NEW, templateName?: string): Json {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'podinfo', annotations: { 'example.com/team': 'web' } },
    spec: {
      template: {
        metadata: { ...(templateName ? { name: templateName } : {}), annotations: { 'autoscaling.knative.dev/min-scale': '1' } },
        spec: { containers: [{ image, ports: [{ containerPort: 9898 }] }] },
      },
    },
  };
}

/** The primary snapshot of a Knative template: no workload settings, no ConfigMaps. */
function snapshot(image: string, templateName?: string): PrimarySnapshot {
  const template = knativeService(image, templateName).spec.template;
  return { revision: computeRevision(template, {}), template, workload: {}, annotations: {}, configMaps: {} };
}
const rev = (image: string): string => `podinfo-${snapshot(image).revision.slice(0, 10)}`;

interface Opts {
  state?: CanaryState;
  analysis?: CanaryAnalysisOptions;
  target?: (chart: Chart) => IConstruct;
  canary?: Partial<CanaryProps>;
  outdir?: string;
}
function build(o: Opts = {}): CanaryApp {
  const app = new CanaryApp({ outdir: o.outdir ?? path.join(tempDir(), 'out') });
  const chart = new Chart(app, 'podinfo', { namespace: 'test' });
  const target = o.target ? o.target(chart) : new ApiObject(chart, 'svc', knativeService() as any);
  new Canary(chart, 'canary', { target, provider: Provider.knative(), analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 }, state: o.state, stateDir: NO_STATE_DIR, ...o.canary });
  return app;
}
function render(o: Opts = {}): RenderedFolder {
  const [f, ...rest] = build(o).render();
  expect(rest).toEqual([]);
  return readFolder(f.dir, f.files);
}
const at = (phase: Phase, canaryWeight: number, promoted: boolean, extra: Partial<CanaryState> = {}): CanaryState => ({
  ...stage(phase, { canaryWeight, primary: snapshot(promoted ? NEW : OLD), canaryRevision: snapshot(NEW).revision }),
  ...extra,
});
const traffic = (canary: number, primary: string, primaryWeight: number) => [
  { latestRevision: true, percent: canary },
  { revisionName: primary, percent: primaryWeight },
];

describe('Knative Service across the phases of a run (knative_controller.go, knative.go SetRoutes)', () => {
  it.each([
    // Initialize: the first revision is the primary, 100% to it, the latest (itself) at 0.
    ['Initializing (bootstrap)', undefined, NEW, 0, 100],
    ['Initialized', at('Initialized', 0, true), NEW, 0, 100],
    ['Progressing at 20', at('Progressing', 20, false), OLD, 20, 80],
    ['WaitingPromotion at max weight', at('WaitingPromotion', 50, false), OLD, 50, 50],
    // Promote moved the annotation to the latest revision before Promoting.
    ['Promoting', at('Promoting', 50, true), NEW, 50, 50],
    ['Finalising', at('Finalising', 0, true), NEW, 0, 100],
    ['Succeeded', at('Succeeded', 0, true), NEW, 0, 100],
    ['Failed (rolled back)', at('Failed', 0, false, { failedChecks: 5 }), OLD, 0, 100],
  ] as const)('%s', (_label, state, primaryImage, canaryWeight, primaryWeight) => {
    const f = render({ state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/podinfo']);
    const svc = f.get('Service', 'podinfo');
    expect(svc.metadata).toEqual({ name: 'podinfo', namespace: 'test', annotations: { 'example.com/team': 'web', 'flagger.app/primary-revision': rev(primaryImage) } });
    expect(svc.spec.template.metadata).toEqual({ name: rev(NEW), annotations: { 'autoscaling.knative.dev/min-scale': '1' } });
    expect(svc.spec.template.spec.containers[0].image).toBe(NEW);
    expect(svc.spec.traffic).toEqual(traffic(canaryWeight, rev(primaryImage), primaryWeight));
    expect(svc.spec.replicas).toBeUndefined();
    expect(strictSchemaProblems(svc)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'knative', shiftsWeights: true, promotionSteps: true });
    expect(f.plan?.revisions).toEqual({ primary: rev(primaryImage), canary: rev(NEW) });
    expect(f.plan?.canary.revision).toBe(snapshot(NEW).revision);
  });

  it('the built-in metrics select the latest revision\'s Envoy cluster ({{ route }})', () => {
    const f = render({ analysis: { stepWeight: 10, maxWeight: 50, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }, { name: 'request-duration', thresholdRange: { max: 500 } }] }, state: at('Progressing', 10, false) });
    expect(f.plan?.metrics.map((m) => m.query.match(/envoy_cluster_name=~"[^"]+"/)?.[0])).toEqual([`envoy_cluster_name=~"test/${rev(NEW)}"`, `envoy_cluster_name=~"test/${rev(NEW)}"`]);
  });

  it('an included YAML Service renders the same as an ApiObject', () => {
    const file = path.join(tempDir(), 'service.yaml');
    fs.writeFileSync(file, JSON.stringify(knativeService()));
    const included = render({ target: (chart) => new StrictInclude(chart, 'svc', { url: file }).apiObjects[0], state: at('Progressing', 20, false) });
    expect(included.get('Service', 'podinfo')).toEqual(render({ state: at('Progressing', 20, false) }).get('Service', 'podinfo'));
  });

  it('blue/green: after the iterations all traffic goes to the latest revision', () => {
    const f = render({ analysis: { iterations: 3 }, state: at('Progressing', 100, false, { iterations: 4 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('Service', 'podinfo').spec.traffic).toEqual(traffic(100, rev(OLD), 0));
  });

  it('a revision name you set is kept; renaming with the template is how a new one starts', () => {
    const f = render({ target: (chart) => new ApiObject(chart, 'svc', knativeService(NEW, 'podinfo-v601') as any), state: at('Progressing', 20, false, { primary: snapshot(OLD, 'podinfo-v600') }) });
    expect(f.get('Service', 'podinfo').spec.traffic).toEqual(traffic(20, 'podinfo-v600', 80));
    expect(f.get('Service', 'podinfo').spec.template.metadata.name).toBe('podinfo-v601');
  });

  it.each([
    ['A/B match', { analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] } }, 'analysis.match', 'provider knative cannot route by request attributes'],
    ['mirror', { analysis: { stepWeight: 10, maxWeight: 50, mirror: true } }, 'analysis.mirror', 'provider knative cannot mirror traffic'],
    ['session affinity', { analysis: { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } } }, 'analysis.sessionAffinity', 'provider knative has no session affinity'],
    ['Services', { canary: { service: { port: 80 } } }, 'service', 'generates no Services'],
    ['config tracking', { canary: { configTracking: { enabled: false } } }, 'configTracking', 'makes no -primary ConfigMap copies'],
    ['a Deployment target', { target: (chart: Chart) => new ApiObject(chart, 'd', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'podinfo' }, spec: {} }) }, 'target', 'must be a serving.knative.dev/v1 Service with provider knative (got apps/v1 Deployment)'],
    ['a template renamed without the Service prefix', { target: (chart: Chart) => new ApiObject(chart, 'svc', knativeService(NEW, 'v601') as any) }, 'target', 'must start with "podinfo-"'],
    ['a changed template under the primary\'s name', { target: (chart: Chart) => new ApiObject(chart, 'svc', knativeService(NEW, 'podinfo-v600') as any), state: at('Succeeded', 0, false, { primary: snapshot(OLD, 'podinfo-v600') }) }, 'target', 'names the primary revision, but the template changed'],
  ] as const)('%s is refused at synth time', (_label, o, where, message) => {
    let error: unknown;
    try {
      build(o as Opts).render();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(`${where}: `);
    expect((error as ValidationError).message).toContain(message);
  });

  it('a Knative Service is refused with another provider', () => {
    const app = new CanaryApp({ outdir: path.join(tempDir(), 'out') });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    new Canary(chart, 'canary', { target: new ApiObject(chart, 'svc', knativeService() as any), service: { port: 80 }, provider: Provider.traefik(), analysis: { stepWeight: 10, maxWeight: 50 }, stateDir: NO_STATE_DIR });
    expect(() => app.render()).toThrow(/target: must be an apps\/v1 Deployment or DaemonSet, or a v1 Service \(got serving.knative.dev\/v1 Service\)/);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    for (const state of [undefined, at('Progressing', 30, false)]) {
      const outdir = path.join(tempDir(), 'out');
      build({ state, outdir }).synth();
      const dir = path.join(outdir, 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built).toContain('flagger.app/primary-revision');
      expect(built.split(/^---$/m).length).toBe(1);
    }
  });
});
