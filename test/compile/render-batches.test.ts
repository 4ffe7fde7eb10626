import { describe, expect, it } from 'vitest';
import { compileObjects, parseYaml } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { podinfoCanaryYaml, podinfoDeploymentYaml } from '../support/flagger-yaml';

/*
 * compile builds and renders canaries in batches, releasing each batch's constructs (issue 14: peak
 * memory at 5,000 canaries). Batching is invisible: the folders, and the problems of a failing
 * compile, are those of one render of the whole app (CanaryApp.render, cdk8s App.synth's order).
 */

function inputs(count: number, edit: (ns: string, canary: string) => string = (_ns, c) => c) {
  const objects = [];
  for (let i = 0; i < count; i++) {
    const ns = `team-${String(i).padStart(2, '0')}`;
    objects.push(...parseYaml(`${podinfoDeploymentYaml(ns, `podinfo:1.0.${i}`)}---\n${edit(ns, podinfoCanaryYaml(ns))}`, `apps/${ns}.yaml`).objects);
  }
  // Claimed by no canary: passed through to _unreferenced/.
  objects.push(...parseYaml('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: loose, namespace: team-00 }\ndata: { a: b }\n', 'apps/loose.yaml').objects);
  return objects;
}

const flat = (folders: ReturnType<typeof compileObjects>['folders']) => folders.map((f) => [f.dir, [...f.files.entries()]]);

function problemsOf(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error('expected the compile to fail');
}

describe('compile renders in batches (compile/to-app.ts buildApp, constructs/render-pass.ts)', () => {
  it('writes the same folders, in the same order, whatever the batch size', () => {
    const objects = inputs(23);
    const whole = compileObjects(objects, { renderBatch: Number.POSITIVE_INFINITY });
    expect(whole.folders.map((f) => f.dir)).toEqual([...Array.from({ length: 23 }, (_, i) => `team-${String(i).padStart(2, '0')}/podinfo`), '_unreferenced']);
    for (const batch of [1, 5, 22, 23]) expect(flat(compileObjects(objects, { renderBatch: batch }).folders), `batch ${batch}`).toEqual(flat(whole.folders));
  });

  it('reports the same problems, in the same order, when canaries of different batches are invalid', () => {
    // maxWeight 0 is refused; a problem stops the batches from rendering, and every canary is still checked.
    const bad = (ns: string, c: string): string => (ns === 'team-02' || ns === 'team-17' ? c.replace('maxWeight: 20', 'maxWeight: 0') : c);
    const objects = inputs(23, bad);
    const whole = problemsOf(() => compileObjects(objects, { renderBatch: Number.POSITIVE_INFINITY })) as { path: string }[];
    expect(whole.map((p) => p.path).join('\n')).toMatch(/team-02[\s\S]*team-17/);
    for (const batch of [1, 5, 10]) expect(problemsOf(() => compileObjects(objects, { renderBatch: batch })), `batch ${batch}`).toEqual(whole);
  });
});
