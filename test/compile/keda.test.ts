import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, compileFixture, tempDir, writeStage } from './support';

// `canarykit compile` with a KEDA ScaledObject in autoscalerRef (Flagger's
// pkg/canary/scaled_object_reconciler.go; fixture after test/keda/test-scaledobject.sh).

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
const PAUSED = 'autoscaling.keda.sh/paused-replicas';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** Compiles the fixture with `edit` applied to its text. */
function compileEdited(edit: (text: string) => string): Output {
  const dir = tempDir('canarykit-keda-');
  try {
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), edit(fs.readFileSync(path.join(FIXTURES, 'keda', 'podinfo.yaml'), 'utf8')));
    return new Output(compileFiles([dir], { stateDir }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('compile: a KEDA ScaledObject autoscaler (test-scaledobject.sh)', () => {
  it('bootstrap: podinfo-so-primary targets podinfo-primary with the query moved to the primary (reconcilePrimaryScaler)', () => {
    const out = compileFixture('keda', stateDir);
    expect(out.obj(DIR, 'scaledobject-podinfo-so-primary')).toEqual({
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'podinfo-so-primary', namespace: 'test', labels: { team: 'web' } },
      spec: {
        scaleTargetRef: { name: 'podinfo-primary' },
        pollingInterval: 10,
        cooldownPeriod: 20,
        minReplicaCount: 1,
        maxReplicaCount: 3,
        advanced: { horizontalPodAutoscalerConfig: {} },
        triggers: [{
          type: 'prometheus',
          metricType: 'AverageValue',
          metadata: {
            serverAddress: 'http://flagger-prometheus.flagger-system:9090',
            metricName: 'http_requests_total',
            // The e2e's expectedQuery.
            query: 'sum(rate(http_requests_total{ app="podinfo-primary" }[30s]))',
            threshold: '5',
          },
        }],
      },
    });
    // The target keeps serving while the primary starts, so KEDA is not paused yet.
    expect(out.obj(DIR, 'scaledobject-podinfo-so').metadata.annotations).toBeUndefined();
    expect(out.obj(DIR, 'deployment-podinfo').spec.replicas).toBe(1);
    expect(out.obj(DIR, 'deployment-podinfo-primary').spec.replicas).toBeUndefined();
    expect(out.plan(DIR).replicas).toEqual({ canary: 1 });
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, true],
    ['Progressing', { phase: 'Progressing', canaryWeight: 100, iterations: 2 }, false],
    ['Promoting', { phase: 'Promoting', canaryWeight: 100 }, false],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, false],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, true],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, true],
  ] as const)('%s: paused-replicas set while the target is scaled to zero (Pause/ResumeTargetScaler), objects valid, kustomize builds', async (_label, patch, paused) => {
    writeStage(stateDir, compileFixture('keda', stateDir).plan(DIR), patch);
    const out = compileFixture('keda', stateDir);
    const so = out.obj(DIR, 'scaledobject-podinfo-so');
    expect(so.metadata.annotations).toEqual(paused ? { [PAUSED]: '0' } : undefined);
    expect(out.obj(DIR, 'deployment-podinfo').spec.replicas).toBe(paused ? 0 : 1);
    expect(out.obj(DIR, 'scaledobject-podinfo-so-primary').metadata.annotations).toBeUndefined();
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
      const obj = parse(out.text(DIR, file));
      problems.push(...(obj.apiVersion === 'keda.sh/v1alpha1' ? strictSchemaProblems(obj) : manifestProblems(obj)));
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-keda-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      expect((await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout).toContain('name: podinfo-so-primary');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('primaryScalerQueries replaces the query of the named trigger only; primaryScalerReplicas sets min/max', () => {
    const out = compileEdited((t) => t
      .replace('    - type: prometheus\n', '    - type: prometheus\n      name: requests\n')
      .replace('  triggers:\n', '  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata:\n        value: "60"\n')
      .replace('    name: podinfo-so\n  progress', '    name: podinfo-so\n    primaryScalerQueries:\n      requests: sum(rate(http_requests_total{ app="podinfo-primary", code="200" }[30s]))\n    primaryScalerReplicas:\n      minReplicas: 2\n      maxReplicas: 5\n  progress'));
    const spec = out.obj(DIR, 'scaledobject-podinfo-so-primary').spec;
    expect(spec.triggers.map((tr: Record<string, any>) => tr.metadata.query)).toEqual([undefined, 'sum(rate(http_requests_total{ app="podinfo-primary", code="200" }[30s]))']);
    expect(spec.triggers[0]).toEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } });
    expect([spec.minReplicaCount, spec.maxReplicaCount]).toEqual([2, 5]);
    expect(strictSchemaProblems(out.obj(DIR, 'scaledobject-podinfo-so-primary'))).toEqual([]);
  });

  it('the automatic rewrite turns podinfo and podinfo-canary into podinfo-primary, never podinfo-primary-primary from -canary (setPrimaryScaledObjectQueries)', () => {
    const out = compileEdited((t) => t.replace('query: sum(rate(http_requests_total{ app="podinfo" }[30s]))', 'query: sum(rate(http_requests_total{ app=~"podinfo|podinfo-canary" }[30s]))'));
    expect(out.obj(DIR, 'scaledobject-podinfo-so-primary').spec.triggers[0].metadata.query).toBe('sum(rate(http_requests_total{ app=~"podinfo-primary|podinfo-primary" }[30s]))');
  });

  it('a named KEDA HPA gets -primary (setPrimaryScaledObjectHPA); fields outside Flagger\'s ScaledObject type are not copied', () => {
    const out = compileEdited((t) => t.replace('  pollingInterval: 10\n', '  pollingInterval: 10\n  initialCooldownPeriod: 30\n  advanced:\n    restoreToOriginalReplicaCount: true\n    horizontalPodAutoscalerConfig:\n      name: podinfo-hpa\n  fallback:\n    failureThreshold: 3\n    replicas: 2\n'));
    const primary = out.obj(DIR, 'scaledobject-podinfo-so-primary').spec;
    expect(primary.advanced).toEqual({ horizontalPodAutoscalerConfig: { name: 'podinfo-hpa-primary' }, restoreToOriginalReplicaCount: true });
    expect(primary.fallback).toEqual({ failureThreshold: 3, replicas: 2 });
    expect(primary.initialCooldownPeriod).toBeUndefined();
    expect(out.obj(DIR, 'scaledobject-podinfo-so').spec.initialCooldownPeriod).toBe(30);
  });

  it('is byte-identical across runs', () => {
    const a = compileFixture('keda', stateDir);
    const b = compileFixture('keda', stateDir);
    for (const f of a.files(DIR)) expect(b.text(DIR, f)).toBe(a.text(DIR, f));
  });

  it.each([
    ['a missing ScaledObject', (t: string) => t.replace('name: podinfo-so\n  namespace', 'name: other-so\n  namespace'), 'spec.autoscalerRef: keda.sh/v1alpha1 ScaledObject test/podinfo-so is not among the inputs'],
    ['primaryScalerQueries with an HPA', (t: string) => t.replace('    apiVersion: keda.sh/v1alpha1\n    kind: ScaledObject\n    name: podinfo-so\n', '    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n    primaryScalerQueries:\n      requests: up\n'), 'spec.autoscalerRef.primaryScalerQueries: is only used with a KEDA ScaledObject'],
  ])('%s is refused before anything is written', (_label, edit, message) => {
    let error: unknown;
    try {
      compileEdited(edit);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(message);
  });
});
