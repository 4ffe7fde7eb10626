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

/*
 * The state file's symlink check, answered with one lstat per path component (the state folder
 * once for all plans) unless a component is a link; a link is resolved as before (issue 14).
 */
describe('readPlans: state files through symbolic links (one realpath of the root per call)', () => {
  function fleet(dir: string, count: number): void {
    for (let i = 0; i < count; i++) writePlan(dir, `dist/ns-${i}/app/canary.plan.json`, `ns-${i}`, 'app');
  }
  const refused = (dir: string): string[] => {
    try {
      readPlans(dir, 'dist');
      return [];
    } catch (e) {
      return (e as ValidationError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('accepts real folders, absent ones and links that stay inside, and refuses a link out in any component', () => {
    const dir = repo();
    const outside = repo();
    fleet(dir, 4);
    fs.mkdirSync(path.join(dir, 'state/ns-0'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'state/ns-0/app.json'), '{}');
    fs.mkdirSync(path.join(dir, 'elsewhere/ns-1'), { recursive: true });
    fs.symlinkSync(path.join(dir, 'elsewhere/ns-1'), path.join(dir, 'state/ns-1')); // a link inside the repository
    expect(readPlans(dir, 'dist').map((e) => e.plan.namespace)).toEqual(['ns-0', 'ns-1', 'ns-2', 'ns-3']);
    // The namespace folder of the third plan leads out: only that plan is refused.
    fs.symlinkSync(outside, path.join(dir, 'state/ns-2'));
    expect(refused(dir)).toEqual([expect.stringMatching(/^dist\/ns-2\/app\/canary\.plan\.json: stateFile state\/ns-2\/app\.json leads out of the repository/)]);
    fs.unlinkSync(path.join(dir, 'state/ns-2'));
    // The state file itself a link out, and a dangling link.
    fs.mkdirSync(path.join(dir, 'state/ns-3'));
    fs.symlinkSync(path.join(outside, 'app.json'), path.join(dir, 'state/ns-3/app.json'));
    expect(refused(dir)).toEqual([expect.stringMatching(/^dist\/ns-3\/app\/canary\.plan\.json: stateFile state\/ns-3\/app\.json leads out/)]);
    fs.unlinkSync(path.join(dir, 'state/ns-3/app.json'));
    fs.symlinkSync(path.join(dir, 'nowhere.json'), path.join(dir, 'state/ns-3/app.json'));
    expect(refused(dir)).toEqual([expect.stringMatching(/^dist\/ns-3\/app\/canary\.plan\.json: stateFile state\/ns-3\/app\.json leads out/)]);
  });

  it('refuses the plans when the state folder shared by all of them leads out (the first one stops the read)', () => {
    const dir = repo();
    const outside = repo();
    fleet(dir, 3);
    fs.symlinkSync(outside, path.join(dir, 'state'));
    expect(refused(dir)).toEqual([expect.stringMatching(/^dist\/ns-0\/app\/canary\.plan\.json: stateFile state\/ns-0\/app\.json leads out/)]);
    // A link to a folder inside the repository is fine for all of them.
    fs.unlinkSync(path.join(dir, 'state'));
    fs.mkdirSync(path.join(dir, 'real-state'));
    fs.symlinkSync(path.join(dir, 'real-state'), path.join(dir, 'state'));
    expect(readPlans(dir, 'dist')).toHaveLength(3);
  });
});
