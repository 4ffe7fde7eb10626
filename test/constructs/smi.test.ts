import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { Provider } from '../../src/constructs/provider';
import { ValidationError } from '../../src/errors';
import { promotionStepWeight } from '../../src/machine/weights';
import {
  FixtureOptions,
  RenderedFolder,
  fixture,
  newPrimary,
  phaseCases,
  readFolder,
  removeTempDirs,
  render,
  stage,
  tempDir,
} from '../support/construct-fixtures';
import { manifestProblems } from './manifest-validator';

afterAll(removeTempDirs);

// Flagger pkg/router/factory.go MeshRouter: linkerd -> SmiRouter (smi.go, v1alpha1), osm ->
// Smiv1alpha2Router (smi_v1alpha2.go), smi:v1alphaN -> the router of that version.
const CASES = [
  { label: 'linkerd', make: () => Provider.linkerd(), apiVersion: 'split.smi-spec.io/v1alpha1', flaggerName: 'linkerd' },
  { label: 'osm', make: () => Provider.osm(), apiVersion: 'split.smi-spec.io/v1alpha2', flaggerName: 'osm' },
  { label: 'smi:v1alpha1', make: () => Provider.smi({ apiVersion: 'v1alpha1' }), apiVersion: 'split.smi-spec.io/v1alpha1', flaggerName: 'smi:v1alpha1' },
  { label: 'smi:v1alpha2', make: () => Provider.smi({ apiVersion: 'v1alpha2' }), apiVersion: 'split.smi-spec.io/v1alpha2', flaggerName: 'smi:v1alpha2' },
  { label: 'smi:v1alpha3', make: () => Provider.smi({ apiVersion: 'v1alpha3' }), apiVersion: 'split.smi-spec.io/v1alpha3', flaggerName: 'smi:v1alpha3' },
] as const;

const WORKLOAD_OBJECTS = ['Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary'];

function smiRender(make: () => Provider, o: FixtureOptions = {}): RenderedFolder {
  return render({ analysis: { stepWeight: 10, maxWeight: 50 }, ...o, canary: { provider: make(), ...o.canary } });
}

function problemsOf(f: RenderedFolder): string[] {
  return f.objects.flatMap((o) => manifestProblems(o));
}

describe.each(CASES)('provider $label: one TrafficSplit across the phases (smi*.go Reconcile/SetRoutes)', ({ make, apiVersion, flaggerName }) => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = smiRender(make, { state: c.state });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([...WORKLOAD_OBJECTS, 'TrafficSplit/podinfo'].sort());
    const ts = f.get('TrafficSplit', 'podinfo');
    // Reconcile: named after the apex, root service the apex, no labels or annotations; canary backend first.
    expect(ts).toEqual({
      apiVersion,
      kind: 'TrafficSplit',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: {
        service: 'podinfo',
        backends: [
          { service: 'podinfo-canary', weight: c.canaryWeight },
          { service: 'podinfo-primary', weight: c.primaryWeight },
        ],
      },
    });
    expect(f.plan?.strategy).toBe('canary');
    expect(f.plan?.routing).toEqual({ flaggerName, shiftsWeights: true, promotionSteps: true });
    expect(problemsOf(f)).toEqual([]);
  });
});

