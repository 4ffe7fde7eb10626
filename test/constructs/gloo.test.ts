import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { ApiObject, App, Chart } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { GlooOptions } from '../../src/providers/gloo';
import { CanaryState } from '../../src/model/state';
import { fixture, newPrimary, phaseCases, removeTempDirs, render, RenderedFolder, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems } from './manifest-validator';

// Flagger pkg/router/gloo.go (Reconcile: RouteTable <svc> with the primary at 100 and the two
// Upstreams from createFlaggerUpstream / getGlooUpstreamKubeService; SetRoutes: the same route
// with the stage's weights; getMatchers for A/B) rendered per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

interface Opts {
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  apex?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  gloo?: GlooOptions;
}
const renderGloo = (o: Opts = {}): RenderedFolder =>
  render({
    canary: { provider: Provider.gloo(o.gloo) },
    analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    service: o.apex ? { apex: o.apex } : undefined,
  });

const PRIMARY_US = 'test-podinfo-primaryupstream-9898';
const CANARY_US = 'test-podinfo-canaryupstream-9898';

/** The RouteTable destinations Flagger writes (`weight` omitted when 0, Go omitempty). */
function destinations(primary: number, canary: number): Record<string, unknown>[] {
  const d = (name: string, weight: number) => ({ destination: { upstream: { name, namespace: 'test' } }, ...(weight ? { weight } : {}) });
  return [d(PRIMARY_US, primary), d(CANARY_US, canary)];
}

function upstream(name: string, serviceName: string, selector: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: { name, namespace: 'test' },
    spec: { ...extra, kube: { serviceName, serviceNamespace: 'test', servicePort: 9898, selector: { app: selector } } },
  };
}

