import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { ApiObject, App, Chart } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { Canary } from '../../src/constructs/canary';
import { CanaryApp } from '../../src/constructs/canary-app';
import { Provider } from '../../src/constructs/provider';
import { CanaryAnalysisOptions } from '../../src/constructs/analysis-options';
import { CanaryState } from '../../src/model/state';
import { Json } from '../../src/constructs/workload/deployment-json';
import { formatGoDuration, parseGoDuration } from '../../src/providers/apisix-go';
import { addTarget, newPrimary, NO_STATE_DIR, phaseCases, readFolder, removeTempDirs, RenderedFolder, renderOne, stage, tempDir } from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems } from './manifest-validator';

// Flagger pkg/router/apisix.go (Reconcile clones the user's ApisixRoute into `<route>-<svc>-canary`
// with the apex backend split into primary at 100 and canary at 0; SetRoutes sets both weights)
// rendered per committed stage.

afterAll(removeTempDirs);
const execFileAsync = promisify(execFile);

/** The user's ApisixRoute of Flagger's APISIX tutorial (service port 80 of the apex `podinfo`). */
const userRoute = (): Json => ({
  apiVersion: 'apisix.apache.org/v2',
  kind: 'ApisixRoute',
  metadata: { name: 'podinfo', labels: { team: 'web' }, annotations: { 'example.com/owner': 'web' } },
  spec: {
    http: [
      {
        name: 'method',
        match: { hosts: ['app.example.com'], methods: ['GET'], paths: ['/*'] },
        backends: [{ serviceName: 'podinfo', servicePort: 80 }],
        plugins: [{ name: 'prometheus', enable: true, config: { disable: false, prefer_name: true } }],
      },
    ],
  },
});

