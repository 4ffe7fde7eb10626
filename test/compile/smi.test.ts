import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ValidationError } from '../../src';
import { compile, compileFiles } from '../../src/compile';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, compileFixture, tempDir, writeStage } from './support';

// `canarykit compile` of Flagger Canaries with spec.provider linkerd, osm and smi:v1alpha1/2/3
// (Flagger pkg/router/factory.go MeshRouter; smi.go, smi_v1alpha2.go, smi_v1alpha3.go).

let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const backends = (out: Output, dir: string, name: string): [string, number][] =>
  out.obj(dir, `trafficsplit-${name}`).spec.backends.map((b: any) => [b.service, b.weight]);

describe('podinfo on Linkerd (spec.provider linkerd)', () => {
  const dir = 'test/podinfo';

  it('bootstrap: an SMI v1alpha1 TrafficSplit named after the apex, all traffic on the primary', () => {
    const out = compileFixture('linkerd', stateDir);
    expect(out.files(dir).sort()).toEqual([
      'canary.plan.json',
      'deployment-podinfo-primary.yaml',
      'deployment-podinfo.yaml',
      'horizontalpodautoscaler-podinfo-primary.yaml',
      'horizontalpodautoscaler-podinfo.yaml',
      'kustomization.yaml',
      'service-podinfo-canary.yaml',
      'service-podinfo-primary.yaml',
      'service-podinfo.yaml',
      'trafficsplit-podinfo.yaml',
    ]);
    expect(out.obj(dir, 'trafficsplit-podinfo')).toEqual({
      apiVersion: 'split.smi-spec.io/v1alpha1',
      kind: 'TrafficSplit',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: {
        service: 'podinfo',
        backends: [
          { service: 'podinfo-canary', weight: 0 },
          { service: 'podinfo-primary', weight: 100 },
        ],
      },
    });
    // service.port 80 -> targetPort 9898 named http, plus the discovered metrics port.
    expect(out.obj(dir, 'service-podinfo').spec.ports).toEqual([
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 9898 },
      { name: 'http-metrics', port: 9797, protocol: 'TCP', targetPort: 9797 },
    ]);
  });

  it('the plan carries Linkerd routing facts and the linkerd observer queries', () => {
    const plan = compileFixture('linkerd', stateDir).plan(dir);
    expect(plan).toMatchObject({ provider: 'linkerd', strategy: 'canary', routing: { flaggerName: 'linkerd', shiftsWeights: true, promotionSteps: true } });
    expect(plan.analysis).toMatchObject({ intervalSeconds: 15, threshold: 10, maxWeight: 50, stepWeight: 5 });
    expect(plan.metrics.map((m) => m.query.replace(/\s+/g, ''))).toEqual([
      'sum(rate(response_total{namespace="test",deployment=~"podinfo",classification!="failure",direction="inbound"}[1m]))/sum(rate(response_total{namespace="test",deployment=~"podinfo",direction="inbound"}[1m]))*100',
      'histogram_quantile(0.99,sum(rate(response_latency_ms_bucket{namespace="test",deployment=~"podinfo",direction="inbound"}[30s]))by(le))',
    ]);
    expect(plan.webhooks.map((w) => [w.name, w.type])).toEqual([['conformance-test', 'pre-rollout'], ['load-test', 'rollout']]);
  });

  it.each([
    ['Initialized', { phase: 'Initialized' as const }, 0],
    ['Progressing at 35', { phase: 'Progressing' as const, canaryWeight: 35 }, 35],
    ['Promoting', { phase: 'Promoting' as const, canaryWeight: 50 }, 50],
    ['Finalising', { phase: 'Finalising' as const }, 0],
    ['Succeeded', { phase: 'Succeeded' as const }, 0],
    ['Failed', { phase: 'Failed' as const, failedChecks: 10 }, 0],
  ])('%s: the split carries the committed weights', (_label, patch, canary) => {
    writeStage(stateDir, compileFixture('linkerd', stateDir).plan(dir), patch);
    const out = compileFixture('linkerd', stateDir);
    expect(backends(out, dir, 'podinfo')).toEqual([
      ['podinfo-canary', canary],
      ['podinfo-primary', 100 - canary],
    ]);
  });
});