function schemaProblems(f: RenderedFolder): string[] {
  return f.objects.flatMap((o) => (/solo\.io\//.test(o.apiVersion) ? strictSchemaProblems(o) : manifestProblems(o)));
}

function refused(o: Opts): ValidationError {
  let error: unknown;
  try {
    renderGloo(o);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('Gloo RouteTable and Upstreams across the phases of a run (gloo.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderGloo({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/podinfo', 'Deployment/podinfo-primary', 'RouteTable/podinfo', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
      `Upstream/${CANARY_US}`, `Upstream/${PRIMARY_US}`,
    ]);
    expect(f.get('RouteTable', 'podinfo')).toEqual({
      apiVersion: 'gateway.solo.io/v1',
      kind: 'RouteTable',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { routes: [{ inheritablePathMatchers: true, routeAction: { multi: { destinations: destinations(c.primaryWeight, c.canaryWeight) } } }] },
    });
    // createFlaggerUpstream: the Services' own selectors, the Canary's service port.
    expect(f.get('Upstream', PRIMARY_US)).toEqual(upstream(PRIMARY_US, 'podinfo-primary', 'podinfo-primary'));
    expect(f.get('Upstream', CANARY_US)).toEqual(upstream(CANARY_US, 'podinfo-canary', 'podinfo'));
    expect(f.get('Service', 'podinfo-primary').spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(schemaProblems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'gloo', shiftsWeights: true, promotionSteps: true });
  });

  it('Promoting with stepWeightPromotion: the committed step weight (40/60)', () => {
    const f = renderGloo({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 40 }, state: stage('Promoting', { canaryWeight: 60, primary: newPrimary() }) });
    expect(f.get('RouteTable', 'podinfo').spec.routes[0].routeAction.multi.destinations).toEqual(destinations(40, 60));
  });

  it('blue/green: the canary at 100 and the primary without a weight, as Flagger writes it', () => {
    const f = renderGloo({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('RouteTable', 'podinfo').spec.routes[0].routeAction.multi.destinations).toEqual(destinations(0, 100));
    expect(schemaProblems(f)).toEqual([]);
  });

  it('A/B (getMatchers): headers of every match, then methods, in one matcher; exact as value, regex with regex: true', () => {
    const match = [{ headers: { 'x-canary': { exact: 'insider' }, 'user-agent': { regex: '.*Firefox.*' } } }, { method: { exact: 'GET' } }];
    for (const [state, weights] of [[undefined, [100, 0]], [stage('Progressing', { canaryWeight: 100, iterations: 2 }), [0, 100]]] as const) {
      const f = renderGloo({ analysis: { iterations: 10, match }, state });
      expect(f.plan?.strategy).toBe('ab-testing');
      expect(f.get('RouteTable', 'podinfo').spec.routes).toEqual([
        {
          matchers: [{ headers: [{ name: 'user-agent', value: '.*Firefox.*', regex: true }, { name: 'x-canary', value: 'insider' }], methods: ['GET'] }],
          routeAction: { multi: { destinations: destinations(weights[0], weights[1]) } },
          inheritablePathMatchers: true,
        },
      ]);
      expect(schemaProblems(f)).toEqual([]);
    }
  });

  it('apex labels and annotations are set on the RouteTable, not on the Upstreams', () => {
    const f = renderGloo({ apex: { labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } } });
    expect(f.get('RouteTable', 'podinfo').metadata).toEqual({ name: 'podinfo', namespace: 'test', labels: { tier: 'edge' }, annotations: { 'example.com/owner': 'web' } });
    expect(f.get('Upstream', PRIMARY_US).metadata).toEqual({ name: PRIMARY_US, namespace: 'test' });
  });

  it('upstreamRef (an Upstream in the app): its copied settings land in both Upstreams, zero values left out (getGlooUpstreamKubeService)', () => {
    const app = new App();
    const config = new ApiObject(new Chart(app, 'gloo-system', { namespace: 'gloo-system' }), 'config', {
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'config-upstream' },
      spec: {
        static: { hosts: [{ addr: 'example.com', port: 80 }] },
        connectionConfig: { connectTimeout: '2s', maxRequestsPerConnection: 51 },
        loadBalancerConfig: { roundRobin: { slowStartConfig: { slowStartWindow: '2m', minWeightPercent: 5, aggression: 0 } } },
        useHttp2: false,
        circuitBreakers: { maxConnections: 10 },
      },
    });
    const f = renderGloo({ gloo: { upstreamRef: config } });
    const copied = {
      circuitBreakers: { maxConnections: 10 },
      connectionConfig: { connectTimeout: '2s', maxRequestsPerConnection: 51 },
      loadBalancerConfig: { roundRobin: { slowStartConfig: { slowStartWindow: '2m', minWeightPercent: 5 } } },
    };
    expect(f.get('Upstream', PRIMARY_US)).toEqual(upstream(PRIMARY_US, 'podinfo-primary', 'podinfo-primary', copied));
    expect(f.get('Upstream', CANARY_US)).toEqual(upstream(CANARY_US, 'podinfo-canary', 'podinfo', copied));
    expect(schemaProblems(f)).toEqual([]);
  });

  it.each([
    ['A field Flagger\'s type lacks', { loadBalancerConfig: { ringHash: {} } }, 'spec.loadBalancerConfig.ringHash of the config Upstream: Flagger\'s Gloo router does not copy it'],
    ['httpProxyHostname (written as httpProxyHostName, pruned)', { httpProxyHostname: 'proxy' }, 'Flagger writes it as httpProxyHostName'],
    ['spec.labels (not in the Upstream CRD, pruned)', { labels: { team: 'web' } }, 'spec.labels of the config Upstream is lost'],
    ['an enum name where Flagger reads an int32', { sslConfig: { parameters: { minimumProtocolVersion: 'TLSv1_2' } } }, 'spec.sslConfig.parameters.minimumProtocolVersion of the config Upstream must be an integer'],
  ])('upstreamRef: %s is refused at synth time', (_label, spec, message) => {
    const e = refused({ gloo: { upstreamRef: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', metadata: { name: 'config', namespace: 'gloo-system' }, spec } } });
    expect(e.message).toContain('provider.gloo.upstreamRef');
    expect(e.message).toContain(message);
  });

  it.each([
    ['mirror', { stepWeight: 10, maxWeight: 50, mirror: true }, 'analysis.mirror', 'provider gloo cannot mirror traffic'],
    ['session affinity', { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } }, 'analysis.sessionAffinity', 'provider gloo has no session affinity'],
    ['a query parameter match', { iterations: 10, match: [{ queryParams: { q: { exact: '1' } } }] }, 'analysis.match[0]', 'provider gloo matches headers and method only'],
    ['a header prefix', { iterations: 10, match: [{ headers: { 'x-canary': { prefix: 'in' } } }] }, 'analysis.match[0].headers.x-canary', 'exact or regex only'],
    ['a method regex', { iterations: 10, match: [{ method: { regex: 'GET|HEAD' } }] }, 'analysis.match[0].method', 'matches the method exactly only'],
  ] as const)('%s is refused at synth time', (_label, analysis, where, message) => {
    const e = refused({ analysis: analysis as CanaryAnalysisOptions });
    expect(e.message).toContain(where);
    expect(e.message).toContain(message);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    const out = tempDir('canarykit-gloo-kustomize-');
    for (const [i, state] of [undefined, stage('Progressing', { canaryWeight: 30 })].entries()) {
      fixture({ canary: { provider: Provider.gloo() }, analysis: { stepWeight: 10, maxWeight: 50 }, state }, path.join(out, String(i))).app.synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built).toContain('kind: RouteTable');
      expect(built).toContain('kind: Upstream');
      expect(built.split(/^---$/m).length).toBe(fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
    }
  });
});
