import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStageHistory, stageHistoryCacheFile } from '../src/adapters/git/stage-history';
import { buildCommitMessage } from '../src/model/commit-message';
import { git, isolatedGitEnv } from './support/git';

/*
 * The driver's stage-history cache (issue 14): `git log -- state/` of a thousand-canary fleet was
 * most of a tick that commits one stage, so the driver keeps what it read in the clone's git
 * directory and reads only the commits since. Whatever the history does (more commits, a reset
 * to an older commit, a merge, a deepened shallow clone, a broken cache file), the cached read
 * must equal the plain one, which runs `git log` over the whole history as before.
 */

let root: string;
let repo: string;
let env: NodeJS.ProcessEnv;
let clock = 1_767_225_600; // 2026-01-01T00:00:00Z

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'canarykit-history-cache-'));
  const home = join(root, 'home');
  mkdirSync(home);
  env = isolatedGitEnv(home);
  repo = join(root, 'repo');
  git(root, ['init', '--quiet', '--initial-branch=main', repo], env);
  commit({ 'README.md': 'seed\n' }, 'seed');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function commit(files: Record<string, string>, message: string, dir = repo): string {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  clock += 60;
  const dates = { ...env, GIT_AUTHOR_DATE: `@${clock} +0000`, GIT_COMMITTER_DATE: `@${clock} +0000`, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.test', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.test' };
  git(dir, ['add', '--all'], dates);
  git(dir, ['commit', '--quiet', '--allow-empty', '--message', message], dates);
  return git(dir, ['rev-parse', 'HEAD'], env);
}

let weight = 0;
/** A stage commit of `ns/podinfo` (its state file and its trailers). */
function stage(ns: string, dir = repo): string {
  weight = (weight + 10) % 60;
  const message = buildCommitMessage({
    namespace: ns,
    name: 'podinfo',
    subject: `advance weight ${weight}`,
    checks: [`request-success-rate 99.${weight} >= 99: ok`],
    metrics: [{ name: 'request-success-rate', value: 99 + weight / 100 }],
    trailers: { phase: 'Progressing', weight, revision: 'abc123', failedChecks: 0 },
  });
  return commit({ [`state/${ns}/podinfo.json`]: `{"weight": ${weight}, "at": ${clock}}\n` }, message, dir);
}

const cacheOf = (dir = repo): string => stageHistoryCacheFile(dir)!;
const cached = (dir = repo, ref = 'HEAD', stateDir = 'state') => readStageHistory(dir, ref, stateDir, cacheOf(dir));
const plain = (dir = repo, ref = 'HEAD', stateDir = 'state') => readStageHistory(dir, ref, stateDir);
const cachedTip = (dir = repo): string => JSON.parse(readFileSync(cacheOf(dir), 'utf8')).tip;

