import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import Ajv from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { KumaOptions } from '../../src/providers/kuma';
import { CanaryState } from '../../src/model/state';
import { Json } from '../../src/constructs/workload/deployment-json';
import { CanaryApp } from '../../src/constructs/canary-app';
import { addPodinfoChart, fixture, newPrimary, phaseCases, removeTempDirs, render, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems } from './manifest-validator';

// Flagger pkg/router/kuma.go (Reconcile creates the TrafficRoute at 100/0; SetRoutes rewrites
// conf.split with both weights) rendered per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

interface Opts {
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  kuma?: KumaOptions;
  apex?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}
const renderKuma = (o: Opts = {}): RenderedFolder =>
  render({
    canary: { provider: Provider.kuma(o.kuma) },
    analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    service: o.apex ? { apex: o.apex } : undefined,
  });

const tag = (svc: string): Record<string, string> => ({ 'kuma.io/service': `${svc}_test_svc_9898` });
/** The conf.split Flagger writes for primary/canary weights (both entries, 0 included). */
const split = (primary: number, canary: number): Json[] => [
  { weight: primary, destination: tag('podinfo-primary') },
  { weight: canary, destination: tag('podinfo-canary') },
];

/**
 * The fields of Kuma's TrafficRoute spec canarykit writes, closed (unknown fields rejected), after
 * Kuma's proto schema (kumahq/kuma docs/generated/raw/protos/TrafficRoute.json: TrafficRoute,
 * Selector, TrafficRoute.Conf, TrafficRoute.Split; `weight` is a uint32). The CRD gives `spec` no
 * schema, so this stands in for one.
 */
const tags = { type: 'object', additionalProperties: { type: 'string' } };
const TRAFFIC_ROUTE_SPEC = {
  type: 'object',
  additionalProperties: false,
  required: ['sources', 'destinations', 'conf'],
  properties: {
    sources: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { match: tags } } },
    destinations: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { match: tags } } },
    conf: {
      type: 'object',
      additionalProperties: false,
      properties: {
        split: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['weight', 'destination'],
            properties: { weight: { type: 'integer', minimum: 0, maximum: 4294967295 }, destination: tags },
          },
        },
      },
    },
  },
};
const validateSpec = new Ajv({ allErrors: true }).compile(TRAFFIC_ROUTE_SPEC);

function schemaProblems(f: RenderedFolder): string[] {
  return f.objects.flatMap((o) => {
    if (o.apiVersion !== 'kuma.io/v1alpha1') return manifestProblems(o);
    const problems = strictSchemaProblems(o);
    if (!validateSpec(o.spec)) problems.push(`TrafficRoute spec: ${JSON.stringify(validateSpec.errors)}`);
    return problems;
  });
}