describe('SMI providers: strategies and options', () => {
  it('blue/green (iterations): primary 100 during analysis, all traffic to the canary at the switch (scheduler.go runBlueGreen)', () => {
    const analysis = { iterations: 5 };
    const during = smiRender(() => Provider.linkerd(), { analysis, state: stage('Progressing', { canaryWeight: 0, iterations: 2 }) });
    expect(during.plan?.strategy).toBe('blue-green');
    expect(during.get('TrafficSplit', 'podinfo').spec.backends.map((b: any) => b.weight)).toEqual([0, 100]);
    const switched = smiRender(() => Provider.linkerd(), { analysis, state: stage('Progressing', { canaryWeight: 100, iterations: 5 }) });
    expect(switched.get('TrafficSplit', 'podinfo').spec.backends).toEqual([
      { service: 'podinfo-canary', weight: 100 },
      { service: 'podinfo-primary', weight: 0 },
    ]);
  });

  it('Promoting with stepWeightPromotion: the machine steps the weight back (scheduler.go runPromotionTrafficShift) and the split follows', () => {
    const f = smiRender(() => Provider.osm(), {
      analysis: { stepWeight: 10, maxWeight: 50, stepWeightPromotion: 20 },
      state: stage('Promoting', { canaryWeight: 30, primary: newPrimary() }),
    });
    expect(f.plan?.analysis.stepWeightPromotion).toBe(20);
    expect(promotionStepWeight(f.plan!, 50)).toBe(30);
    expect(f.get('TrafficSplit', 'podinfo').spec.backends.map((b: any) => b.weight)).toEqual([30, 70]);
  });

  it('the first host becomes the root service (Reconcile: hosts[0], else the apex name)', () => {
    const f = smiRender(() => Provider.linkerd({ hosts: ['podinfo.test.svc.cluster.local', 'other'] }));
    expect(f.get('TrafficSplit', 'podinfo').spec.service).toBe('podinfo.test.svc.cluster.local');
  });

  it('mesh istio with gateways adds Istio\'s gateways annotation (makeAnnotations); other meshes never do', () => {
    const f = smiRender(() => Provider.smi({ apiVersion: 'v1alpha3', mesh: 'istio', gateways: ['public-gateway.istio-system.svc.cluster.local', 'mesh'] }));
    expect(f.get('TrafficSplit', 'podinfo').metadata.annotations).toEqual({
      'VirtualService.v1alpha3.networking.istio.io/spec.gateways': '["public-gateway.istio-system.svc.cluster.local","mesh"]',
    });
    expect(problemsOf(f)).toEqual([]);
    expect(() => smiRender(() => Provider.smi({ apiVersion: 'v1alpha3', mesh: 'linkerd', gateways: ['g'] }))).toThrow(/provider\.smiv1alpha3\.gateways: gateways are only written for mesh istio \(got mesh "linkerd"\)/);
  });

  it('a service name override renames the split and its backends', () => {
    const f = smiRender(() => Provider.smi({ apiVersion: 'v1alpha2' }), { service: { name: 'web' }, state: stage('Progressing', { canaryWeight: 20 }) });
    expect(f.get('TrafficSplit', 'web').spec).toEqual({
      service: 'web',
      backends: [
        { service: 'web-canary', weight: 20 },
        { service: 'web-primary', weight: 80 },
      ],
    });
  });

  // SetRoutes takes no match and drops the mirror flag; there is no cookie routing. Flagger would
  // run an A/B canary with all traffic on the canary; canarykit refuses at synth time instead.
  it.each([
    ['A/B match', { iterations: 5, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, /analysis\.match: provider linkerd cannot route by request/],
    ['mirroring', { iterations: 5, mirror: true }, /analysis\.mirror: provider linkerd cannot mirror traffic/],
    ['session affinity', { stepWeight: 10, sessionAffinity: { cookieName: 'c' } }, /analysis\.sessionAffinity: provider linkerd has no session affinity/],
  ] as const)('refuses %s naming the provider', (_l, analysis, message) => {
    let error: unknown;
    try {
      smiRender(() => Provider.linkerd(), { analysis: analysis as any });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  });

  it('the TrafficSplit schema rejects what Flagger would not write (negative control)', () => {
    const f = smiRender(() => Provider.linkerd());
    const ts = f.get('TrafficSplit', 'podinfo');
    expect(manifestProblems({ ...ts, spec: { ...ts.spec, backends: [{ service: 'x', weight: '50' }] } }).join()).toMatch(/weight/);
    expect(manifestProblems({ ...ts, spec: { backends: ts.spec.backends } }).join()).toMatch(/service/);
  });

  it('every phase folder of every SMI provider builds with kubectl kustomize', () => {
    const root = tempDir('canarykit-smi-kustomize-');
    let built = 0;
    for (const [i, c] of CASES.entries()) {
      for (const [j, p] of phaseCases().entries()) {
        const dir = path.join(root, `${i}-${j}`);
        const { app } = fixture({ analysis: { stepWeight: 10, maxWeight: 50 }, state: p.state, canary: { provider: c.make() } }, dir);
        app.synth();
        const folder = path.join(dir, 'test', 'podinfo');
        const files = new Map(fs.readdirSync(folder).map((n) => [n, fs.readFileSync(path.join(folder, n), 'utf8')]));
        const out = execFileSync('kubectl', ['kustomize', folder], { encoding: 'utf8' });
        expect(out.split(/^---$/m).length, folder).toBe(readFolder(folder, files).objects.length);
        expect(out).toContain(`apiVersion: ${c.apiVersion}\nkind: TrafficSplit`);
        built++;
      }
    }
    expect(built).toBe(CASES.length * phaseCases().length);
  });
});
