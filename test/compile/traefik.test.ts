import * as fs from 'fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { compileFixture, kustomizeBuild, refusedEdit, tempDir, writeStage } from './support';

// `canarykit compile` of a Flagger Canary with `provider: traefik` (Flagger's traefik tutorial and
// pkg/router/traefik.go), written as our own fixture under test/fixtures/flagger/traefik.

const DIR = 'test/podinfo';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const svc = (name: string, weight: number): Record<string, unknown> => ({ name, namespace: 'test', port: 80, ...(weight ? { weight } : {}) });

describe('compile: podinfo on Traefik (traefik tutorial)', () => {
  it('bootstrap: TraefikService podinfo with the primary alone; the IngressRoute passes through; the plan uses the traefik observer', () => {
    const out = compileFixture('traefik', stateDir);
    expect(out.dirs).toEqual([DIR, '_unreferenced']);
    expect(out.obj(DIR, 'traefikservice-podinfo')).toEqual({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'TraefikService',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { weighted: { services: [svc('podinfo-primary', 100)] } },
    });
    expect(out.obj('_unreferenced', 'ingressroute-podinfo').spec.routes[0].services).toEqual([{ kind: 'TraefikService', name: 'podinfo', port: 80 }]);
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ provider: 'traefik', strategy: 'canary', routing: { flaggerName: 'traefik', shiftsWeights: true, promotionSteps: true } });
    expect(plan.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration']);
    for (const m of plan.metrics) expect(m.query).toContain('service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd"');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, [svc('podinfo-primary', 100)]],
    ['Progressing at 5', { phase: 'Progressing', canaryWeight: 5 }, [svc('podinfo-primary', 95), svc('podinfo-canary', 5)]],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, [svc('podinfo-primary', 50), svc('podinfo-canary', 50)]],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, [svc('podinfo-primary', 100)]],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, [svc('podinfo-primary', 100)]],
  ] as const)('%s: the staged services, every object valid, the folder builds with kustomize', async (_label, patch, services) => {
    writeStage(stateDir, compileFixture('traefik', stateDir).plan(DIR), patch);
    const out = compileFixture('traefik', stateDir);
    expect(out.obj(DIR, 'traefikservice-podinfo').spec.weighted.services).toEqual(services);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
      const obj = parse(out.text(DIR, file));
      problems.push(...(obj.apiVersion === 'traefik.io/v1alpha1' ? strictSchemaProblems(obj) : manifestProblems(obj)));
    }
    expect(problems).toEqual([]);
    expect(await kustomizeBuild(out, DIR)).toContain('kind: TraefikService');
  });

  it.each([
    ['an A/B match', '    stepWeight: 5\n', '    stepWeight: 5\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n', 'analysis.match', 'provider traefik cannot route by request attributes'],
    ['a service timeout Traefik ignores', '    targetPort: 9898\n', '    targetPort: 9898\n    timeout: 15s\n', 'spec.service.timeout', 'not traefik'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const refused = refusedEdit('traefik', 'podinfo.yaml', from, to, stateDir);
    expect(refused).toContain(where);
    expect(refused).toContain(message);
  });
});
