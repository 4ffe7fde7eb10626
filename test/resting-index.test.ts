import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DriverDeps, StepReport, applyManual, step } from '../src/driver/driver';
import { restingIndexFile } from '../src/adapters/resting-index';
import { GitWorkspace } from '../src/adapters/git/git';
import { TEST_CONFIG, appJson, healthyPodinfo, realDeps } from './support/driver-fixture';
import { runCli } from './support/cli';
import { GitFixture, createGitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The resting-canary index (issue 14, adapters/resting-index.ts): an idle tick answers canaries
 * that are paused or at rest without a new revision (machine/tick.ts classifyTick's `idle('paused')`
 * and `idle('no-new-revision')` branches, Flagger's scheduler.go advanceCanary returning early for a
 * canary with no spec change) from `.git/canarykit/resting.json` instead of reading their plan and
 * state. Every test compares a tick with the index against the same tick without it
 * (`restingIndex: false`, the full read): the report, the log lines and any error must be equal.
 *
 * The files here were all written within the last 2 s, which the racy-clean rule refuses to index,
 * so the index's clock is set 10 s ahead (one test runs it on the real clock). The clone's sync is
 * frozen so that hand edits in the work tree survive until the tick reads them: a real sync that
 * rewrites a file gives it a new ctime, which is a miss anyway.
 */

const NAMESPACES = ['rest-a', 'rest-b', 'rest-c', 'rest-d'];

describeWithPrometheus('resting-canary index: the same idle ticks with and without it', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  let dir: string;
  const clock = { now: at(60) };
  const ahead = { clock: () => Date.now() + 10_000 };

  /** Real adapters with the sync frozen at the clone's head (hand edits stay in the work tree). */
  function deps(logs: string[], restingIndex: DriverDeps['restingIndex']): DriverDeps {
    const base = realDeps(dir, prom.url, clock, logs);
    const real = base.git;
    const frozen = Object.create(real) as GitWorkspace;
    frozen.sync = () => real.head();
    return { ...base, git: frozen, restingIndex };
  }

  type Run = { report?: StepReport; error?: string; logs: string[] };
  async function tick(restingIndex: DriverDeps['restingIndex'], select: { all: true } | { canary: string } = { all: true }): Promise<Run> {
    const logs: string[] = [];
    try {
      const report = await step({ repoDir: dir, config: TEST_CONFIG, select }, deps(logs, restingIndex));
      return { report: JSON.parse(JSON.stringify(report)), logs };
    } catch (e) {
      return { error: `${(e as Error).constructor.name}: ${(e as Error).message}`, logs };
    }
  }

  /** The tick with the index (kept from the last tick) and the full read give the same answer. */
  async function same(select?: { all: true } | { canary: string }): Promise<Run> {
    const cached = await tick(ahead, select);
    const full = await tick(false, select);
    expect(cached).toEqual(full);
    expect(JSON.stringify(cached)).toBe(JSON.stringify(full));
    return cached;
  }

  const index = (): { entries: Record<string, { outcome: { summary: string } }> } => JSON.parse(readFileSync(restingIndexFile(dir), 'utf8'));
  const planFile = (ns: string): string => join(dir, 'dist', ns, 'podinfo', 'canary.plan.json');
  const stateFile = (ns: string): string => join(dir, 'state', ns, 'podinfo.json');
  /** Replaces `from` by `to` (same length) in `file`, and puts its mtime back. */
  function editKeepingSizeAndMtime(file: string, from: string, to: string): void {
    expect(to.length).toBe(from.length);
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(from);
    writeFileSync(file, text.replace(from, to));
    utimesSync(file, before.atimeMs / 1000, before.mtimeMs / 1000);
    const after = statSync(file);
    expect([after.ino, after.size]).toEqual([before.ino, before.size]);
    expect(Math.floor(after.mtimeMs / 1000)).toBe(Math.floor(before.mtimeMs / 1000));
    expect(after.ctimeMs).not.toBe(before.ctimeMs);
  }

  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    for (const ns of NAMESPACES) healthyPodinfo(w, ns);
    prom = await startPrometheus(String(w));
    fx = createGitFixture({
      'app.json': appJson({ canaries: NAMESPACES.map((namespace) => ({ namespace, image: 'podinfo:6.0.0' })) }),
      // For the CLI test: the driver's committer (its own head needs no synth), and a synth that would do nothing.
      'canarykit.yaml': 'synth: "true"\ngit:\n  committer: { name: canarykit, email: canarykit@example.test }\n',
    });
    dir = fx.clone('driver');
    // Two committed stages bring every canary to rest: Initializing, then Initialized.
    for (let i = 0; i < 2; i++) {
      const r = await step({ repoDir: dir, config: TEST_CONFIG, select: { all: true } }, { ...realDeps(dir, prom.url, clock), restingIndex: false });
      expect(r.pushed).toBe(true);
      clock.now = new Date(clock.now.getTime() + 60_000);
    }
    expect(existsSync(restingIndexFile(dir))).toBe(false);
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    fx?.cleanup();
  });

  it('indexes the resting canaries and answers the next idle ticks from it, identically', async () => {
    const first = await same();
    expect(first.report!.outcomes.map((o) => o.summary)).toEqual(NAMESPACES.map(() => 'no change: at rest in Initialized: no new revision'));
    expect(Object.keys(index().entries)).toEqual(NAMESPACES.map((ns) => `dist/${ns}/podinfo`));
    // The index is what answers: an outcome changed in it (keys still matching) is what the tick reports.
    const file = restingIndexFile(dir);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"summary":"no change: at rest in Initialized: no new revision"', '"summary":"from the index"'));
    const hit = await tick(ahead);
    expect(hit.report!.outcomes.map((o) => o.summary)).toEqual(['from the index', ...NAMESPACES.slice(1).map(() => 'no change: at rest in Initialized: no new revision')]);
    rmSync(file);
    await same();
    await same({ canary: 'rest-c/podinfo' });
    await same();
    expect(Object.keys(index().entries)).toHaveLength(4);
  });

  it('a one-canary tick keeps the other canaries\' entries, which answer the next --all tick (resting-index.ts save keepUnread)', async () => {
    await same();
    expect(Object.keys(index().entries)).toHaveLength(4);
    const file = restingIndexFile(dir);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"summary":"no change: at rest in Initialized: no new revision"', '"summary":"still from the index"'));
    const one = await tick(ahead, { canary: 'rest-c/podinfo' });
    expect(one.report!.outcomes.map((o) => o.canary)).toEqual(['rest-c/podinfo']);
    // rest-a was not looked at by the one-canary tick: its entry (and its planted outcome) is still there.
    expect(Object.keys(index().entries)).toEqual(NAMESPACES.map((ns) => `dist/${ns}/podinfo`));
    const all = await tick(ahead);
    expect(all.report!.outcomes[0].summary).toBe('still from the index');
    rmSync(file);
    await same();
  });

  it('on the real clock, files written within the last 2 s are not indexed (racy-clean rule)', async () => {
    rmSync(restingIndexFile(dir), { force: true });
    // Touch rest-a's state: its ctime is now.
    const st = statSync(stateFile('rest-a'));
    utimesSync(stateFile('rest-a'), st.atime, st.mtime);
    const real = await tick(undefined);
    expect(real).toEqual(await tick(false));
    expect(Object.keys(index().entries)).not.toContain('dist/rest-a/podinfo');
    await same();
  });

  it('a hand-edited state file of the same size and mtime is read again', async () => {
    // A whole-second mtime, so that putting it back restores it exactly: only the ctime tells.
    const second = Math.floor(Date.now() / 1000) - 60;
    utimesSync(stateFile('rest-b'), second, second);
    await same();
    expect(Object.keys(index().entries)).toContain('dist/rest-b/podinfo');
    editKeepingSizeAndMtime(stateFile('rest-b'), '"failedChecks": 0', '"failedChecks": 1');
    const run = await same();
    expect(run.report!.outcomes.find((o) => o.canary === 'rest-b/podinfo')!.failedChecks).toBe(1);
    git(dir, ['checkout', '--', 'state/']);
    await same();
  });

  it('a hand-edited plan of the same size and mtime is read again (and refused the same way)', async () => {
    await same();
    // A tick that fails resets the clone (the edit is gone), so the edit is made before each of the two ticks.
    const edit = (): void => editKeepingSizeAndMtime(planFile('rest-c'), '"kind": "AnalysisPlan"', '"kind": "AnalysisPlaX"');
    edit();
    const cached = await tick(ahead);
    edit();
    const full = await tick(false);
    expect(cached).toEqual(full);
    expect(cached.error).toMatch(/invalid analysis plan:\s+dist\/rest-c\/podinfo\/canary.plan.json: expected/);
    git(dir, ['checkout', '--', 'dist/']);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
    await same();
  });

  it('a state folder moved out of the clone and linked back is refused, as by the full read', async () => {
    await same();
    expect(Object.keys(index().entries)).toContain('dist/rest-d/podinfo');
    // Moving a folder leaves its files' lstat keys as they were: only the link on the way tells.
    const outside = mkdtempSync(join(tmpdir(), 'canarykit-resting-'));
    const folder = join(dir, 'state', 'rest-d');
    renameSync(folder, join(outside, 'rest-d'));
    symlinkSync(join(outside, 'rest-d'), folder);
    const cached = await tick(ahead);
    // The failed tick reset the clone (git put the folder back): link it again for the full read.
    rmSync(folder, { recursive: true, force: true });
    symlinkSync(join(outside, 'rest-d'), folder);
    const full = await tick(false);
    expect(cached).toEqual(full);
    expect(cached.error).toMatch(/leads out of the repository through a symbolic link/);
    rmSync(folder, { recursive: true, force: true });
    renameSync(join(outside, 'rest-d'), folder);
    rmSync(outside, { recursive: true, force: true });
    expect(git(dir, ['status', '--porcelain'])).toBe('');
    await same();
  });

  it('a symbolic link, a deleted canary and a new canary', async () => {
    await same();
    // A state file replaced by a link to the same file keeps its lstat keys on the target: a miss.
    const target = join(dir, 'moved.json');
    renameSync(stateFile('rest-d'), target);
    symlinkSync(target, stateFile('rest-d'));
    await same();
    rmSync(stateFile('rest-d'));
    renameSync(target, stateFile('rest-d'));
    // Deleted: its folder goes, its entry with it.
    const folder = join(dir, 'dist', 'rest-d', 'podinfo');
    renameSync(folder, join(dir, 'gone'));
    const without = await same();
    expect(without.report!.outcomes.map((o) => o.canary)).toEqual(['rest-a/podinfo', 'rest-b/podinfo', 'rest-c/podinfo']);
    expect(Object.keys(index().entries)).not.toContain('dist/rest-d/podinfo');
    // Back (as a new canary would appear): read in full, then indexed.
    renameSync(join(dir, 'gone'), folder);
    const back = await same();
    expect(back.report!.outcomes).toHaveLength(4);
    expect(Object.keys(index().entries)).toContain('dist/rest-d/podinfo');
  });

  it('pause and resume: a paused canary is indexed, the resume is seen', async () => {
    await same();
    const manual = async (command: 'pause' | 'resume'): Promise<void> => {
      await applyManual({ repoDir: dir, config: TEST_CONFIG, canary: 'rest-a/podinfo', command }, realDeps(dir, prom.url, clock));
    };
    await manual('pause');
    const paused = await same();
    expect(paused.report!.outcomes[0].summary).toMatch(/paused/);
    await same();
    expect(index().entries['dist/rest-a/podinfo'].outcome.summary).toMatch(/paused/);
    await manual('resume');
    const resumed = await same();
    expect(resumed.report!.outcomes[0].summary).toBe('no change: at rest in Initialized: no new revision');
    await same();
    expect(index().entries['dist/rest-a/podinfo'].outcome.summary).toBe('no change: at rest in Initialized: no new revision');
  });

  it('the CLI (real clock, real sync) prints the same lines, JSON and exit code with and without the index', async () => {
    // The racy-clean rule on the real clock: wait until the last write is 2 s old.
    const newest = Math.max(...NAMESPACES.flatMap((ns) => [statSync(planFile(ns)).ctimeMs, statSync(stateFile(ns)).ctimeMs]));
    await new Promise((r) => setTimeout(r, Math.max(0, newest + 2100 - Date.now())));
    for (const args of [['--all'], ['--all', '--json'], ['--canary', 'rest-b/podinfo', '--json'], ['--all', '--dry-run']]) {
      rmSync(restingIndexFile(dir), { force: true });
      const full = await runCli(['step', '--repo', dir, ...args], clock.now);
      expect(Object.keys(index().entries), args.join(' ')).toHaveLength(args.includes('--canary') ? 1 : 4);
      const cached = await runCli(['step', '--repo', dir, ...args], clock.now);
      expect(cached, args.join(' ')).toEqual(full);
      expect(full.code).toBe(0);
      expect(full.out).toContain(args.includes('--canary') ? 'rest-b/podinfo' : 'rest-d/podinfo');
    }
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  }, 30_000);

  it('a corrupt, foreign or truncated index is ignored', async () => {
    const file = restingIndexFile(dir);
    for (const text of ['{not json', '[]', 'null', JSON.stringify({ ...index(), canarykit: '0.0.0-other' }), JSON.stringify({ ...index(), stateDir: 'elsewhere' }), readFileSync(file, 'utf8').slice(0, 200)]) {
      writeFileSync(file, text);
      await same();
    }
    expect(Object.keys(index().entries)).toHaveLength(4);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });
});
