import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, describe, expect, it } from 'vitest';
import { Duration } from 'cdk8s';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { ContourOptions } from '../../src/providers/contour';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { CanaryState } from '../../src/model/state';
import { fixture, newPrimary, phaseCases, removeTempDirs, render, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems } from './manifest-validator';

// Flagger pkg/router/contour.go (Reconcile, SetRoutes, makeConditions, makeTimeoutPolicy,
// makeRetryPolicy, makeLinkerdHeaderValue) rendered per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

interface Opts {
  contour?: ContourOptions;
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  apex?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}
const renderContour = (o: Opts = {}): RenderedFolder =>
  render({
    canary: { provider: Provider.contour(o.contour) },
    analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    service: o.apex ? { apex: o.apex } : undefined,
  });

/** A service entry as Flagger's Go struct serializes it (`weight` omitted when 0). */
const svc = (name: string, weight: number): Record<string, unknown> => ({
  name,
  port: 9898,
  ...(weight ? { weight } : {}),
  requestHeadersPolicy: { set: [{ name: 'l5d-dst-override', value: `${name}.test.svc.cluster.local:9898` }] },
});

/** Every object of a folder valid: HTTPProxy against Contour's CRD, the rest under every validator. */
function schemaProblems(f: RenderedFolder): string[] {
  return f.objects.flatMap((o) => (o.apiVersion === 'projectcontour.io/v1' ? strictSchemaProblems(o) : manifestProblems(o)));
}

function synthError(o: Opts): ValidationError {
  try {
    renderContour(o);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('synth should have failed');
}

describe('Contour HTTPProxy across the phases of a run (contour.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderContour({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'HTTPProxy/podinfo', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
    ]);
    expect(f.get('HTTPProxy', 'podinfo')).toEqual({
      apiVersion: 'projectcontour.io/v1',
      kind: 'HTTPProxy',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { routes: [{ conditions: [{ prefix: '/' }], services: [svc('podinfo-primary', c.primaryWeight), svc('podinfo-canary', c.canaryWeight)] }] },
    });
    expect(schemaProblems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'contour', shiftsWeights: true, promotionSteps: true });
    expect(f.plan?.provider).toBe('contour');
  });

  it('Promoting with stepWeightPromotion: the committed step weight (70/30 after one 30% step from 100)', () => {
    const promoted = newPrimary();
    const f = renderContour({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 30 }, state: stage('Promoting', { canaryWeight: 70, primary: promoted }) });
    expect(f.get('HTTPProxy', 'podinfo').spec.routes[0].services).toEqual([svc('podinfo-primary', 30), svc('podinfo-canary', 70)]);
  });

  it('blue/green (iterations, no match): all traffic to the canary during the analysis, primary weight omitted', () => {
    const f = renderContour({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 2 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('HTTPProxy', 'podinfo').spec.routes).toEqual([{ conditions: [{ prefix: '/' }], services: [svc('podinfo-primary', 0), svc('podinfo-canary', 100)] }]);
    expect(schemaProblems(f)).toEqual([]);
  });

  it('output is byte-identical across runs', () => {
    const a = renderContour({ state: stage('Progressing', { canaryWeight: 20 }) });
    const b = renderContour({ state: stage('Progressing', { canaryWeight: 20 }) });
    expect([...a.files.entries()]).toEqual([...b.files.entries()]);
  });
});

