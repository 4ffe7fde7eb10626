import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { Chart } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { CanaryState } from '../../src/model/state';
import { addIngress, fixture, newPrimary, phaseCases, removeTempDirs, render, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems } from './manifest-validator';

// Flagger pkg/router/skipper.go (Reconcile: the `<ingress>-canary` clone, apex paths pointed at
// the primary plus a canary copy, makeAnnotations; SetRoutes: backend-weights and, at canary
// weight 0, the False() predicate in place of Weight(100)) rendered per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

interface Opts {
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  ingress?: Parameters<typeof addIngress>[1];
}
const SKIPPER_INGRESS = { annotations: { 'kubernetes.io/ingress.class': 'skipper' } };
const providerIn = (o: Opts) => (chart: Chart) => Provider.skipper({ ingress: addIngress(chart, o.ingress ?? SKIPPER_INGRESS) });
const renderSkipper = (o: Opts = {}): RenderedFolder => render({ providerIn: providerIn(o), analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 }, state: o.state });

const weights = (primary: number, canary: number): string => `{"podinfo-canary":${canary},"podinfo-primary":${primary}}`;
const path0 = (service: string) => ({ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 9898 } } } });
const STATIC = { path: '/static', pathType: 'Prefix', backend: { service: { name: 'static-files', port: { number: 80 } } } };

describe('Skipper canary Ingress across the phases of a run (skipper.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderSkipper({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'Ingress/podinfo', 'Ingress/podinfo-canary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
    ]);
    // Reconcile alone runs while initializing (no False()); every later weight-0 SetRoutes disables the route.
    const off = c.canaryWeight === 0 && c.state !== undefined && c.state.phase !== 'Initialized';
    expect(f.get('Ingress', 'podinfo-canary')).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'podinfo-canary',
        namespace: 'test',
        annotations: {
          'kubernetes.io/ingress.class': 'skipper',
          'zalando.org/backend-weights': weights(c.primaryWeight, c.canaryWeight),
          'zalando.org/skipper-predicate': off ? 'False()' : 'Weight(100)',
        },
      },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'www.example.com', http: { paths: [path0('podinfo-primary'), STATIC, path0('podinfo-canary')] } }] },
    });
    // The user's Ingress is left as written, still pointing at the apex Service.
    expect(f.get('Ingress', 'podinfo').spec.rules[0].http.paths[0].backend.service.name).toBe('podinfo');
    expect(f.objects.flatMap(manifestProblems)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'skipper', shiftsWeights: true, promotionSteps: true });
    expect(f.plan?.ingressName).toBe('podinfo');
  });

  it('Promoting with stepWeightPromotion: the committed step weight (40/60)', () => {
    const f = renderSkipper({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 40 }, state: stage('Promoting', { canaryWeight: 60, primary: newPrimary() }) });
    expect(f.get('Ingress', 'podinfo-canary').metadata.annotations['zalando.org/backend-weights']).toBe(weights(40, 60));
  });

  it('blue/green: the canary at 100', () => {
    const f = renderSkipper({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('Ingress', 'podinfo-canary').metadata.annotations).toMatchObject({ 'zalando.org/backend-weights': weights(0, 100), 'zalando.org/skipper-predicate': 'Weight(100)' });
  });

  it('insertPredicate: Flagger\'s predicates go first, the user\'s follow; labels and other annotations are copied', () => {
    const ingress = { labels: { app: 'podinfo' }, annotations: { 'kubernetes.io/ingress.class': 'skipper', 'zalando.org/skipper-predicate': 'Header("X-Beta", "1") && Weight(100)' } };
    const f = renderSkipper({ ingress, state: stage('Failed', { failedChecks: 5 }) });
    const meta = f.get('Ingress', 'podinfo-canary').metadata;
    expect(meta.labels).toEqual({ app: 'podinfo' });
    expect(meta.annotations['zalando.org/skipper-predicate']).toBe('False() && Header("X-Beta", "1")');
  });

  it.each([
    ['A/B match', { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, undefined, 'analysis.match', 'provider skipper cannot route by request attributes'],
    ['mirror', { stepWeight: 10, maxWeight: 50, mirror: true }, undefined, 'analysis.mirror', 'provider skipper cannot mirror traffic'],
    ['session affinity', { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } }, undefined, 'analysis.sessionAffinity', 'provider skipper has no session affinity'],
    ['an Ingress without a path to the apex', { stepWeight: 10, maxWeight: 50 }, { ...SKIPPER_INGRESS, service: 'other' }, 'provider.skipper.ingress', 'has no rule path to the apex Service "podinfo"'],
  ] as const)('%s is refused at synth time', (_label, analysis, ingress, where, message) => {
    let error: unknown;
    try {
      renderSkipper({ analysis: analysis as CanaryAnalysisOptions, ingress });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(where);
    expect((error as ValidationError).message).toContain(message);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    const out = tempDir('canarykit-skipper-kustomize-');
    for (const [i, state] of [undefined, stage('Progressing', { canaryWeight: 30 })].entries()) {
      fixture({ providerIn: providerIn({}), analysis: { stepWeight: 10, maxWeight: 50 }, state }, path.join(out, String(i))).app.synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built).toContain('name: podinfo-canary');
      expect(built.split(/^---$/m).length).toBe(fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
    }
  });
});