describe('Kuma TrafficRoute across the phases of a run (kuma.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderKuma({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary', 'TrafficRoute/podinfo',
    ]);
    // Cluster-scoped: no metadata.namespace although the chart has one; the mesh is top level.
    expect(f.get('TrafficRoute', 'podinfo')).toEqual({
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'TrafficRoute',
      mesh: 'default',
      metadata: { name: 'podinfo' },
      spec: {
        sources: [{ match: { 'kuma.io/service': '*' } }],
        destinations: [{ match: tag('podinfo') }],
        conf: { split: split(c.primaryWeight, c.canaryWeight) },
      },
    });
    expect(schemaProblems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'kuma', shiftsWeights: true, promotionSteps: true });
  });

  it('Promoting with stepWeightPromotion: the committed step weight (40/60)', () => {
    const f = renderKuma({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 40 }, state: stage('Promoting', { canaryWeight: 60, primary: newPrimary() }) });
    expect(f.get('TrafficRoute', 'podinfo').spec.conf.split).toEqual(split(40, 60));
  });

  it('blue/green: the canary at 100 and the primary at 0, both listed', () => {
    const f = renderKuma({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('TrafficRoute', 'podinfo').spec.conf.split).toEqual(split(0, 100));
    expect(schemaProblems(f)).toEqual([]);
  });

  it('the mesh option and the apex labels and annotations reach the TrafficRoute', () => {
    const f = renderKuma({ kuma: { mesh: 'payments' }, apex: { labels: { tier: 'edge' }, annotations: { '9898.service.kuma.io/protocol': 'http' } } });
    const route = f.get('TrafficRoute', 'podinfo');
    expect(route.mesh).toBe('payments');
    expect(route.metadata).toEqual({ name: 'podinfo', labels: { tier: 'edge' }, annotations: { '9898.service.kuma.io/protocol': 'http' } });
  });

  it('service.name and service.port shape the kuma.io/service tags', () => {
    const f = render({ canary: { provider: Provider.kuma() }, service: { name: 'web', port: 80 } });
    expect(f.get('TrafficRoute', 'web').spec).toMatchObject({
      destinations: [{ match: { 'kuma.io/service': 'web_test_svc_80' } }],
      conf: { split: [{ weight: 100, destination: { 'kuma.io/service': 'web-primary_test_svc_80' } }, { weight: 0, destination: { 'kuma.io/service': 'web-canary_test_svc_80' } }] },
    });
  });

  it('the spec schema check rejects what Kuma does not define (it is not vacuous)', () => {
    expect(validateSpec({ sources: [], destinations: [], conf: { split: [{ weight: -1, destination: {} }] } })).toBe(false);
    expect(validateSpec({ sources: [], destinations: [], conf: { splits: [] } })).toBe(false);
  });

  it.each([
    ['A/B match', { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, undefined, 'analysis.match', 'provider kuma cannot route by request attributes'],
    ['mirror', { stepWeight: 10, maxWeight: 50, mirror: true }, undefined, 'analysis.mirror', 'provider kuma cannot mirror traffic'],
    ['session affinity', { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } }, undefined, 'analysis.sessionAffinity', 'provider kuma has no session affinity'],
    ['an empty mesh', { stepWeight: 10, maxWeight: 50 }, { mesh: '' }, 'provider.kuma.mesh', 'must name a Kuma mesh'],
  ] as const)('%s is refused at synth time', (_label, analysis, kuma, where, message) => {
    let error: unknown;
    try {
      renderKuma({ analysis: analysis as CanaryAnalysisOptions, kuma });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(where);
    expect((error as ValidationError).message).toContain(message);
  });

  it('two canaries whose apex Services share a name in different namespaces would share the cluster-scoped TrafficRoute: refused', () => {
    const app = new CanaryApp({ outdir: tempDir() });
    addPodinfoChart(app, { chartId: 'a', namespace: 'team-a', canary: { provider: Provider.kuma() } });
    addPodinfoChart(app, { chartId: 'b', namespace: 'team-b', canary: { provider: Provider.kuma() } });
    expect(() => app.render()).toThrow('[b]: writes the cluster-scoped TrafficRoute "podinfo", as does team-a/podinfo/; one object cannot belong to two canaries');
    const renamed = new CanaryApp({ outdir: tempDir() });
    addPodinfoChart(renamed, { chartId: 'a', namespace: 'team-a', canary: { provider: Provider.kuma() } });
    addPodinfoChart(renamed, { chartId: 'b', namespace: 'team-b', canary: { provider: Provider.kuma() }, service: { name: 'podinfo-b' } });
    expect(renamed.render().map((f) => f.dir)).toEqual(['team-a/podinfo', 'team-b/podinfo']);
  });

  it('each output folder builds with kubectl kustomize, the TrafficRoute still without a namespace', async () => {
    const out = tempDir('canarykit-kuma-kustomize-');
    for (const [i, state] of [undefined, stage('Progressing', { canaryWeight: 30 })].entries()) {
      fixture({ canary: { provider: Provider.kuma() }, analysis: { stepWeight: 10, maxWeight: 50 }, state }, path.join(out, String(i))).app.synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      const docs = built.split(/^---$/m).map((d) => parse(d) as Json);
      expect(docs.length).toBe(fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
      const route = docs.find((d) => d.kind === 'TrafficRoute')!;
      expect(route.metadata).toEqual({ name: 'podinfo' });
      expect(docs.filter((d) => d.kind !== 'TrafficRoute').every((d) => d.metadata.namespace === 'test')).toBe(true);
    }
  });
});
