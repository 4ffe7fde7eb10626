import * as fs from 'fs';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTPUT_MARKER, outputDirProblems } from '../../src/constructs/output-dir';
import { PLAN_API_VERSION, PLAN_FILE } from '../../src/model/plan';
import { FLAGGER_FIXTURES, cliIn, snapshotTree, tempDir } from './support';

// Where synth and compile may write (src/constructs/output-dir.ts): the folders they may replace.
// The refusals are in bad-input.test.ts; these are the folders that must stay writable.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function work(): string {
  const d = tempDir('canarykit-outdir-');
  dirs.push(d);
  fs.cpSync(path.join(FLAGGER_FIXTURES, 'istio'), path.join(d, 'apps'), { recursive: true });
  return d;
}

describe('compile -o: folders canarykit may replace', () => {
  it('a new folder, then the same folder again (it holds the marker), with stale files gone', async () => {
    const d = work();
    expect((await cliIn(d, ['compile', '-f', 'apps', '-o', 'out'])).code).toBe(0);
    expect(fs.readFileSync(path.join(d, 'out', OUTPUT_MARKER), 'utf8')).toMatch(/written by canarykit/);
    fs.writeFileSync(path.join(d, 'out', 'test', 'stale.yaml'), 'kind: Stale\n');
    const r = await cliIn(d, ['compile', '-f', 'apps', '-o', 'out']);
    expect(r.code, r.err).toBe(0);
    expect(fs.existsSync(path.join(d, 'out', 'test', 'stale.yaml'))).toBe(false);
    expect(fs.readdirSync(d).sort()).toEqual(['apps', 'out']);
  });

  it('an empty existing folder', async () => {
    const d = work();
    fs.mkdirSync(path.join(d, 'out'));
    expect((await cliIn(d, ['compile', '-f', 'apps', '-o', 'out'])).code).toBe(0);
    expect(fs.existsSync(path.join(d, 'out', 'test', 'podinfo', PLAN_FILE))).toBe(true);
  });

  it('earlier output without the marker (only .yaml/.json and a canarykit plan), but not the same tree without the plan', () => {
    const d = work();
    const out = path.join(d, 'out');
    fs.mkdirSync(path.join(out, 'test', 'podinfo'), { recursive: true });
    fs.writeFileSync(path.join(out, 'test', 'podinfo', 'kustomization.yaml'), 'resources: []\n');
    expect(outputDirProblems(out, { cwd: d })).toHaveLength(1);
    fs.writeFileSync(path.join(out, 'test', 'podinfo', PLAN_FILE), JSON.stringify({ apiVersion: PLAN_API_VERSION, kind: 'AnalysisPlan' }));
    expect(outputDirProblems(out, { cwd: d })).toEqual([]);
    // Anything else in it (a README, a dot folder) means someone else's files live there too.
    fs.writeFileSync(path.join(out, 'README.md'), 'mine\n');
    expect(outputDirProblems(out, { cwd: d })).toHaveLength(1);
  });

  it('a failed compile into a marked folder leaves it byte for byte', async () => {
    const d = work();
    expect((await cliIn(d, ['compile', '-f', 'apps', '-o', 'out'])).code).toBe(0);
    fs.writeFileSync(path.join(d, 'apps', 'canary.yaml'), fs.readFileSync(path.join(d, 'apps', 'canary.yaml'), 'utf8').replace('name: podinfo\n  namespace: test', 'name: "../.."\n  namespace: test'));
    const before = snapshotTree(d);
    const r = await cliIn(d, ['compile', '-f', 'apps', '-o', 'out']);
    expect(r.code).toBe(2);
    expect(snapshotTree(d)).toEqual(before);
  });
});
