import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, compileFixture, tempDir, writeStage } from './support';

// `canarykit compile` of a Canary with `targetRef.kind: DaemonSet` (Flagger's
// pkg/canary/daemonset_controller.go; fixture after test/kubernetes/test-daemonset.sh).

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo-ds';
const SCALED_DOWN = { 'kubernetes.io/os': 'linux', 'flagger.app/scale-to-zero': 'true' };
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('compile: a DaemonSet target (test-daemonset.sh)', () => {
  it('bootstrap: the -primary DaemonSet, the target still serving, the Services; the plan names DaemonSets', () => {
    const out = compileFixture('daemonset', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.files(DIR).sort()).toEqual([
      'canary.plan.json', 'daemonset-podinfo-ds-primary.yaml', 'daemonset-podinfo-ds.yaml', 'kustomization.yaml',
      'service-podinfo-ds-canary.yaml', 'service-podinfo-ds-primary.yaml', 'service-podinfo-ds.yaml',
    ]);
    expect(out.obj(DIR, 'daemonset-podinfo-ds').spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    const primary = out.obj(DIR, 'daemonset-podinfo-ds-primary');
    expect(primary.metadata).toEqual({ name: 'podinfo-ds-primary', namespace: 'test', labels: { 'app.kubernetes.io/name': 'podinfo-ds-primary' } });
    expect(primary.spec).toMatchObject({ minReadySeconds: 5, revisionHistoryLimit: 5, selector: { matchLabels: { 'app.kubernetes.io/name': 'podinfo-ds-primary' } } });
    expect(primary.spec.replicas).toBeUndefined();
    expect(out.obj(DIR, 'service-podinfo-ds').spec.selector).toEqual({ 'app.kubernetes.io/name': 'podinfo-ds-primary' });
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ strategy: 'blue-green', targetKind: 'DaemonSet', workloadKind: 'DaemonSet', workloads: { primary: 'podinfo-ds-primary', canary: 'podinfo-ds' }, replicas: {} });
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, SCALED_DOWN],
    ['Progressing', { phase: 'Progressing', canaryWeight: 100, iterations: 2 }, { 'kubernetes.io/os': 'linux' }],
    ['Promoting', { phase: 'Promoting', canaryWeight: 100 }, { 'kubernetes.io/os': 'linux' }],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, { 'kubernetes.io/os': 'linux' }],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, SCALED_DOWN],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, SCALED_DOWN],
  ] as const)('%s: the target node selector, every object valid, the folder builds with kustomize', async (_label, patch, nodeSelector) => {
    writeStage(stateDir, compileFixture('daemonset', stateDir).plan(DIR), patch);
    const out = compileFixture('daemonset', stateDir);
    expect(out.obj(DIR, 'daemonset-podinfo-ds').spec.template.spec.nodeSelector).toEqual(nodeSelector);
    expect(out.obj(DIR, 'daemonset-podinfo-ds-primary').spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) problems.push(...manifestProblems(parse(out.text(DIR, file))));
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-ds-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      expect((await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout).toContain('name: podinfo-ds-primary');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('is byte-identical across runs', () => {
    const a = compileFixture('daemonset', stateDir);
    const b = compileFixture('daemonset', stateDir);
    for (const f of a.files(DIR)) expect(b.text(DIR, f)).toBe(a.text(DIR, f));
  });

  const hpa = '---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo-ds\n  namespace: test\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: DaemonSet\n    name: podinfo-ds\n  maxReplicas: 3\n';
  it.each([
    ['an OnDelete updateStrategy', '  minReadySeconds: 5\n', '  minReadySeconds: 5\n  updateStrategy:\n    type: OnDelete\n', 'spec.updateStrategy.type must be RollingUpdate for a DaemonSet target (got OnDelete)'],
    ['an HPA on a DaemonSet', '  progressDeadlineSeconds: 60\n', `  progressDeadlineSeconds: 60\n  autoscalerRef:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo-ds\n`, 'cannot be used with a DaemonSet target', hpa],
    ['a Service target without the Service', '    kind: DaemonSet\n    name: podinfo-ds\n  progress', '    kind: Service\n    name: podinfo-ds\n  progress', 'spec.targetRef: Service test/podinfo-ds is not among the inputs'],
    ['a StatefulSet target', '    kind: DaemonSet\n    name: podinfo-ds\n  progress', '    kind: StatefulSet\n    name: podinfo-ds\n  progress', 'spec.targetRef.kind: must be one of "DaemonSet", "Deployment", "Service"'],
  ])('%s is refused before anything is written', (_label, from, to, message, extra = '') => {
    const dir = tempDir('canarykit-ds-bad-');
    try {
      const text = fs.readFileSync(path.join(FIXTURES, 'daemonset', 'podinfo-ds.yaml'), 'utf8');
      expect(text).toContain(from);
      fs.writeFileSync(path.join(dir, 'podinfo-ds.yaml'), text.replace(from, to) + extra);
      let error: unknown;
      try {
        compileFiles([dir], { stateDir });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toContain(message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
