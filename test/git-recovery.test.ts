import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloneBusyError, ConfigError, GitCommandError, PushRejectedError, TickError, WorkspaceNotCleanError } from '../src/errors';
import { classifyRemoteFailure } from '../src/adapters/git/git-failures';
import { openGitWorkspace } from '../src/adapters/git/git';
import { identityOf } from '../src/adapters/git/process-table';
import { TICK_LOCK_FILE } from '../src/adapters/git/tick-lock';
import { createGitFixture, git, GitFixture, isolatedGitEnv, writeFiles } from './support/git';

/*
 * Crash safety of the git adapter on real repositories: what a killed tick leaves in the clone
 * (tracked edits under dist/ and state/, scratch folders, git's *.lock files, its tick record) is
 * discarded by the next tick, and nothing else is. The end-to-end kill -9 trials of real
 * `canarykit step` processes are in test/crash.test.ts.
 */

const MANAGED = ['state', 'dist'];

describe('push rejections are classified in one place (src/adapters/git/git-failures.ts)', () => {
  const target = 'origin/main';
  it.each([
    // git 2.39 --porcelain output of real races (see the racing test below), and the non-porcelain forms.
    ['!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nerror: failed to push some refs', PushRejectedError],
    ['! [rejected]        main -> main (non-fast-forward)', PushRejectedError],
    ['!\trefs/heads/main:refs/heads/main\t[rejected] (stale info)', PushRejectedError],
    [
      "remote: error: cannot lock ref 'refs/heads/main': is at 635bfd56b91fdf06a1d54aa5f6fe97724498738c but expected df0290fa7eb96fdeea0922457684266434ad6c88\n" +
        '!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)',
      PushRejectedError,
    ],
    ["! [remote rejected] main -> main (cannot lock ref 'refs/heads/main': is at 1111111 but expected 2222222)", PushRejectedError],
    [
      "remote: error: cannot lock ref 'refs/heads/main': Unable to create '/srv/r.git/refs/heads/main.lock': File exists.\n" +
        '!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)',
      PushRejectedError,
    ],
    ['!\trefs/heads/x:refs/heads/x\t[remote rejected] (reference already exists)', PushRejectedError],
    ['!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)', GitCommandError],
    ['!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)', GitCommandError],
    ["fatal: couldn't find remote ref main", ConfigError],
    ["fatal: Authentication failed for 'https://host/x.git/'", ConfigError],
    ["fatal: unable to access 'https://host/x.git/': Could not resolve host", GitCommandError],
  ])('%s', (text, type) => {
    const err = classifyRemoteFailure('push', target, text);
    expect(err).toBeInstanceOf(type);
    if (err instanceof PushRejectedError) expect(err.message).toMatch(/the remote branch moved/);
  });

  it('a fetch is never a push rejection', () => {
    expect(classifyRemoteFailure('fetch', target, "cannot lock ref 'refs/remotes/origin/main': is at 1 but expected 2")).not.toBeInstanceOf(PushRejectedError);
  });
});