describe('stage-history cache (issue 14; the records are what readStageHistory always read)', () => {
  it('lives in the git directory and, as commits are added, always equals a full read', async () => {
    expect(cacheOf()).toBe(join(repo, '.git', 'canarykit', 'stage-history.json'));
    stage('a');
    stage('b');
    expect(await cached()).toEqual(await plain());
    expect(existsSync(cacheOf())).toBe(true);
    expect(cachedTip()).toBe(git(repo, ['rev-parse', 'HEAD']));
    // A person's commit touching two state files (skipped), a README edit, more stages.
    const human = buildCommitMessage({ namespace: 'a', name: 'podinfo', subject: 'hand edit', checks: [], trailers: { phase: 'Progressing', weight: 5, revision: 'x', failedChecks: 0 } });
    commit({ 'state/a/podinfo.json': '{"hand": 1}\n', 'state/b/podinfo.json': '{"hand": 2}\n' }, human);
    commit({ 'README.md': 'edited\n' }, 'docs');
    stage('a');
    for (let i = 0; i < 3; i++) {
      stage(i % 2 ? 'a' : 'c');
      const [c, p] = [await cached(), await plain()];
      expect(c).toEqual(p);
      expect(cachedTip()).toBe(git(repo, ['rev-parse', 'HEAD']));
    }
    expect((await plain()).map((r) => r.canary)).toEqual(['a/podinfo', 'b/podinfo', 'a/podinfo', 'c/podinfo', 'a/podinfo', 'c/podinfo']);
    // An unchanged tip is answered from the cache alone, and still equals a full read.
    expect(await cached()).toEqual(await plain());
  });

  it('a reset to an older commit reads the older history; the cache keeps its newer tip', async () => {
    stage('a');
    const older = stage('b');
    stage('a');
    const newer = stage('c');
    expect(await cached()).toEqual(await plain());
    git(repo, ['reset', '--quiet', '--hard', older], env);
    expect(await cached()).toEqual(await plain());
    expect((await cached()).map((r) => r.canary)).toEqual(['a/podinfo', 'b/podinfo']);
    expect(cachedTip()).toBe(newer);
    // A new line of commits from the older one: neither descends from the other, so a full read.
    stage('d');
    expect(await cached()).toEqual(await plain());
    expect((await cached()).map((r) => r.canary)).toEqual(['a/podinfo', 'b/podinfo', 'd/podinfo']);
    expect(cachedTip()).toBe(git(repo, ['rev-parse', 'HEAD']));
  });

  it('a merge since the cached tip reads the whole log again (history simplification may differ)', async () => {
    stage('a');
    const base = git(repo, ['rev-parse', 'HEAD']);
    expect(await cached()).toEqual(await plain());
    git(repo, ['checkout', '--quiet', '-b', 'side'], env);
    stage('b');
    git(repo, ['checkout', '--quiet', 'main'], env);
    stage('c');
    git(repo, ['merge', '--quiet', '--no-edit', 'side'], { ...env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.test', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.test' });
    expect(cachedTip()).toBe(base);
    expect(await cached()).toEqual(await plain());
    expect((await plain()).map((r) => r.canary).sort()).toEqual(['a/podinfo', 'b/podinfo', 'c/podinfo']);
    stage('a');
    expect(await cached()).toEqual(await plain());
  });

  it('a merge that history simplification prunes: the cached side is not in the full log, nor in the cached read', async () => {
    stage('a');
    git(repo, ['checkout', '--quiet', '-b', 'side'], env);
    const picked = stage('b');
    expect(await cached()).toEqual(await plain()); // cached at the side commit
    git(repo, ['checkout', '--quiet', 'main'], env);
    const who = { ...env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.test', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.test' };
    git(repo, ['cherry-pick', picked], who);
    git(repo, ['merge', '--quiet', '--no-edit', '--strategy=ours', 'side'], who);
    const full = await plain();
    // The merge is TREESAME to main for state/: git log follows main only, so `picked` is not shown.
    expect(full.map((r) => r.sha)).not.toContain(picked);
    expect(await cached()).toEqual(full);
  });

  it('a broken, foreign or other-folder cache is ignored and rewritten', async () => {
    stage('a');
    stage('b');
    for (const text of ['not json', '{"version":1}', '[]', JSON.stringify({ version: 1, root: 'state', tip: 'f'.repeat(40), boundary: '\0', commits: [] })]) {
      mkdirSync(dirname(cacheOf()), { recursive: true });
      writeFileSync(cacheOf(), text);
      expect(await cached()).toEqual(await plain());
      expect(cachedTip()).toBe(git(repo, ['rev-parse', 'HEAD']));
    }
    // Another state folder: its own history, not the cached one.
    commit({ 'other/x/podinfo.json': '{}\n' }, buildCommitMessage({ namespace: 'x', name: 'podinfo', subject: 'init', checks: [], trailers: { phase: 'Initialized', weight: 0, revision: 'r', failedChecks: 0 } }));
    expect(await cached(repo, 'HEAD', 'other')).toEqual(await plain(repo, 'HEAD', 'other'));
    expect((await cached(repo, 'HEAD', 'other')).map((r) => r.canary)).toEqual(['x/podinfo']);
    expect(await cached()).toEqual(await plain());
  });

  it('a shallow clone that is deepened reads the history it gained', async () => {
    for (let i = 0; i < 4; i++) stage(i % 2 ? 'a' : 'b');
    const shallow = join(root, 'shallow');
    git(root, ['clone', '--quiet', '--depth', '2', `file://${repo}`, shallow], env);
    const before = await cached(shallow);
    expect(before).toEqual(await plain(shallow));
    expect(before.length).toBeLessThan(4); // the boundary commit shows every file as added
    git(shallow, ['fetch', '--quiet', '--unshallow'], env);
    const after = await cached(shallow);
    expect(after).toEqual(await plain(shallow));
    expect(after).toHaveLength(4);
  });

  it('without a cache file argument nothing is written (the exporter and report read as before)', async () => {
    stage('a');
    await plain();
    expect(existsSync(cacheOf())).toBe(false);
  });
});
