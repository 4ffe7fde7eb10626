import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { snapshotOf } from '../../src/machine/transitions';
import { AnalysisPlan } from '../../src/model/plan';
import { CanaryState } from '../../src/model/state';
import { writeStateFile, stateFilePath } from '../../src/model/state-store';
import { bootstrapState } from '../../src/constructs/canary';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, compileFixture, tempDir } from './support';

// `canarykit compile` of a Flagger Canary with `provider: knative` (Flagger's knative tutorial and
// test/knative/test-canary.sh), written as our own fixture under test/fixtures/flagger/knative.
// Flagger edits the user's Service (pkg/canary/knative_controller.go Initialize / Promote,
// pkg/router/knative.go SetRoutes): annotation flagger.app/primary-revision and spec.traffic.

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
const FIXTURE_TEXT = fs.readFileSync(path.join(FIXTURES, 'knative', 'podinfo.yaml'), 'utf8');
const OLD_IMAGE = 'image: ghcr.io/stefanprodan/podinfo:6.0.0';
const NEW_IMAGE = 'image: ghcr.io/stefanprodan/podinfo:6.0.1';

let stateDir: string;
let inputs: string[];
beforeEach(() => {
  stateDir = tempDir();
  inputs = [];
});
afterEach(() => {
  for (const d of [stateDir, ...inputs]) fs.rmSync(d, { recursive: true, force: true });
});

/** Compiles the fixture text with replacements applied (`[from, to]`, each must occur). */
function compileText(edits: [string, string][] = []): Output {
  const dir = tempDir('canarykit-knative-in-');
  inputs.push(dir);
  let text = FIXTURE_TEXT;
  for (const [from, to] of edits) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text);
  return new Output(compileFiles([dir], { stateDir }));
}

function compileError(edits: [string, string][]): string {
  try {
    compileText(edits);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('compiled without error');
}

const revisionOf = (plan: AnalysisPlan): string => `podinfo-${plan.canary.revision.slice(0, 10)}`;
const traffic = (canary: number, primary: string, primaryWeight: number) => [
  { latestRevision: true, percent: canary },
  { revisionName: primary, percent: primaryWeight },
];

function writeState(plan: AnalysisPlan, patch: Partial<CanaryState>): void {
  writeStateFile(stateFilePath(stateDir, plan.namespace, plan.name), { ...bootstrapState(plan.namespace, plan.name, plan.canary), ...patch });
}

function schemaAndKustomize(out: Output): Promise<void> {
  const problems: string[] = [];
  for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    const obj = parse(out.text(DIR, file));
    problems.push(...(obj.apiVersion === 'serving.knative.dev/v1' ? strictSchemaProblems(obj) : manifestProblems(obj)));
  }
  expect(problems).toEqual([]);
  const root = tempDir('canarykit-knative-kustomize-');
  inputs.push(root);
  for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
  return execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' }).then(({ stdout }) => {
    expect(stdout).toContain('kind: Service');
    expect(stdout).toContain('flagger.app/primary-revision');
  });
}