describe('GitWorkspace after a killed tick (real repositories)', () => {
  let fx: GitFixture;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    fx = createGitFixture({ 'README.md': 'seed\n', 'dist/ns/app/canary.yaml': 'weight: 0\n', 'state/ns/app.json': '{"weight":0}\n' });
    for (const [k, v] of Object.entries(isolatedGitEnv(join(fx.root, 'home')))) vi.stubEnv(k, v);
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    vi.unstubAllEnvs();
    fx.cleanup();
  });

  function setup(leftoverWaitMs = 5000) {
    const dir = fx.clone('work');
    return { dir, ws: openGitWorkspace({ dir, tickLock: { leftoverWaitMs } }) };
  }

  /** The record a tick killed with kill -9 leaves: a process of this host that no longer runs. */
  function deadTickRecord(dir: string, extra: Record<string, unknown> = {}): void {
    const gone = spawnSync('true');
    writeFileSync(join(dir, '.git', TICK_LOCK_FILE), JSON.stringify({ pid: gone.pid, startTicks: 1, host: hostname(), startedAt: new Date().toISOString(), ...extra }));
  }

  /** What a tick killed between writing the state and committing leaves behind. */
  function killedTickLeftovers(dir: string): void {
    writeFiles(dir, {
      'state/ns/app.json': '{"weight":10}\n',
      'state/ns/app.json.tmp-4242': '{"weight":1',
      'dist/ns/app/canary.yaml': 'weight: 10\n',
      '.dist.staging-4242/ns/app/canary.yaml': 'weight: 10\n',
      '.dist.old-4242/ns/app/canary.yaml': 'weight: 0\n',
    });
    git(dir, ['add', 'state/ns/app.json']);
    // A git killed while it held the index, and one killed while updating the branch.
    writeFileSync(join(dir, '.git', 'index.lock'), '');
    mkdirSync(join(dir, '.git', 'refs', 'heads'), { recursive: true });
    writeFileSync(join(dir, '.git', 'refs', 'heads', 'main.lock'), '');
  }

  it('discards a killed tick\'s edits, scratch folders and git locks, and syncs to the remote', async () => {
    const { dir, ws } = setup();
    killedTickLeftovers(dir);
    deadTickRecord(dir);
    const tip = fx.pushConcurrently({ 'README.md': 'moved on\n' });
    expect(await ws.exclusive(() => ws.sync({ managed: MANAGED }))).toBe(tip);
    expect(git(dir, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(readFileSync(join(dir, 'state/ns/app.json'), 'utf8')).toBe('{"weight":0}\n');
    for (const gone of ['.dist.staging-4242', '.dist.old-4242', 'state/ns/app.json.tmp-4242', '.git/index.lock', '.git/refs/heads/main.lock', `.git/${TICK_LOCK_FILE}`]) {
      expect(existsSync(join(dir, gone)), gone).toBe(false);
    }
  });

  it('removes the scratch ref and marks file of a tick killed while git fast-import built its commits (commitAll)', async () => {
    const { dir, ws } = setup();
    git(dir, ['update-ref', 'refs/canarykit/commit-4242', 'HEAD']);
    writeFileSync(join(dir, '.git', 'canarykit-marks-4242'), ':1 0000000000000000000000000000000000000000\n');
    mkdirSync(join(dir, '.git', 'canarykit'), { recursive: true });
    writeFileSync(join(dir, '.git', 'canarykit', 'parse-cache.json.tmp-4242'), '{"key":');
    deadTickRecord(dir);
    await ws.exclusive(() => ws.sync({ managed: MANAGED }));
    expect(existsSync(join(dir, '.git', 'canarykit', 'parse-cache.json.tmp-4242'))).toBe(false);
    expect(git(dir, ['for-each-ref', 'refs/canarykit/'])).toBe('');
    expect(existsSync(join(dir, '.git', 'canarykit-marks-4242'))).toBe(false);
  });

  it('without a killed tick the same edits are somebody\'s: exit 2, nothing touched', async () => {
    const { dir, ws } = setup();
    writeFiles(dir, { 'state/ns/app.json': '{"weight":90}\n' });
    const err = await ws.exclusive(() => ws.sync({ managed: MANAGED })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkspaceNotCleanError);
    expect((err as Error).message).toMatch(/uncommitted changes to tracked files \(state\/ns\/app\.json\)/);
    expect(readFileSync(join(dir, 'state/ns/app.json'), 'utf8')).toBe('{"weight":90}\n');
  });

  it('after a killed tick, edits outside outdir/stateDir still stop the tick', async () => {
    const { dir, ws } = setup();
    killedTickLeftovers(dir);
    writeFiles(dir, { 'README.md': 'my uncommitted notes\n' });
    deadTickRecord(dir);
    const err = await ws.exclusive(() => ws.sync({ managed: MANAGED })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkspaceNotCleanError);
    expect((err as Error).message).toMatch(/\(README\.md\)/);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('my uncommitted notes\n');
    // The record stays: the next tick (once README.md is dealt with) still recovers.
    expect(existsSync(join(dir, '.git', TICK_LOCK_FILE))).toBe(true);
    git(dir, ['checkout', '--', 'README.md']);
    await ws.exclusive(() => ws.sync({ managed: MANAGED }));
    expect(git(dir, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  });

  it('after a killed tick, a file its interrupted checkout already wrote is not somebody\'s edit', async () => {
    const { dir, ws } = setup();
    fx.pushConcurrently({ 'README.md': 'release notes\n' });
    git(dir, ['fetch', '-q', 'origin']);
    // The killed reset had written README.md from the new tip but not yet moved HEAD.
    writeFiles(dir, { 'README.md': 'release notes\n' });
    deadTickRecord(dir);
    const tip = fx.remoteGit('rev-parse', 'main');
    expect(await ws.exclusive(() => ws.sync({ managed: MANAGED }))).toBe(tip);
  });

  it('a merge in progress is never canarykit\'s: exit 2 naming the fix', async () => {
    const { dir, ws } = setup();
    deadTickRecord(dir);
    writeFileSync(join(dir, '.git', 'MERGE_HEAD'), `${git(dir, ['rev-parse', 'HEAD'])}\n`);
    const err = await ws.exclusive(() => ws.sync({ managed: MANAGED })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkspaceNotCleanError);
    expect((err as Error).message).toMatch(/a merge in progress.*git merge --abort/);
  });

  it('refuses to run while another tick holds the clone (exit 1), and runs once it is gone', async () => {
    const { dir, ws } = setup();
    const holder = spawn('sleep', ['30']);
    children.push(holder);
    const id = identityOf(holder.pid!);
    writeFileSync(join(dir, '.git', TICK_LOCK_FILE), JSON.stringify({ ...id, host: hostname(), startedAt: new Date().toISOString() }));
    const err = await ws.exclusive(() => ws.sync({ managed: MANAGED })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(CloneBusyError);
    expect(err).toBeInstanceOf(TickError);
    expect((err as Error).message).toMatch(new RegExp(`pid ${holder.pid}`));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    await ws.exclusive(() => ws.sync({ managed: MANAGED }));
    expect(existsSync(join(dir, '.git', TICK_LOCK_FILE))).toBe(false);
  });

  it.runIf(existsSync('/proc/self/stat'))('waits for a process the killed tick left running in the clone', async () => {
    const { dir, ws } = setup(10_000);
    // The killed tick's orphaned child (git or the synth command), still working in the clone.
    const orphan = spawn('sh', ['-c', 'sleep 0.4; echo late > dist/ns/app/canary.yaml'], { cwd: dir });
    children.push(orphan);
    deadTickRecord(dir, { startTicks: identityOf(orphan.pid!).startTicks! - 1 });
    await ws.exclusive(() => ws.sync({ managed: MANAGED }));
    expect(orphan.exitCode).toBe(0);
    // Its late write came before the sync, which discarded it.
    expect(readFileSync(join(dir, 'dist/ns/app/canary.yaml'), 'utf8')).toBe('weight: 0\n');
  });

  it.runIf(existsSync('/proc/self/stat'))('gives up with exit 1 when the leftover process does not exit, and recovers later', async () => {
    const { dir, ws } = setup(300);
    const orphan = spawn('sleep', ['30'], { cwd: dir });
    children.push(orphan);
    deadTickRecord(dir, { startTicks: identityOf(orphan.pid!).startTicks! - 1 });
    killedTickLeftovers(dir);
    const err = await ws.exclusive(() => ws.sync({ managed: MANAGED })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TickError);
    expect((err as Error).message).toMatch(/still running/);
    orphan.kill('SIGKILL');
    await new Promise((r) => orphan.once('exit', r));
    await ws.exclusive(() => ws.sync({ managed: MANAGED }));
    expect(git(dir, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  });

  it('a tick that fails with the clone restored releases it; one that fails leaving edits is recovered next time', async () => {
    const { dir, ws } = setup();
    await expect(ws.exclusive(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(join(dir, '.git', TICK_LOCK_FILE))).toBe(false);
    await expect(ws.exclusive(async () => {
      await ws.sync({ managed: MANAGED });
      writeFiles(dir, { 'state/ns/app.json': '{"weight":10}\n' });
      throw new Error('killed before restoring');
    })).rejects.toThrow('killed');
    expect(existsSync(join(dir, '.git', TICK_LOCK_FILE))).toBe(true);
    await ws.exclusive(() => ws.sync({ managed: MANAGED }));
    expect(readFileSync(join(dir, 'state/ns/app.json'), 'utf8')).toBe('{"weight":0}\n');
  });
});

describe('racing pushes against one bare remote (real git)', () => {
  it('every push that loses a race is a PushRejectedError, whatever git calls it', async () => {
    const fx = createGitFixture({ 'dist/x.yaml': 'n: 0\n' });
    try {
      const clones = Array.from({ length: 5 }, (_, i) => {
        const dir = fx.clone(`racer-${i}`);
        return { dir, ws: openGitWorkspace({ dir }) };
      });
      let rejected = 0;
      for (let round = 0; round < 4; round++) {
        await Promise.all(clones.map(async ({ dir, ws }, i) => {
          await ws.sync();
          writeFiles(dir, { 'dist/x.yaml': `n: ${round}-${i}\n` });
          await ws.commit({ message: `round ${round} racer ${i}`, paths: ['dist'] });
          try {
            await ws.push();
          } catch (e) {
            expect(e).toBeInstanceOf(PushRejectedError);
            rejected++;
          }
        }));
      }
      expect(rejected).toBeGreaterThan(0);
      // Linear history on the remote: no merges, and one commit per successful push.
      expect(fx.remoteGit('log', '--merges', '--oneline', 'main')).toBe('');
      expect(Number(fx.remoteGit('rev-list', '--count', 'main'))).toBe(1 + 4 * 5 - rejected);
    } finally {
      fx.cleanup();
    }
  });
});
