import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { CanaryState } from '../../src/model/state';
import { fixture, newPrimary, phaseCases, removeTempDirs, render, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems } from './manifest-validator';

// Flagger pkg/router/traefik.go (Reconcile creates the primary alone at 100; SetRoutes lists the
// canary only while its weight is above 0) rendered per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

interface Opts {
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  apex?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}
const renderTraefik = (o: Opts = {}): RenderedFolder =>
  render({
    canary: { provider: Provider.traefik() },
    analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    service: o.apex ? { apex: o.apex } : undefined,
  });

/** The weighted services Flagger writes for primary/canary weights (`weight` omitted when 0). */
function services(primary: number, canary: number): Record<string, unknown>[] {
  const s = (name: string, weight: number) => ({ name, namespace: 'test', port: 9898, ...(weight ? { weight } : {}) });
  return canary > 0 ? [s('podinfo-primary', primary), s('podinfo-canary', canary)] : [s('podinfo-primary', primary)];
}

function schemaProblems(f: RenderedFolder): string[] {
  return f.objects.flatMap((o) => (o.apiVersion === 'traefik.io/v1alpha1' ? strictSchemaProblems(o) : manifestProblems(o)));
}

describe('Traefik TraefikService across the phases of a run (traefik.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderTraefik({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary', 'TraefikService/podinfo',
    ]);
    expect(f.get('TraefikService', 'podinfo')).toEqual({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'TraefikService',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { weighted: { services: services(c.primaryWeight, c.canaryWeight) } },
    });
    expect(schemaProblems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'traefik', shiftsWeights: true, promotionSteps: true });
  });

  it('Promoting with stepWeightPromotion: the committed step weight (40/60)', () => {
    const f = renderTraefik({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 40 }, state: stage('Promoting', { canaryWeight: 60, primary: newPrimary() }) });
    expect(f.get('TraefikService', 'podinfo').spec.weighted.services).toEqual(services(40, 60));
  });

  it('blue/green: the canary at 100 and the primary listed without a weight, as Flagger writes it', () => {
    const f = renderTraefik({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('TraefikService', 'podinfo').spec.weighted.services).toEqual([
      { name: 'podinfo-primary', namespace: 'test', port: 9898 },
      { name: 'podinfo-canary', namespace: 'test', port: 9898, weight: 100 },
    ]);
    expect(schemaProblems(f)).toEqual([]);
  });

  it('apex labels and annotations are set on the TraefikService', () => {
    const f = renderTraefik({ apex: { labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } } });
    expect(f.get('TraefikService', 'podinfo').metadata).toEqual({ name: 'podinfo', namespace: 'test', labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } });
  });

  it.each([
    ['A/B match', { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, 'analysis.match', 'provider traefik cannot route by request attributes'],
    ['mirror', { stepWeight: 10, maxWeight: 50, mirror: true }, 'analysis.mirror', 'provider traefik cannot mirror traffic'],
    ['session affinity', { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } }, 'analysis.sessionAffinity', 'provider traefik has no session affinity'],
  ] as const)('%s is refused at synth time', (_label, analysis, where, message) => {
    let error: unknown;
    try {
      renderTraefik({ analysis: analysis as CanaryAnalysisOptions });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(where);
    expect((error as ValidationError).message).toContain(message);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    const out = tempDir('canarykit-traefik-kustomize-');
    for (const [i, state] of [undefined, stage('Progressing', { canaryWeight: 30 })].entries()) {
      fixture({ canary: { provider: Provider.traefik() }, analysis: { stepWeight: 10, maxWeight: 50 }, state }, path.join(out, String(i))).app.synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built).toContain('kind: TraefikService');
      expect(built.split(/^---$/m).length).toBe(fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
    }
  });
});