interface Opts {
  analysis?: CanaryAnalysisOptions;
  state?: CanaryState;
  route?: Json;
}
function app(o: Opts = {}, outdir?: string): CanaryApp {
  const a = new CanaryApp({ outdir: outdir ?? path.join(tempDir(), 'out') });
  const chart = new Chart(a as App, 'podinfo', { namespace: 'test' });
  const target = addTarget(chart, 'l1');
  const route = new ApiObject(chart, 'route', (o.route ?? userRoute()) as any);
  new Canary(chart, 'canary', {
    target,
    service: { port: 80, targetPort: 9898 },
    provider: Provider.apisix({ route }),
    analysis: o.analysis ?? { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    stateDir: NO_STATE_DIR,
  });
  return a;
}
const renderApisix = (o: Opts = {}): RenderedFolder => renderOne(app(o));

/** The canary HTTP route Flagger writes for the tutorial's route at primary/canary weights. */
const canaryHttp = (primary: number, canary: number): Json => ({
  name: 'method',
  priority: 10000,
  match: { hosts: ['app.example.com'], methods: ['GET'], paths: ['/*'] },
  backends: [
    { serviceName: 'podinfo-primary', servicePort: 80, weight: primary },
    { serviceName: 'podinfo-canary', servicePort: 80, weight: canary },
  ],
  websocket: false,
  plugins: [{ name: 'prometheus', enable: true, config: { disable: false, prefer_name: true } }],
});

function schemaProblems(f: RenderedFolder): string[] {
  return f.objects.flatMap((o) => (o.apiVersion === 'apisix.apache.org/v2' ? strictSchemaProblems(o) : manifestProblems(o)));
}

function refusal(o: Opts): string {
  try {
    renderApisix(o);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

describe('APISIX canary ApisixRoute across the phases of a run (apisix.go Reconcile / SetRoutes)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderApisix({ state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ApisixRoute/podinfo', 'ApisixRoute/podinfo-podinfo-canary', 'Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary',
    ]);
    expect(f.get('ApisixRoute', 'podinfo-podinfo-canary')).toEqual({
      apiVersion: 'apisix.apache.org/v2',
      kind: 'ApisixRoute',
      metadata: { name: 'podinfo-podinfo-canary', namespace: 'test', labels: { team: 'web' }, annotations: { 'example.com/owner': 'web' } },
      spec: { http: [canaryHttp(c.primaryWeight, c.canaryWeight)] },
    });
    // The user's route is left as it is.
    expect(f.get('ApisixRoute', 'podinfo').spec).toEqual(userRoute().spec);
    expect(schemaProblems(f)).toEqual([]);
    expect(f.plan?.routing).toEqual({ flaggerName: 'apisix', shiftsWeights: true, promotionSteps: true });
  });

  it('the plan\'s built-in metrics select the canary route through {{ route }} (the ApisixRoute name)', () => {
    const route = userRoute();
    route.metadata.name = 'edge';
    const f = renderApisix({ route });
    expect(f.find('ApisixRoute', 'edge-podinfo-canary')).toBeDefined();
    for (const m of f.plan!.metrics) expect(m.query).toContain('route=~"test_edge-podinfo-canary_.+"');
  });

  it('Promoting with stepWeightPromotion: the committed step weight (40/60)', () => {
    const f = renderApisix({ analysis: { stepWeight: 10, maxWeight: 100, stepWeightPromotion: 40 }, state: stage('Promoting', { canaryWeight: 60, primary: newPrimary() }) });
    expect(f.get('ApisixRoute', 'podinfo-podinfo-canary').spec.http[0].backends.map((b: Json) => b.weight)).toEqual([40, 60]);
  });

  it('blue/green: the primary at 0 and the canary at 100', () => {
    const f = renderApisix({ analysis: { iterations: 5 }, state: stage('Progressing', { canaryWeight: 100, iterations: 1 }) });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.get('ApisixRoute', 'podinfo-podinfo-canary').spec).toEqual({ http: [canaryHttp(0, 100)] });
  });

  it('only the HTTP route of the apex Service is kept; stream routes are copied; the route is written as Flagger\'s Go types encode it', () => {
    const route = userRoute();
    route.spec.http.unshift({ name: 'other', match: { paths: ['/other'] }, backends: [{ serviceName: 'other', servicePort: 80 }] });
    route.spec.http[1] = {
      name: 'method',
      priority: 3,
      timeout: { read: '1m', send: '1500ms' },
      match: { paths: ['/*'], methods: [], exprs: [{ subject: { scope: 'Path' }, op: 'RegexMatch', value: '^/api' }] },
      backends: [{ serviceName: 'podinfo', servicePort: 'http', resolveGranularity: 'service', subset: 'v1' }],
      websocket: true,
      plugins: [{ name: 'cors' }],
      authentication: { enable: true, type: 'keyAuth' },
    };
    route.spec.stream = [{ name: 'tcp', protocol: 'TCP', match: { ingressPort: 9100 }, backend: { serviceName: 'tcp', servicePort: 9100 } }];
    const f = renderApisix({ route });
    const spec = f.get('ApisixRoute', 'podinfo-podinfo-canary').spec;
    expect(spec).toEqual({
      http: [
        {
          name: 'method',
          priority: 10000,
          timeout: { connect: '0s', send: '1.5s', read: '1m0s' },
          match: { paths: ['/*'], exprs: [{ subject: { scope: 'Path', name: '' }, op: 'RegexMatch', value: '^/api' }] },
          backends: [
            { serviceName: 'podinfo-primary', servicePort: 'http', resolveGranularity: 'service', weight: 100, subset: 'v1' },
            { serviceName: 'podinfo-canary', servicePort: 'http', resolveGranularity: 'service', weight: 0, subset: 'v1' },
          ],
          websocket: true,
          // The CRD defaults `enable` to true, so Flagger reads it set.
          plugins: [{ name: 'cors', enable: true }],
          authentication: { enable: true, type: 'keyAuth', keyAuth: {}, jwtAuth: {} },
        },
      ],
      stream: [{ name: 'tcp', protocol: 'TCP', match: { ingressPort: 9100 }, backend: { serviceName: 'tcp', servicePort: 9100 } }],
    });
    // (The user's route omits the plugin's `enable`, which only the API server's defaulting fills in.)
    expect(strictSchemaProblems(f.get('ApisixRoute', 'podinfo-podinfo-canary'))).toEqual([]);
  });

  it('Go duration text as metav1.Duration re-encodes it', () => {
    expect(['0', '1m', '90s', '1h', '1.5s', '250ms', '1h30m', '2m3.25s', '1500us', '7ns'].map((t) => formatGoDuration(parseGoDuration(t)!))).toEqual([
      '0s', '1m0s', '1m30s', '1h0m0s', '1.5s', '250ms', '1h30m0s', '2m3.25s', '1.5ms', '7ns',
    ]);
    expect(parseGoDuration('5 seconds')).toBeUndefined();
  });

  it('user labels and annotations are copied as they are; none when the user route has none', () => {
    const route = userRoute();
    delete route.metadata.labels;
    delete route.metadata.annotations;
    expect(renderApisix({ route }).get('ApisixRoute', 'podinfo-podinfo-canary').metadata).toEqual({ name: 'podinfo-podinfo-canary', namespace: 'test' });
  });

  const edited = (edit: (r: Json) => void): Json => {
    const r = userRoute();
    edit(r);
    return r;
  };
  it.each([
    ['A/B match', { analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] } }, 'analysis.match: provider apisix cannot route by request attributes'],
    ['mirror', { analysis: { stepWeight: 10, maxWeight: 50, mirror: true } }, 'analysis.mirror: provider apisix cannot mirror traffic'],
    ['session affinity', { analysis: { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: 'c' } } }, 'analysis.sessionAffinity: provider apisix has no session affinity'],
    ['a route without HTTP routes', { route: edited((r) => (r.spec.http = [])) }, 'provider.apisix.route: ApisixRoute "podinfo" has no spec.http routes'],
    ['a route without the apex backend', { route: edited((r) => (r.spec.http[0].backends[0].serviceName = 'web')) }, 'has no HTTP route with a backend serviceName "podinfo"'],
    ['two backends', { route: edited((r) => r.spec.http[0].backends.push({ serviceName: 'web', servicePort: 80 })) }, 'HTTP route "method" of ApisixRoute "podinfo" must have exactly one backend'],
    ['another kind', { route: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'podinfo' }, spec: {} } }, 'provider.apisix.route: must be an apisix.apache.org/v2 ApisixRoute'],
    ['a canary route name over 253 characters', { route: edited((r) => (r.metadata.name = 'r'.repeat(240))) }, 'is longer than 253 characters'],
    ['another namespace', { route: edited((r) => (r.metadata.namespace = 'edge')) }, 'is in namespace "edge"; Flagger reads it from the canary\'s namespace "test"'],
    [
      'fields Flagger\'s types lack',
      { route: edited((r) => Object.assign(r.spec, { ingressClassName: 'apisix' }) && Object.assign(r.spec.http[0].plugins[0], { secretRef: 's' }) && Object.assign(r.spec.http[0].match, { filter_func: 'f' })) },
      'sets spec.ingressClassName, spec.http[0].match.filter_func, spec.http[0].plugins[0].secretRef, which Flagger\'s APISIX types lack',
    ],
  ] as const)('%s is refused at synth time', (_label, o, message) => {
    expect(refusal(o as Opts)).toContain(message);
  });

  it('each output folder builds with kubectl kustomize', async () => {
    const out = tempDir('canarykit-apisix-kustomize-');
    for (const [i, state] of [undefined, stage('Progressing', { canaryWeight: 30 })].entries()) {
      app({ state }, path.join(out, String(i))).synth();
      const dir = path.join(out, String(i), 'test', 'podinfo');
      const built = (await execFileAsync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).stdout;
      expect(built.match(/^kind: ApisixRoute$/gm)?.length).toBe(2);
      expect(built.split(/^---$/m).length).toBe(fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
      const files = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));
      expect(readFolder(dir, files).get('ApisixRoute', 'podinfo-podinfo-canary').spec.http[0].backends[1].weight).toBe(i === 0 ? 0 : 30);
    }
  });
});