describe('Contour A/B testing (makeConditions)', () => {
  const ab = (headers: Record<string, any>): CanaryAnalysisOptions => ({ iterations: 10, match: [{ headers }] });

  it('exact header: the header route carries the canary weight, the default route stays 100/0', () => {
    const boot = renderContour({ analysis: ab({ 'x-canary': { exact: 'insider' } }) });
    const run = renderContour({ analysis: ab({ 'x-canary': { exact: 'insider' } }), state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(run.plan?.strategy).toBe('ab-testing');
    const header = { prefix: '/', header: { name: 'x-canary', exact: 'insider' } };
    expect(boot.get('HTTPProxy', 'podinfo').spec.routes).toEqual([
      { conditions: [header], services: [svc('podinfo-primary', 100), svc('podinfo-canary', 0)] },
      { conditions: [{ prefix: '/' }], services: [svc('podinfo-primary', 100), svc('podinfo-canary', 0)] },
    ]);
    expect(run.get('HTTPProxy', 'podinfo').spec.routes).toEqual([
      { conditions: [header], services: [svc('podinfo-primary', 0), svc('podinfo-canary', 100)] },
      { conditions: [{ prefix: '/' }], services: [svc('podinfo-primary', 100), svc('podinfo-canary', 0)] },
    ]);
    expect(schemaProblems(run)).toEqual([]);
  });

  it('a prefix match becomes Contour `contains`, as Flagger renders it, under the service path prefix', () => {
    const f = renderContour({ contour: { pathPrefix: '/api' }, analysis: ab({ 'user-agent': { prefix: 'Android' } }), state: stage('Progressing', { canaryWeight: 100 }) });
    const routes = f.get('HTTPProxy', 'podinfo').spec.routes;
    expect(routes[0].conditions).toEqual([{ prefix: '/api', header: { name: 'user-agent', contains: 'Android' } }]);
    expect(routes[1].conditions).toEqual([{ prefix: '/api' }]);
  });

  it.each([
    ['regex header', ab({ 'x-canary': { regex: '^ins.*' } }), 'analysis.match[0].headers.x-canary', 'regex is not supported'],
    ['two headers', { iterations: 10, match: [{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }] }, 'analysis.match', 'one header match per canary'],
    ['a uri match', { iterations: 10, match: [{ uri: { prefix: '/x' } }] }, 'analysis.match[0]', 'matches headers only'],
  ] as const)('%s is refused at synth time', (_label, analysis, where, message) => {
    const e = synthError({ analysis: analysis as CanaryAnalysisOptions });
    expect(e.message).toContain(where);
    expect(e.message).toContain(message);
    expect(e.message).toContain('contour');
  });
});

describe('Contour options and refused features', () => {
  it('timeout (idle 5m), retries (retryOn split), ingressClass and apex metadata', () => {
    const f = renderContour({
      contour: {
        timeout: Duration.seconds(15),
        retries: { attempts: 3, perTryTimeout: Duration.millis(500), retryOn: 'gateway-error,connect-failure' },
        ingressClass: 'contour-internal',
      },
      apex: { labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } },
      state: stage('Progressing', { canaryWeight: 20 }),
    });
    const proxy = f.get('HTTPProxy', 'podinfo');
    expect(proxy.metadata).toEqual({ name: 'podinfo', namespace: 'test', labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } });
    expect(proxy.spec).toEqual({
      ingressClassName: 'contour-internal',
      routes: [
        {
          conditions: [{ prefix: '/' }],
          timeoutPolicy: { response: '15s', idle: '5m' },
          retryPolicy: { count: 3, perTryTimeout: '500ms', retryOn: ['gateway-error', 'connect-failure'] },
          services: [svc('podinfo-primary', 80), svc('podinfo-canary', 20)],
        },
      ],
    });
    expect(schemaProblems(f)).toEqual([]);
  });

  it.each([
    ['mirror', { analysis: { stepWeight: 10, maxWeight: 50, mirror: true } }, 'analysis.mirror', 'provider contour cannot mirror traffic'],
    ['session affinity', { analysis: { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } } }, 'analysis.sessionAffinity', 'provider contour has no session affinity'],
    ['an unknown retryOn', { contour: { retries: { attempts: 1, retryOn: '5xx,retriable-5xx' } } }, 'provider.contour.retries.retryOn', '"retriable-5xx" is not a Contour retry condition'],
    ['a relative pathPrefix', { contour: { pathPrefix: 'api' } }, 'provider.contour.pathPrefix', 'must start with "/"'],
  ] as const)('%s is refused at synth time', (_label, o, where, message) => {
    const e = synthError(o as Opts);
    expect(e.message).toContain(where);
    expect(e.message).toContain(message);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    const out = tempDir('canarykit-contour-kustomize-');
    const cases: Opts[] = [{}, { state: stage('Progressing', { canaryWeight: 30 }) }, { analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, state: stage('Progressing', { canaryWeight: 100 }) }];
    for (const [i, o] of cases.entries()) {
      const { app } = fixture({ canary: { provider: Provider.contour(o.contour) }, analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 }, state: o.state }, path.join(out, String(i)));
      app.synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built).toContain('kind: HTTPProxy');
      const manifests = fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml');
      expect(built.split(/^---$/m).length).toBe(manifests.length);
    }
  });
});
