import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestProblems } from '../constructs/manifest-validator';
import { compileFiles } from '../../src/compile';
import { FIXTURES, Output, compileFixture, kustomizeBuild, tempDir, writeStage } from './support';

// `canarykit compile` of a Canary with a core Service target (Flagger's pkg/canary/service_controller.go
// Initialize/Promote/HasTargetChanged, pkg/router/factory.go KubernetesNoopRouter; fixture after
// pkg/controller/scheduler_svc_test.go newTestServiceCanary).

type Json = Record<string, any>;
const DIR = 'test/podinfo';
const FILES = [
  'canary.plan.json', 'destinationrule-podinfo-canary.yaml', 'destinationrule-podinfo-primary.yaml', 'kustomization.yaml',
  'service-podinfo-canary.yaml', 'service-podinfo-primary.yaml', 'service-podinfo.yaml', 'virtualservice-podinfo.yaml',
];
const SPEC = { type: 'ClusterIP', selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, protocol: 'TCP', targetPort: 'http' }] };
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('compile: a Service target (scheduler_svc_test.go)', () => {
  it('bootstrap: -primary and -canary copies of the target, no generated apex Service, the target unchanged', () => {
    const out = compileFixture('service-target', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.files(DIR).sort()).toEqual(FILES);
    expect(out.obj(DIR, 'service-podinfo')).toEqual({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'podinfo', namespace: 'test', labels: { app: 'podinfo' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: SPEC,
    });
    expect(out.obj(DIR, 'service-podinfo-canary')).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'podinfo-canary', namespace: 'test', labels: { app: 'podinfo' } }, spec: SPEC });
    expect(out.obj(DIR, 'service-podinfo-primary')).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'podinfo-primary', namespace: 'test' }, spec: SPEC });
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ targetKind: 'Service', workloadKind: 'Service', replicas: {}, canary: { template: SPEC, workload: {}, configMaps: {} } });
    // `istio:service` is Istio's observer (observers/factory.go), on the target's name.
    expect(plan.metrics[0].query).toContain('destination_workload=~"podinfo"');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, 0],
    ['Progressing', { phase: 'Progressing', canaryWeight: 40, iterations: 2 }, 40],
    ['Promoting', { phase: 'Promoting', canaryWeight: 40 }, 40],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 0],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0, failedChecks: 10 }, 0],
  ] as const)('%s: routes between the copies, every object valid, the folder builds with kustomize', async (_label, patch, weight) => {
    writeStage(stateDir, compileFixture('service-target', stateDir).plan(DIR), patch);
    const out = compileFixture('service-target', stateDir);
    expect(out.files(DIR).sort()).toEqual(FILES);
    const route = out.obj(DIR, 'virtualservice-podinfo').spec.http.at(-1).route;
    expect(route.map((r: Json) => [r.destination.host, r.weight])).toEqual([['podinfo-primary', 100 - weight], ['podinfo-canary', weight]]);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) problems.push(...manifestProblems(parse(out.text(DIR, file))));
    expect(problems).toEqual([]);
    expect(await kustomizeBuild(out, DIR)).toContain('name: podinfo-primary');
  });

  it('a changed target spec is a new revision; -primary keeps the promoted spec (state file primary snapshot) while -canary follows', () => {
    const before = compileFixture('service-target', stateDir).plan(DIR);
    writeStage(stateDir, before, { phase: 'Succeeded' });
    const root = tempDir('canarykit-svc-');
    try {
      const text = fs.readFileSync(path.join(FIXTURES, 'service-target', 'podinfo.yaml'), 'utf8');
      fs.writeFileSync(path.join(root, 'podinfo.yaml'), text.replace('      port: 9898\n      protocol', '      port: 8080\n      protocol'));
      const out = new Output(compileFiles([root], { stateDir }));
      expect(out.plan(DIR).canary.revision).not.toBe(before.canary.revision);
      expect(out.obj(DIR, 'service-podinfo-canary').spec.ports[0].port).toBe(8080);
      expect(out.obj(DIR, 'service-podinfo-primary').spec.ports[0].port).toBe(9898);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a -canary Service already in the input is taken over and replaced (reconcileCanaryService updates it to buildService)', () => {
    const root = tempDir('canarykit-svc-');
    try {
      const text = fs.readFileSync(path.join(FIXTURES, 'service-target', 'podinfo.yaml'), 'utf8');
      const old = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo-canary\n  namespace: test\nspec:\n  selector:\n    app: old\n  ports:\n    - port: 80\n---\n';
      fs.writeFileSync(path.join(root, 'podinfo.yaml'), old + text);
      const out = new Output(compileFiles([root], { stateDir }));
      expect(out.dirs).toEqual([DIR]);
      expect(out.obj(DIR, 'service-podinfo-canary').spec).toEqual(SPEC);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('is byte-identical across runs', () => {
    const a = compileFixture('service-target', stateDir);
    const b = compileFixture('service-target', stateDir);
    for (const f of a.files(DIR)) expect(b.text(DIR, f)).toBe(a.text(DIR, f));
  });
});
