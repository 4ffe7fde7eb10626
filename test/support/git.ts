import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A bare remote on disk plus helpers to clone it and to commit to it from elsewhere. */
export interface GitFixture {
  /** Temp directory holding everything; removed by `cleanup`. */
  root: string;
  /** Path of the bare remote (usable as a remote URL). */
  remote: string;
  /** Branch seeded on the remote. */
  branch: string;
  /** A fresh clone with a repo-local identity (`Local User <local@example.test>`). */
  clone(name?: string): string;
  /**
   * Commits `files` (path -> content, null deletes) from a separate clone and pushes, as a
   * teammate or another tick would; returns the new remote sha.
   */
  pushConcurrently(files: Record<string, string | null>, message?: string): string;
  /** Runs git against the bare remote, e.g. `remoteGit('log', '-1', '--format=%an')`. */
  remoteGit(...args: string[]): string;
  cleanup(): void;
}

/** Env for fixture git processes: no user or system config, so tests behave like a bare CI box. */
export function isolatedGitEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, '.gitconfig'), LC_ALL: 'C' };
}

/** Runs git in `cwd` and returns trimmed stdout; throws with stderr on failure. */
export function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Writes `files` under `dir` (null deletes), creating parent directories. */
export function writeFiles(dir: string, files: Record<string, string | null>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    if (content === null) rmSync(full, { force: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
}

/** Creates a bare remote seeded with `files` in one commit on `branch`. */
export function createGitFixture(files: Record<string, string> = { 'README.md': 'seed\n' }, branch = 'main'): GitFixture {
  const root = mkdtempSync(join(tmpdir(), 'canarykit-git-'));
  const home = join(root, 'home');
  mkdirSync(home);
  const env = isolatedGitEnv(home);
  const remote = join(root, 'remote.git');
  git(root, ['init', '--quiet', '--bare', `--initial-branch=${branch}`, remote], env);
  let clones = 0;

  const clone = (name = `clone-${++clones}`): string => {
    const dir = join(root, name);
    git(root, ['clone', '--quiet', remote, dir], env);
    git(dir, ['config', 'user.name', 'Local User'], env);
    git(dir, ['config', 'user.email', 'local@example.test'], env);
    return dir;
  };

  const commitAndPush = (dir: string, changes: Record<string, string | null>, message: string): string => {
    writeFiles(dir, changes);
    git(dir, ['add', '--all'], env);
    git(dir, ['commit', '--quiet', '--message', message], env);
    git(dir, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], env);
    return git(dir, ['rev-parse', 'HEAD'], env);
  };

  const seed = clone('seed');
  git(seed, ['checkout', '--quiet', '-B', branch], env);
  commitAndPush(seed, files, 'seed');

  return {
    root,
    remote,
    branch,
    clone,
    pushConcurrently: (changes, message = 'concurrent change') => commitAndPush(clone(), changes, message),
    remoteGit: (...args) => git(remote, args, env),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
