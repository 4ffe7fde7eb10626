import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPlans } from '../src/adapters/repo-files';
import { ValidationError } from '../src/errors';
import { makePlan } from './support/plans';

/*
 * readPlans lists the output folder two levels down (namespace, name) instead of every file of
 * every canary folder (issue 14's idle tick); these pin what it still finds and refuses.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-repo-files-'));
  dirs.push(dir);
  return dir;
}

function writePlan(dir: string, rel: string, namespace: string, name: string): void {
  const plan = makePlan({ namespace, name, stateFile: `state/${namespace}/${name}.json` });
  fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), JSON.stringify(plan));
}

describe('readPlans (adapters/repo-files.ts)', () => {
  it('finds <outdir>/<namespace>/<name>/canary.plan.json, sorted by namespace/name, and skips folders without a plan', () => {
    const dir = repo();
    writePlan(dir, 'dist/b/one/canary.plan.json', 'b', 'one');
    writePlan(dir, 'dist/a/two/canary.plan.json', 'a', 'two');
    fs.mkdirSync(path.join(dir, 'dist/_unreferenced/x'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist/_unreferenced/x/configmap.yaml'), 'kind: ConfigMap\n');
    fs.writeFileSync(path.join(dir, 'dist/b/one/service.yaml'), 'kind: Service\n');
    fs.writeFileSync(path.join(dir, 'dist/.canarykit-output'), 'marker\n');
    expect(readPlans(dir, 'dist').map((e) => [e.folder, `${e.plan.namespace}/${e.plan.name}`])).toEqual([
      ['dist/a/two', 'a/two'],
      ['dist/b/one', 'b/one'],
    ]);
  });

  for (const rel of ['dist/canary.plan.json', 'dist/a/canary.plan.json']) {
    it(`refuses a plan directly in ${path.dirname(rel)}/ as misplaced`, () => {
      const dir = repo();
      writePlan(dir, 'dist/a/ok/canary.plan.json', 'a', 'ok');
      writePlan(dir, rel, 'a', 'two');
      let err: unknown;
      try {
        readPlans(dir, 'dist');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).problems).toEqual([
        { path: rel, message: `is for a/two but lies in ${path.dirname(rel)}/, not dist/a/two/; re-run synth` },
      ]);
    });
  }

  it('refuses a plan whose JSON is null instead of failing on it', () => {
    const dir = repo();
    fs.mkdirSync(path.join(dir, 'dist/a/x'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist/a/x/canary.plan.json'), 'null');
    expect(() => readPlans(dir, 'dist')).toThrow(ValidationError);
  });
});
