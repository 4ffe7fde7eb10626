import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { FIXTURES, compileFixture, tempDir, writeStage } from './support';

// `canarykit compile` of a Flagger Canary on Kuma (Flagger's kuma tutorial, test/kuma e2e and
// pkg/router/kuma.go), written as our own fixture under test/fixtures/flagger/kuma.

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const tag = (svc: string): Record<string, string> => ({ 'kuma.io/service': `${svc}_test_svc_9898` });
const split = (primary: number, canary: number): Record<string, unknown>[] => [
  { weight: primary, destination: tag('podinfo-primary') },
  { weight: canary, destination: tag('podinfo-canary') },
];

/** Compiles the fixture with its text edited (`from` must occur in it). */
function compileEdited(edits: [string, string][], opts: { meshProvider?: string } = {}): ReturnType<typeof compileFiles> {
  const dir = tempDir('canarykit-kuma-edit-');
  try {
    let text = fs.readFileSync(path.join(FIXTURES, 'kuma', 'podinfo.yaml'), 'utf8');
    for (const [from, to] of edits) {
      expect(text).toContain(from);
      text = text.replace(from, to);
    }
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text);
    return compileFiles([dir], { stateDir, controller: { meshProvider: opts.meshProvider } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('compile: podinfo on Kuma (kuma tutorial)', () => {
  it('bootstrap: a cluster-scoped TrafficRoute podinfo at 100/0 in the annotated mesh; the plan uses the kuma observer', () => {
    const out = compileFixture('kuma', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.obj(DIR, 'trafficroute-podinfo')).toEqual({
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'TrafficRoute',
      metadata: { name: 'podinfo', annotations: { '9898.service.kuma.io/protocol': 'http' } },
      mesh: 'default',
      spec: {
        sources: [{ match: { 'kuma.io/service': '*' } }],
        destinations: [{ match: tag('podinfo') }],
        conf: { split: split(100, 0) },
      },
    });
    // The namespaced objects of the same folder keep their namespace.
    for (const file of ['service-podinfo', 'deployment-podinfo-primary', 'horizontalpodautoscaler-podinfo-primary']) expect(out.obj(DIR, file).metadata.namespace).toBe('test');
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ provider: 'kuma', strategy: 'canary', routing: { flaggerName: 'kuma', shiftsWeights: true, promotionSteps: true } });
    expect(plan.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration']);
    for (const m of plan.metrics) expect(m.query).toContain('service=~"podinfo-canary_test_svc_[0-9a-zA-Z-]+"');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, split(100, 0)],
    ['Progressing at 10', { phase: 'Progressing', canaryWeight: 10 }, split(90, 10)],
    ['WaitingPromotion', { phase: 'WaitingPromotion', canaryWeight: 50 }, split(50, 50)],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, split(50, 50)],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, split(100, 0)],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, split(100, 0)],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, split(100, 0)],
  ] as const)('%s: the staged split, every object valid, the folder builds with kustomize', async (_label, patch, expected) => {
    writeStage(stateDir, compileFixture('kuma', stateDir).plan(DIR), patch);
    const out = compileFixture('kuma', stateDir);
    expect(out.obj(DIR, 'trafficroute-podinfo').spec.conf.split).toEqual(expected);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
      const obj = parse(out.text(DIR, file));
      problems.push(...(obj.apiVersion === 'kuma.io/v1alpha1' ? strictSchemaProblems(obj) : manifestProblems(obj)));
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-kuma-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      const built = (await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout;
      const route = built.split(/^---$/m).map((d) => parse(d)).find((d) => d.kind === 'TrafficRoute');
      expect(route.metadata).toEqual({ name: 'podinfo', annotations: { '9898.service.kuma.io/protocol': 'http' } });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('another kuma.io/mesh annotation names the mesh; without the annotation the mesh is "default" (kuma.go Reconcile)', () => {
    const other = compileEdited([['kuma.io/mesh: default', 'kuma.io/mesh: payments']]);
    expect(parse(other.folders[0].files.get('trafficroute-podinfo.yaml')!).mesh).toBe('payments');
    const none = compileEdited([['  annotations:\n    kuma.io/mesh: default\n', '']]);
    expect(parse(none.folders[0].files.get('trafficroute-podinfo.yaml')!).mesh).toBe('default');
  });

  it('without spec.provider, the mesh provider kuma applies (the tutorial runs Flagger with -mesh-provider=kuma)', () => {
    const out = compileEdited([['  provider: kuma\n', '']], { meshProvider: 'kuma' });
    expect(parse(out.folders[0].files.get('trafficroute-podinfo.yaml')!).kind).toBe('TrafficRoute');
  });

  it('the same Canary name in two namespaces would share the cluster-scoped TrafficRoute: refused, nothing written', () => {
    const dir = tempDir('canarykit-kuma-two-');
    try {
      const text = fs.readFileSync(path.join(FIXTURES, 'kuma', 'podinfo.yaml'), 'utf8');
      fs.writeFileSync(path.join(dir, 'test.yaml'), text);
      fs.writeFileSync(path.join(dir, 'prod.yaml'), text.replaceAll('namespace: test', 'namespace: prod'));
      expect(() => compileFiles([dir], { stateDir })).toThrow('writes the cluster-scoped TrafficRoute "podinfo", as does');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['an A/B match', '    stepWeight: 10\n', '    stepWeight: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n', 'analysis.match', 'provider kuma cannot route by request attributes'],
    ['mirroring', '    stepWeight: 10\n', '    stepWeight: 10\n    mirror: true\n', 'analysis.mirror', 'provider kuma cannot mirror traffic'],
    ['a service timeout Kuma ignores', '    targetPort: 9898\n', '    targetPort: 9898\n    timeout: 15s\n', 'spec.service.timeout', 'not kuma'],
    ['an empty kuma.io/mesh annotation', 'kuma.io/mesh: default', 'kuma.io/mesh: ""', 'Canary test/podinfo: metadata.annotations: must name a Kuma mesh', 'kuma.io/mesh annotation'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    let error: unknown;
    try {
      compileEdited([[from, to]]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(where);
    expect((error as ValidationError).message).toContain(message);
  });
});