describe('compile: podinfo on Knative (knative tutorial, knative_controller.go / knative.go)', () => {
  it('bootstrap (Initialize): the only object is the Service, its first revision named from the template hash, 100% to it', async () => {
    const out = compileFixture('knative', stateDir);
    expect(out.dirs).toEqual([DIR, '_unreferenced']);
    // No primary Deployment, no apex/primary/canary Services: Flagger makes none for Knative.
    expect(out.files(DIR)).toEqual(['service-podinfo.yaml', 'kustomization.yaml', 'canary.plan.json']);
    expect(out.files('_unreferenced')).toEqual(['configmap-podinfo-env.yaml', 'kustomization.yaml']);
    const plan = out.plan(DIR);
    const rev = revisionOf(plan);
    // Pinned: the name is a function of the template alone, the same on every machine and run.
    expect(rev).toBe('podinfo-8a30d9439e');
    const svc = out.obj(DIR, 'service-podinfo');
    expect(svc.metadata).toEqual({
      name: 'podinfo',
      namespace: 'test',
      labels: { 'app.kubernetes.io/name': 'podinfo' },
      annotations: { 'flagger.app/primary-revision': rev },
    });
    expect(svc.spec.template.metadata).toEqual({ name: rev, annotations: { 'autoscaling.knative.dev/min-scale': '1' } });
    expect(svc.spec.template.spec.containers[0].image).toBe('ghcr.io/stefanprodan/podinfo:6.0.0');
    expect(svc.spec.traffic).toEqual(traffic(0, rev, 100));
    expect(plan).toMatchObject({ provider: 'knative', strategy: 'canary', routing: { flaggerName: 'knative', shiftsWeights: true, promotionSteps: true } });
    expect(plan.revisions).toEqual({ primary: rev, canary: rev });
    // scheduler_metrics.go: {{ route }} is the latest revision, Envoy's cluster `<namespace>/<revision>`.
    for (const m of plan.metrics) expect(m.query).toContain(`envoy_cluster_name=~"test/${rev}"`);
    await schemaAndKustomize(out);
  });

  it('Initialized, no change: the same Service (the primary is the latest revision)', () => {
    const plan = compileFixture('knative', stateDir).plan(DIR);
    writeState(plan, { phase: 'Initialized' });
    const svc = compileFixture('knative', stateDir).obj(DIR, 'service-podinfo');
    expect(svc.spec.traffic).toEqual(traffic(0, revisionOf(plan), 100));
  });

  describe('a new template (6.0.1) against the primary 6.0.0', () => {
    const stage = (patch: Partial<CanaryState>, promoted: boolean) => {
      const oldPlan = compileFixture('knative', stateDir).plan(DIR);
      const newPlan = compileText([[OLD_IMAGE, NEW_IMAGE]]).plan(DIR);
      writeState(oldPlan, { canaryRevision: newPlan.canary.revision, ...patch, primary: snapshotOf(promoted ? newPlan.canary : oldPlan.canary) });
      const out = compileText([[OLD_IMAGE, NEW_IMAGE]]);
      return { out, oldRev: revisionOf(oldPlan), newRev: revisionOf(newPlan) };
    };

    it.each([
      // SetRoutes while analysing: latest revision canaryWeight, annotated primary the rest.
      ['Progressing at 10', { phase: 'Progressing', canaryWeight: 10 }, false, 10, 'old', 90],
      ['Progressing at 50', { phase: 'Progressing', canaryWeight: 50 }, false, 50, 'old', 50],
      // Promote sets the annotation to the latest revision before Promoting; both targets are it.
      ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, true, 50, 'new', 50],
      ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, true, 0, 'new', 100],
      ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, true, 0, 'new', 100],
      // Rollback: SetRoutes(100, 0) with the failed template still the latest revision.
      ['Failed', { phase: 'Failed', canaryWeight: 0 }, false, 0, 'old', 100],
    ] as const)('%s: annotation, revision name and traffic; valid against the CRD; builds with kustomize', async (_label, patch, promoted, canaryWeight, primary, primaryWeight) => {
      const { out, oldRev, newRev } = stage(patch as Partial<CanaryState>, promoted);
      expect(oldRev).not.toBe(newRev);
      const primaryRev = primary === 'new' ? newRev : oldRev;
      const svc = out.obj(DIR, 'service-podinfo');
      expect(svc.metadata.annotations).toEqual({ 'flagger.app/primary-revision': primaryRev });
      // The template is always the user's current one: Flagger never reverts it either.
      expect(svc.spec.template.metadata.name).toBe(newRev);
      expect(svc.spec.template.spec.containers[0].image).toBe('ghcr.io/stefanprodan/podinfo:6.0.1');
      expect(svc.spec.traffic).toEqual(traffic(canaryWeight, primaryRev, primaryWeight));
      expect(out.plan(DIR).revisions).toEqual({ primary: primaryRev, canary: newRev });
      for (const m of out.plan(DIR).metrics) expect(m.query).toContain(`envoy_cluster_name=~"test/${newRev}"`);
      await schemaAndKustomize(out);
    });

    it('Promoting with stepWeightPromotion: the committed step (primary 70, latest 30)', () => {
      const { out, newRev } = stage({ phase: 'Promoting', canaryWeight: 30 }, true);
      expect(out.obj(DIR, 'service-podinfo').spec.traffic).toEqual(traffic(30, newRev, 70));
    });

    it('blue/green (iterations): all traffic to the latest revision after the last iteration', () => {
      const oldPlan = compileFixture('knative', stateDir).plan(DIR);
      const edits: [string, string][] = [[OLD_IMAGE, NEW_IMAGE], ['    maxWeight: 50\n    stepWeight: 10\n', '    iterations: 5\n']];
      const newPlan = compileText(edits).plan(DIR);
      expect(newPlan.strategy).toBe('blue-green');
      writeState(oldPlan, { phase: 'Progressing', canaryWeight: 100, iterations: 6, canaryRevision: newPlan.canary.revision });
      expect(compileText(edits).obj(DIR, 'service-podinfo').spec.traffic).toEqual(traffic(100, revisionOf(oldPlan), 0));
    });
  });

  it('a revision name you set is kept (template.metadata.name) and used everywhere', () => {
    const out = compileText([['    metadata:\n      annotations:', '    metadata:\n      name: podinfo-v600\n      annotations:']]);
    const svc = out.obj(DIR, 'service-podinfo');
    expect(svc.spec.template.metadata.name).toBe('podinfo-v600');
    expect(svc.metadata.annotations['flagger.app/primary-revision']).toBe('podinfo-v600');
    expect(out.plan(DIR).revisions).toEqual({ primary: 'podinfo-v600', canary: 'podinfo-v600' });
  });

  it('a changed template under the primary revision\'s name is refused (Knative would reject it)', () => {
    const named: [string, string] = ['    metadata:\n      annotations:', '    metadata:\n      name: podinfo-v600\n      annotations:'];
    const plan = compileText([named]).plan(DIR);
    writeState(plan, { phase: 'Succeeded' });
    const message = compileError([named, [OLD_IMAGE, NEW_IMAGE]]);
    expect(message).toContain('spec.targetRef');
    expect(message).toContain('"podinfo-v600" names the primary revision, but the template changed');
  });

  it.each([
    ['a revision name without the Service prefix', ['    metadata:\n      annotations:', '    metadata:\n      name: v600\n      annotations:'], 'spec.targetRef', 'must start with "podinfo-"'],
    ['spec.service (Flagger ignores it for Knative)', ['  progressDeadlineSeconds: 60\n', '  progressDeadlineSeconds: 60\n  service:\n    port: 80\n'], 'spec.service', 'generates no Services'],
    ['an autoscalerRef', ['  progressDeadlineSeconds: 60\n', '  progressDeadlineSeconds: 60\n  autoscalerRef:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n'], 'spec.autoscalerRef', 'HorizontalPodAutoscaler test/podinfo is not among the inputs'],
    ['an A/B match', ['    stepWeight: 10\n', '    stepWeight: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n'], 'spec.analysis.match', 'provider knative cannot route by request attributes'],
    ['mirroring', ['    stepWeight: 10\n', '    stepWeight: 10\n    mirror: true\n'], 'spec.analysis.mirror', 'provider knative cannot mirror traffic'],
    ['session affinity', ['    stepWeight: 10\n', '    stepWeight: 10\n    sessionAffinity:\n      cookieName: flagger-cookie\n'], 'spec.analysis.sessionAffinity', 'provider knative has no session affinity'],
    ['a Deployment target', ['    apiVersion: serving.knative.dev/v1\n    kind: Service\n    name: podinfo\n', '    apiVersion: apps/v1\n    kind: Deployment\n    name: podinfo\n'], 'spec.targetRef', 'must be a serving.knative.dev/v1 Service with provider knative (got apps/v1 Deployment)'],
    ['a Knative Service with another provider', ['  provider: knative\n', '  provider: istio\n'], 'spec.targetRef', 'a serving.knative.dev/v1 Service target needs provider knative'],
    ['a missing Service', ['    kind: Service\n    name: podinfo\n', '    kind: Service\n    name: absent\n'], 'spec.targetRef', 'serving.knative.dev/v1 Service test/absent is not among the inputs'],
  ] as const)('%s is refused before anything is written', (_label, edit, where, message) => {
    const text = compileError([edit as unknown as [string, string]]);
    expect(text).toContain(where);
    expect(text).toContain(message);
  });

  it('an HPA is refused even when present (verifyKnativeCanary: no autoscaler with a Knative Service)', () => {
    const hpa = '---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  scaleTargetRef:\n    apiVersion: serving.knative.dev/v1\n    kind: Service\n    name: podinfo\n  minReplicas: 1\n  maxReplicas: 3\n';
    const text = compileError([
      ['  progressDeadlineSeconds: 60\n', '  progressDeadlineSeconds: 60\n  autoscalerRef:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n'],
      ['---\napiVersion: flagger.app/v1beta1', `${hpa}---\napiVersion: flagger.app/v1beta1`],
    ]);
    expect(text).toContain('spec.autoscalerRef');
    expect(text).toContain("can't use autoscaler with Knative Service");
  });

  it('other providers still require spec.service (Flagger\'s CRD does not; canarykit needs its port)', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'traefik', 'podinfo.yaml'), 'utf8').replace('  service:\n    port: 80\n    targetPort: 9898\n', '');
    const dir = tempDir('canarykit-knative-in-');
    inputs.push(dir);
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text);
    expect(() => compileFiles([dir], { stateDir })).toThrow(/Canary test\/podinfo: spec: missing required field "service"/);
  });
});
