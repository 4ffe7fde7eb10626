import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, GitCommandError, PushRejectedError, TickError, UserError, WorkspaceNotCleanError } from '../src/errors';
import { buildCommitMessage } from '../src/model/commit-message';
import { openGitWorkspace, redactCredentials } from '../src/adapters/git/git';
import { createGitFixture, git, GitFixture, isolatedGitEnv, writeFiles } from './support/git';

describe('GitWorkspace on real repositories', () => {
  let fx: GitFixture;

  beforeEach(() => {
    fx = createGitFixture({ 'README.md': 'seed\n', 'dist/test/podinfo/canary.yaml': 'weight: 0\n' });
    // Like a CI machine: no global or system git config, hence no identity but the one we pass.
    for (const [k, v] of Object.entries(isolatedGitEnv(join(fx.root, 'home')))) vi.stubEnv(k, v);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    fx.cleanup();
  });

  function setup(options: { branch?: string } = {}) {
    const dir = fx.clone('work');
    return { dir, ws: openGitWorkspace({ dir, ...options }) };
  }

  const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

  async function caught(p: Promise<unknown>): Promise<Error> {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected a rejection');
  }

  describe('GitWorkspace.sync', () => {
    it('fast-forwards to the remote tip and returns it', async () => {
      const { dir, ws } = setup();
      const remoteSha = fx.pushConcurrently({ 'dist/test/podinfo/canary.yaml': 'weight: 10\n' });
      expect(await ws.sync()).toBe(remoteSha);
      expect(await ws.head()).toBe(remoteSha);
      expect(read(dir, 'dist/test/podinfo/canary.yaml')).toBe('weight: 10\n');
    });

    it('returns the head when already up to date', async () => {
      const { ws } = setup();
      const head = await ws.head();
      expect(await ws.sync()).toBe(head);
    });

    it('discards an unpushed canarykit commit left by a killed tick', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 20\n', 'dist/test/podinfo/new.yaml': 'x\n' });
      expect(await ws.commit({ message: 'unpushed', paths: ['dist'] })).not.toBeNull();
      const remoteSha = fx.pushConcurrently({ 'README.md': 'edited elsewhere\n' });

      expect(await ws.sync()).toBe(remoteSha);
      expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('2');
      expect(read(dir, 'dist/test/podinfo/canary.yaml')).toBe('weight: 0\n');
      expect(existsSync(join(dir, 'dist/test/podinfo/new.yaml'))).toBe(false);
      expect(git(dir, ['log', '--merges', '--oneline'])).toBe('');
    });

    it('discards an unpushed canarykit commit when the remote did not move', async () => {
      const { dir, ws } = setup();
      const before = await ws.head();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 20\n' });
      await ws.commit({ message: 'unpushed', paths: ['dist'] });
      expect(await ws.sync()).toBe(before);
      expect(read(dir, 'dist/test/podinfo/canary.yaml')).toBe('weight: 0\n');
    });

    it('refuses to discard unpushed commits somebody else made', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'README.md': 'my work\n' });
      git(dir, ['commit', '--quiet', '--all', '--message', 'human work']);
      const head = await ws.head();
      fx.pushConcurrently({ 'other.txt': 'x\n' });

      const err = await caught(ws.sync());
      expect(err).toBeInstanceOf(WorkspaceNotCleanError);
      expect(err.message).toMatch(/human work/);
      expect(await ws.head()).toBe(head);
    });

    it('refuses a dirty tree and leaves it untouched', async () => {
      const { dir, ws } = setup();
      const head = await ws.head();
      writeFiles(dir, { 'README.md': 'uncommitted edit\n', 'untracked.txt': 'ignored\n' });
      fx.pushConcurrently({ 'other.txt': 'x\n' });

      const err = await caught(ws.sync());
      expect(err).toBeInstanceOf(WorkspaceNotCleanError);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect(err.message).toMatch(/uncommitted changes to tracked files \(README\.md\)/);
      expect(read(dir, 'README.md')).toBe('uncommitted edit\n');
      expect(await ws.head()).toBe(head);
      expect(await ws.isClean()).toBe(false);
    });

    it('ignores untracked files', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'scratch.txt': 'x\n' });
      expect(await ws.isClean()).toBe(true);
      await expect(ws.sync()).resolves.toMatch(/^[0-9a-f]{40}$/);
    });

    it('checks out the configured branch from a detached HEAD', async () => {
      const { dir, ws } = setup();
      git(dir, ['checkout', '--quiet', '--detach']);
      const remoteSha = fx.pushConcurrently({ 'other.txt': 'x\n' });
      expect(await ws.sync()).toBe(remoteSha);
      expect(git(dir, ['symbolic-ref', '--short', 'HEAD'])).toBe('main');
    });

    it('refuses to reset a local branch holding foreign commits while HEAD is elsewhere', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'README.md': 'my work\n' });
      git(dir, ['commit', '--quiet', '--all', '--message', 'human work']);
      git(dir, ['checkout', '--quiet', '--detach', 'HEAD~1']);
      const err = await caught(ws.sync());
      expect(err).toBeInstanceOf(WorkspaceNotCleanError);
      expect(git(dir, ['log', '-1', '--format=%s', 'main'])).toBe('human work');
    });

    it('reports a branch missing on the remote as a configuration error', async () => {
      const { ws } = setup({ branch: 'nope' });
      const err = await caught(ws.sync());
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/nope/);
    });
  });

  describe('GitWorkspace.commit and push', () => {
    it('commits with the configured identity and trailers, readable on the remote', async () => {
      const { dir, ws } = setup();
      await ws.sync();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 30\n' });
      const message = buildCommitMessage({
        namespace: 'test',
        name: 'podinfo',
        subject: 'advance weight 20 -> 30',
        checks: ['request-success-rate 99.9 >= 99: ok'],
        trailers: { phase: 'Progressing', weight: 30, revision: 'abc123', failedChecks: 0 },
      });
      const sha = await ws.commit({ message, paths: ['dist'] });
      await ws.push();

      expect(fx.remoteGit('rev-parse', 'main')).toBe(sha);
      const [an, ae, cn, ce, ...body] = fx.remoteGit('log', '-1', '--format=%an%n%ae%n%cn%n%ce%n%B').split('\n');
      expect([an, ae, cn, ce]).toEqual(['canarykit', 'canarykit@localhost', 'canarykit', 'canarykit@localhost']);
      expect(body.join('\n')).toBe(message.trim());
      const parsed = execTrailers(fx.remoteGit('log', '-1', '--format=%B'));
      expect(parsed).toContain('Canary-Weight: 30');
      expect(parsed).toContain('Canary-Revision: abc123');

      const [last] = await ws.log(1);
      expect(last).toMatchObject({ sha, subject: 'canary(test/podinfo): advance weight 20 -> 30' });
      expect(last.trailers['Canary-Phase']).toBe('Progressing');
    });

    it('uses a custom author and committer', async () => {
      const dir = fx.clone('work');
      const ws = openGitWorkspace({
        dir,
        committer: { name: 'Bot', email: 'bot@example.test' },
        author: { name: 'Release Train', email: 'train@example.test' },
      });
      writeFiles(dir, { 'dist/a.yaml': 'a\n' });
      await ws.commit({ message: 'x', paths: ['dist'] });
      expect(git(dir, ['log', '-1', '--format=%an <%ae> / %cn <%ce>'])).toBe(
        'Release Train <train@example.test> / Bot <bot@example.test>',
      );
    });

    it('stages additions, edits and deletions under the paths only', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'dist/b/new.yaml': 'new\n', 'README.md': 'outside\n' });
      git(dir, ['rm', '--quiet', '-r', '--cached', 'dist/test']);
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': null });
      await ws.commit({ message: 'x', paths: ['dist', 'state/missing'] });
      expect(git(dir, ['show', '--name-status', '--format=', 'HEAD']).split('\n').sort()).toEqual([
        'A\tdist/b/new.yaml',
        'D\tdist/test/podinfo/canary.yaml',
      ]);
      expect(git(dir, ['status', '--porcelain'])).toBe('M README.md');
      // The index follows the commit for the committed paths only (commitAll's update-index).
      expect(git(dir, ['diff', '--cached', '--name-only'])).toBe('');
    });

    it('leaves the index equal to the new commit for edits, executables and symlinks, with fresh stat data', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'edited\n', 'dist/run.sh': '#!/bin/sh\n' });
      require('fs').chmodSync(require('path').join(dir, 'dist/run.sh'), 0o755);
      require('fs').symlinkSync('test/podinfo/canary.yaml', require('path').join(dir, 'dist/link'));
      await ws.commit({ message: 'x', paths: ['dist'] });
      expect(git(dir, ['ls-tree', '-r', 'HEAD', '--', 'dist/run.sh', 'dist/link']).split('\n').map((l) => l.split(' ')[0])).toEqual(['120000', '100755']);
      expect(git(dir, ['diff', '--cached', '--name-only'])).toBe('');
      expect(git(dir, ['status', '--porcelain'])).toBe('');
      // Fresh stat data: nothing needs re-hashing (diff-files compares stat data only).
      expect(git(dir, ['diff-files', '--name-only'])).toBe('');
    });

    it('stages the deletion of a directory that no longer exists', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': null });
      expect(await ws.commit({ message: 'x', paths: ['dist/test'] })).not.toBeNull();
      expect(git(dir, ['show', '--name-status', '--format=', 'HEAD'])).toBe('D\tdist/test/podinfo/canary.yaml');
    });

    it('reports a local git failure as a GitCommandError', async () => {
      const { dir, ws } = setup();
      writeFileSync(join(dir, '.git/index.lock'), '');
      writeFiles(dir, { 'dist/a.yaml': 'a\n' });
      const err = await caught(ws.commit({ message: 'x', paths: ['dist'] }));
      expect(err).toBeInstanceOf(GitCommandError);
      expect(err.message).toMatch(/index\.lock/);
    });

    it('returns null and makes no commit when nothing changed', async () => {
      const { dir, ws } = setup();
      const head = await ws.head();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 0\n' });
      expect(await ws.commit({ message: 'x', paths: ['dist'] })).toBeNull();
      expect(await ws.head()).toBe(head);
      expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('1');
    });

    it('throws PushRejectedError when another clone pushed in between, leaving the remote alone', async () => {
      const { dir, ws } = setup();
      await ws.sync();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 30\n' });
      await ws.commit({ message: 'ours', paths: ['dist'] });
      const theirs = fx.pushConcurrently({ 'README.md': 'theirs\n' });

      const err = await caught(ws.push());
      expect(err).toBeInstanceOf(PushRejectedError);
      expect(err).toBeInstanceOf(TickError);
      expect((err as TickError).retryable).toBe(true);
      expect(fx.remoteGit('rev-parse', 'main')).toBe(theirs);

      // The retry path: re-sync (dropping our commit), redo the step, push.
      expect(await ws.sync()).toBe(theirs);
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 30\n' });
      const sha = await ws.commit({ message: 'ours again', paths: ['dist'] });
      await ws.push();
      expect(fx.remoteGit('rev-parse', 'main')).toBe(sha);
      expect(fx.remoteGit('rev-parse', 'main^')).toBe(theirs);
    });

    it('reports an unreachable remote as a TickError on sync and push', async () => {
      const { dir, ws } = setup();
      git(dir, ['remote', 'set-url', 'origin', join(fx.root, 'does-not-exist.git')]);
      for (const op of [() => ws.sync(), () => ws.push()]) {
        const err = await caught(op());
        expect(err).toBeInstanceOf(GitCommandError);
        expect(err).toBeInstanceOf(TickError);
        expect(err.message).toMatch(/does-not-exist\.git/);
      }
    });

    it('never shows credentials of the remote URL in errors', async () => {
      const { dir, ws } = setup();
      git(dir, ['remote', 'set-url', 'origin', 'https://user:s3cr3t@127.0.0.1:9/x.git']);
      for (const op of [() => ws.sync(), () => ws.push()]) {
        const err = await caught(op());
        expect(err).toBeInstanceOf(TickError);
        expect(err.message).toMatch(/127\.0\.0\.1/);
        expect(`${err.message}\n${err.stack}`).not.toContain('s3cr3t');
      }
    });
  });

  describe('GitWorkspace.commitAll (one git fast-import for a tick, issue 14)', () => {
    const tree = (dir: string, rev: string) => git(dir, ['ls-tree', '-r', rev]);

    it('makes the same commits as commit() one by one: trees, messages, authors and author dates', async () => {
      const a = setup();
      const bDir = fx.clone('other');
      const b = openGitWorkspace({ dir: bDir });
      const date = new Date('2026-03-01T10:00:05Z');
      // A message with the blank-line runs and trailing spaces git commit -m cleans up.
      const message = buildCommitMessage({ namespace: 'test', name: 'podinfo', subject: 'advance weight 0 -> 10', checks: ['x  '], trailers: { phase: 'Progressing', weight: 10, revision: 'r1', failedChecks: 0 } }) + '\n\n\n';
      for (const dir of [a.dir, bDir]) {
        writeFiles(dir, { 'state/test/podinfo.json': '{"w":10}\n', 'dist/test/podinfo/canary.yaml': 'weight: 10\n', 'dist/web/frontend/x.yaml': 'x\n', 'dist/.canarykit-output': 'm\n' });
      }
      const requests = [
        { message, paths: ['state/test/podinfo.json', 'dist/test/podinfo'], date },
        { message: 'sync', paths: ['dist'] },
      ];
      const one = [await a.ws.commit(requests[0]), await a.ws.commit(requests[1])];
      const batch = await b.commitAll(requests);
      expect(batch).toHaveLength(2);
      const rev = (dir: string, sha: string | null) => git(dir, ['log', '-1', '--format=%T%n%an <%ae>%n%cn <%ce>%n%B', sha!]);
      const authorTime = (dir: string, sha: string | null) => Number(git(dir, ['log', '-1', '--format=%at', sha!]));
      for (let i = 0; i < 2; i++) expect(rev(bDir, batch[i])).toBe(rev(a.dir, one[i]));
      // The stage's author date is the request's; the dateless sync is dated "now" by both (which may be a second apart).
      expect(git(bDir, ['log', '-1', '--format=%ad', '--date=raw', batch[0]!])).toBe(git(a.dir, ['log', '-1', '--format=%ad', '--date=raw', one[0]!]));
      expect(authorTime(bDir, batch[0])).toBe(date.getTime() / 1000);
      expect(Math.abs(authorTime(bDir, batch[1]) - authorTime(a.dir, one[1]))).toBeLessThanOrEqual(5);
      // Each commit holds only its own request's files: the stage commit the canary's, the sync the rest.
      expect(git(bDir, ['show', '--name-only', '--format=', batch[0]!]).split('\n').sort()).toEqual(['dist/test/podinfo/canary.yaml', 'state/test/podinfo.json']);
      expect(git(bDir, ['show', '--name-only', '--format=', batch[1]!]).split('\n').sort()).toEqual(['dist/.canarykit-output', 'dist/web/frontend/x.yaml']);
      expect(git(bDir, ['rev-parse', 'HEAD'])).toBe(batch[1]);
      expect(git(bDir, ['rev-parse', `${batch[1]}^`])).toBe(batch[0]);
      // The index follows: nothing staged or modified is left, and no scratch ref.
      expect(git(bDir, ['status', '--porcelain'])).toBe('');
      expect(git(bDir, ['for-each-ref', 'refs/canarykit'])).toBe('');
      await b.push();
      expect(fx.remoteGit('rev-parse', 'main')).toBe(batch[1]);
    });

    it('records deletions, skips unchanged requests (null) and never commits ignored files or paths outside', async () => {
      const { dir, ws } = setup();
      writeFiles(dir, { '.gitignore': 'dist/*.tmp\n' });
      git(dir, ['add', '.gitignore']);
      git(dir, ['commit', '-qm', 'ignore']);
      const start = git(dir, ['rev-parse', 'HEAD']);
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': null, 'dist/scratch.tmp': 'ignored\n', 'README.md': 'outside\n', 'dist/with space/a "b".yaml': 'q\n' });
      const shas = await ws.commitAll([
        { message: 'unchanged', paths: ['state/test/podinfo.json'] },
        { message: 'del', paths: ['dist/test'] },
        { message: 'spaces', paths: ['dist'] },
      ]);
      expect(shas[0]).toBeNull();
      expect(git(dir, ['show', '--name-status', '--format=', shas[1]!])).toBe('D\tdist/test/podinfo/canary.yaml');
      expect(git(dir, ['show', '--name-only', '--format=', '-z', shas[2]!]).split('\0').filter(Boolean)).toEqual(['dist/with space/a "b".yaml']);
      expect(git(dir, ['rev-parse', `${shas[1]}^`])).toBe(start);
      expect(git(dir, ['status', '--porcelain'])).toBe('M README.md');
      expect(await ws.commitAll([{ message: 'again', paths: ['dist'] }])).toEqual([null]);
      expect(git(dir, ['rev-parse', 'HEAD'])).toBe(shas[2]);
      expect(tree(dir, 'HEAD')).not.toContain('scratch.tmp');
    });
  });

  describe('GitWorkspace.rollbackLocal', () => {
    it('restores branch, index and files after a local commit', async () => {
      const { dir, ws } = setup();
      const before = await ws.sync();
      writeFiles(dir, { 'dist/test/podinfo/canary.yaml': 'weight: 30\n' });
      await ws.commit({ message: 'x', paths: ['dist'] });
      await ws.rollbackLocal(before);
      expect(await ws.head()).toBe(before);
      expect(read(dir, 'dist/test/podinfo/canary.yaml')).toBe('weight: 0\n');
      expect(await ws.isClean()).toBe(true);
    });
  });
});

describe('redactCredentials', () => {
  it.each([
    ['https://user:s3cr3t@host/x.git', 'https://user:***@host/x.git'],
    ['https://ghp_token@github.com/o/r', 'https://***@github.com/o/r'],
    ["unable to access 'https://u:p@ss@h:9/x.git/'", "unable to access 'https://u:***@h:9/x.git/'"],
    ['ssh://git@github.com/o/r.git', 'ssh://git@github.com/o/r.git'],
    ['/plain/path and https://host/x', '/plain/path and https://host/x'],
  ])('%s', (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });
});

function execTrailers(message: string): string {
  return execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' }).trim();
}