describe('SMI TrafficSplits of every version (spec.provider osm, smi:v1alpha1/2/3)', () => {
  it('one TrafficSplit per canary with the version factory.go picks, hosts[0] as root service', () => {
    const out = compileFixture('smi', stateDir);
    expect(out.dirs.sort()).toEqual(['osm-apps/backend', 'web/api', 'web/blue', 'web/frontend']);
    const split = (dir: string, name: string): any => out.obj(dir, `trafficsplit-${name}`);
    expect(split('web/frontend', 'frontend').apiVersion).toBe('split.smi-spec.io/v1alpha1');
    expect(split('osm-apps/backend', 'backend').apiVersion).toBe('split.smi-spec.io/v1alpha2');
    expect(split('web/blue', 'blue').apiVersion).toBe('split.smi-spec.io/v1alpha2');
    expect(split('web/api', 'api').apiVersion).toBe('split.smi-spec.io/v1alpha3');
    expect(split('web/api', 'api').spec.service).toBe('api.web.svc.cluster.local');
    expect(split('web/frontend', 'frontend').spec.service).toBe('frontend');
    expect(out.plan('web/api').routing.flaggerName).toBe('smi:v1alpha3');
    expect(out.plan('osm-apps/backend').routing.flaggerName).toBe('osm');
    // osm.go for osm; the Istio observer (factory.go default) for smi:*.
    expect(out.plan('osm-apps/backend').metrics[0].query).toContain('osm_request_total');
    expect(out.plan('web/frontend').metrics[0].query).toContain('istio_requests_total');
    expect(out.plan('web/blue').strategy).toBe('blue-green');
  });

  it('blue/green on smi:v1alpha2 switches all traffic at once; stepWeightPromotion on v1alpha3 steps back', () => {
    const first = compileFixture('smi', stateDir);
    writeStage(stateDir, first.plan('web/blue'), { phase: 'Progressing', canaryWeight: 100, iterations: 4 });
    writeStage(stateDir, first.plan('web/api'), { phase: 'Promoting', canaryWeight: 30 });
    const out = compileFixture('smi', stateDir);
    expect(backends(out, 'web/blue', 'blue')).toEqual([['blue-canary', 100], ['blue-primary', 0]]);
    expect(backends(out, 'web/api', 'api')).toEqual([['api-canary', 30], ['api-primary', 70]]);
  });

  it.each(['linkerd', 'smi'])('%s: every manifest valid against the Kubernetes and SMI CRD schemas, every folder builds with kubectl kustomize', (fixture) => {
    const out = compileFixture(fixture, stateDir);
    const problems: string[] = [];
    for (const dir of out.dirs) {
      for (const file of out.files(dir)) {
        if (file === 'canary.plan.json' || file === 'kustomization.yaml') continue;
        for (const p of manifestProblems(parse(out.text(dir, file)))) problems.push(`${dir}/${file}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-smi-out-');
    try {
      const written = compileFiles([path.join(FIXTURES, fixture)], { stateDir });
      for (const f of written.folders) {
        const dir = path.join(root, f.dir);
        fs.mkdirSync(dir, { recursive: true });
        for (const [n, t] of f.files) fs.writeFileSync(path.join(dir, n), t);
        const built = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
        expect(built.split(/^---$/m).length, f.dir).toBe([...f.files.keys()].filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml').length);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('SMI features Flagger does not have are refused at compile time', () => {
  const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: test}
spec:
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec: {containers: [{name: podinfod, image: ghcr.io/stefanprodan/podinfo:6.1.0}]}
`;
  const canary = (provider: string, service: string, analysis: string): string => `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  provider: "${provider}"
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service:
    port: 9898
${service}  analysis:
    interval: 1m
    threshold: 5
${analysis}`;

  it.each([
    ['A/B match on linkerd', canary('linkerd', '', '    iterations: 5\n    match:\n      - headers: {x-canary: {exact: insider}}\n'), 'spec.analysis.match: provider linkerd cannot route by request'],
    ['mirror on osm', canary('osm', '', '    iterations: 5\n    mirror: true\n'), 'spec.analysis.mirror: provider osm cannot mirror traffic'],
    ['session affinity on smi:v1alpha3', canary('smi:v1alpha3', '', '    stepWeight: 10\n    sessionAffinity: {cookieName: flagger-cookie}\n'), 'spec.analysis.sessionAffinity: provider smi:v1alpha3 has no session affinity'],
    // smi.go makeAnnotations writes gateways only for mesh istio, which a spec.provider never names.
    ['service.gateways on smi:v1alpha2', canary('smi:v1alpha2', '    gateways: [mesh]\n', '    stepWeight: 10\n'), 'spec.service.gateways: is only used with provider istio, not smi:v1alpha2'],
    // Flagger's CRD enum admits only the bare smi:<version> in spec.provider.
    ['a mesh suffix in spec.provider', canary('smi:v1alpha3:linkerd', '', '    stepWeight: 10\n'), 'spec.provider: unknown provider "smi:v1alpha3:linkerd"'],
  ])('%s', async (_label, doc, expected) => {
    const work = tempDir();
    try {
      const input = path.join(work, 'in');
      fs.mkdirSync(input);
      fs.writeFileSync(path.join(input, 'podinfo.yaml'), `${DEPLOYMENT}---\n${doc}`);
      const outdir = path.join(work, 'out');
      const error = await compile({ files: [input], outdir, stateDir: path.join(work, 'state') }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain(expected);
      expect(fs.existsSync(path.join(outdir, 'test'))).toBe(false);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
