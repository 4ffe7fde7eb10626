import * as fs from 'fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestProblems } from '../constructs/manifest-validator';
import { compileFixture, kustomizeBuild, refusedEdit, tempDir, writeStage } from './support';

// `canarykit compile` of a Flagger Canary with `provider: skipper` (Flagger's Skipper tutorial and
// pkg/router/skipper.go), written as our own fixture under test/fixtures/flagger/skipper.

const DIR = 'test/podinfo';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const backend = (name: string) => ({ pathType: 'Prefix', path: '/', backend: { service: { name, port: { number: 80 } } } });
const annotations = (primary: number, canary: number, predicate: string) => ({
  'kubernetes.io/ingress.class': 'skipper',
  'zalando.org/backend-weights': `{"podinfo-canary":${canary},"podinfo-primary":${primary}}`,
  'zalando.org/skipper-predicate': predicate,
});

describe('compile: podinfo on Skipper (skipper tutorial)', () => {
  it('bootstrap: Ingress podinfo-canary at 100/0 with Weight(100); the user Ingress is kept; the plan uses the skipper observer', () => {
    const out = compileFixture('skipper', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.obj(DIR, 'ingress-podinfo-canary')).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'podinfo-canary', namespace: 'test', labels: { app: 'podinfo' }, annotations: annotations(100, 0, 'Weight(100)') },
      spec: { rules: [{ host: 'app.example.com', http: { paths: [backend('podinfo-primary'), backend('podinfo-canary')] } }] },
    });
    expect(out.obj(DIR, 'ingress-podinfo').spec.rules[0].http.paths).toEqual([backend('podinfo')]);
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ provider: 'skipper', strategy: 'canary', ingressName: 'podinfo', routing: { flaggerName: 'skipper', shiftsWeights: true, promotionSteps: true } });
    expect(plan.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration']);
    for (const m of plan.metrics) expect(m.query).toContain('route=~"kube(ew)?_test__podinfo_canary__.*__podinfo_canary(_[0-9]+)?"');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, annotations(100, 0, 'Weight(100)')],
    ['Progressing at 5', { phase: 'Progressing', canaryWeight: 5 }, annotations(95, 5, 'Weight(100)')],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, annotations(50, 50, 'Weight(100)')],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, annotations(100, 0, 'False()')],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, annotations(100, 0, 'False()')],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, annotations(100, 0, 'False()')],
  ] as const)('%s: the staged annotations, every object valid, the folder builds with kustomize', async (_label, patch, expected) => {
    writeStage(stateDir, compileFixture('skipper', stateDir).plan(DIR), patch);
    const out = compileFixture('skipper', stateDir);
    expect(out.obj(DIR, 'ingress-podinfo-canary').metadata.annotations).toEqual(expected);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) problems.push(...manifestProblems(parse(out.text(DIR, file))));
    expect(problems).toEqual([]);
    expect(await kustomizeBuild(out, DIR)).toContain('name: podinfo-canary');
  });

  it.each([
    ['an A/B match', '    stepWeight: 5\n', '    stepWeight: 5\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n', 'spec.analysis.match', 'provider skipper cannot route by request attributes'],
    ['a missing ingressRef', '  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n', '', 'spec', 'provider skipper needs spec.ingressRef'],
    ['an Ingress without a path to the apex', '                name: podinfo\n                port:', '                name: other\n                port:', 'spec.ingressRef', 'has no rule path to the apex Service "podinfo"'],
    ['a service timeout Skipper ignores', '    targetPort: 9898\n', '    targetPort: 9898\n    timeout: 15s\n', 'spec.service.timeout', 'not skipper'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const refused = refusedEdit('skipper', 'podinfo.yaml', from, to, stateDir);
    expect(refused).toContain(where);
    expect(refused).toContain(message);
  });
});
