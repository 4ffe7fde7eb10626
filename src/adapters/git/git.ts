import { redactUrlCredentials } from '../../redact';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, GitCommandError, WorkspaceNotCleanError } from '../../errors';
import { interruptedOperation, isUnder, removeScratchFolders } from './clone-leftovers';
import { parseTrailers } from '../../model/commit-message';
import { classifyRemoteFailure, summarize } from './git-failures';
import { TickLease, TickLockOptions, acquireTickLock, gitDirOf } from './tick-lock';
import { GitFailure, execGit } from './git-process';
import { BatchGit, commitAll, removeBatchLeftovers } from './commit-all';
import type { CommitInfo, CommitRequest, GitIdentity, GitWorkspace, GitWorkspaceOptions, SyncOptions } from './workspace';

export type { GitIdentity, GitWorkspaceOptions, CommitInfo, CommitRequest, SyncOptions, GitWorkspace } from './workspace';

/** Who commits when the configuration names nobody. */
export const DEFAULT_IDENTITY: GitIdentity = { name: 'canarykit', email: 'canarykit@localhost' };

/** Opens the clone at `options.dir` as a GitWorkspace running git directly. Runs no git command. */
export function openGitWorkspace(options: GitWorkspaceOptions & { tickLock?: TickLockOptions }): GitWorkspace {
  if (!existsSync(options.dir)) throw new ConfigError(`git workspace ${options.dir} does not exist; clone the repository there first`);
  return new SimpleGitWorkspace(options);
}

/**
 * Removes credentials from every URL in `text`: `https://user:token@host` becomes
 * `https://user:***@host`, and a bare token (`https://token@host`) becomes `https://***@host`.
 */
export function redactCredentials(text: string): string {
  return redactUrlCredentials(text);
}

interface LocalState {
  branch?: string;
  head?: string;
  /** Tracked paths differing from HEAD in the index or the work tree. */
  changed: string[];
  /** Some change is in the index. */
  staged: boolean;
}

/*
 * git is spawned directly rather than through simple-git, which waits an extra 50 ms for every git
 * process that stays silent: a tick runs a dozen commands, each one on the hot path.
 */
class SimpleGitWorkspace implements GitWorkspace {
  private readonly env: NodeJS.ProcessEnv;
  private readonly remote: string;
  private readonly branch: string;
  private readonly committer: GitIdentity;
  /** Held by `exclusive` for the duration of a tick. */
  private lease?: TickLease;

  constructor(private readonly options: GitWorkspaceOptions & { tickLock?: TickLockOptions }) {
    this.remote = options.remote ?? 'origin';
    this.branch = options.branch ?? 'main';
    this.committer = options.committer ?? DEFAULT_IDENTITY;
    const author = options.author ?? this.committer;
    // The operator's environment is kept (a deploy key's GIT_SSH_COMMAND, say): every argument is fixed by this file.
    this.env = {
      ...process.env,
      // CI machines have no git identity; never depend on global config for it.
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: this.committer.name,
      GIT_COMMITTER_EMAIL: this.committer.email,
      // A cron job must fail on missing credentials, not wait for someone to type them.
      GIT_TERMINAL_PROMPT: '0',
      // Rejections and "couldn't find remote ref" are recognised by their English text.
      LC_ALL: 'C',
    };
  }

  async exclusive<T>(body: () => Promise<T>): Promise<T> {
    if (this.lease) return body();
    const lease = await acquireTickLock(gitDirOf(this.options.dir), this.options.dir, this.options.tickLock);
    this.lease = lease;
    let clean = false;
    try {
      const result = await body();
      clean = true;
      return result;
    } catch (e) {
      // The driver restores the clone on failure; only a clone verifiably restored is released,
      // so a tick that could not restore it is recovered by the next one.
      clean = await this.isClean().catch(() => false);
      throw e;
    } finally {
      this.lease = undefined;
      if (clean) lease.release();
    }
  }

  async sync(options: SyncOptions = {}): Promise<string> {
    const managed = options.managed ?? [];
    const recovering = this.lease?.recovering === true;
    const interrupted = interruptedOperation(gitDirOf(this.options.dir));
    if (interrupted) {
      throw new WorkspaceNotCleanError(
        `${this.options.dir} has ${interrupted.what} in progress, which canarykit never starts; finish it or run ${interrupted.fix}`,
        [interrupted.what],
      );
    }
    const tracking = `refs/remotes/${this.remote}/${this.branch}`;
    const local = await this.localState();
    if (local.changed.length > 0) {
      const foreign = recovering ? await this.unexplainedChanges(local.changed, managed, tracking) : local.changed;
      if (foreign.length > 0) {
        throw new WorkspaceNotCleanError(
          `${this.options.dir} has uncommitted changes to tracked files (${preview(foreign)}); ` +
            'commit, stash or discard them: canarykit will not overwrite them',
          foreign,
        );
      }
    }
    // An explicit refspec works whatever fetch config the clone has (single-branch, mirrors...).
    await this.remoteCall('fetch', ['fetch', '--verbose', '--no-tags', this.remote, `+refs/heads/${this.branch}:${tracking}`]);
    const tip = (await this.run(['rev-parse', '--verify', `${tracking}^{commit}`])).trim();
    const onBranch = local.branch === this.branch;
    if (onBranch && local.head === tip && local.changed.length === 0 && !recovering) return tip;
    if (onBranch ? local.head : await this.succeeds(['show-ref', '--verify', `refs/heads/${this.branch}`])) {
      await this.refuseForeignCommits(tip, onBranch ? 'HEAD' : `refs/heads/${this.branch}`);
    }
    // reset on the branch itself; checkout -B also covers a detached HEAD or another branch.
    await this.run(onBranch ? ['reset', '--hard', tip] : ['checkout', '--force', '-B', this.branch, tip]);
    if (recovering && managed.length > 0) {
      await this.run(['clean', '-d', '--force', '--', ...managed]);
      removeScratchFolders(this.options.dir, managed[managed.length - 1]);
    }
    if (recovering) await this.removeBatchLeftovers();
    return tip;
  }

  /**
   * Of the tracked paths an unfinished tick left changed, those it cannot have made: outside the
   * managed folders, and not what its interrupted checkout was writing (the remote-tracking tip,
   * the only commit canarykit ever checks out).
   */
  private async unexplainedChanges(changed: readonly string[], managed: readonly string[], tracking: string): Promise<string[]> {
    const outside = changed.filter((p) => !isUnder(p, managed));
    if (outside.length === 0) return [];
    if (!(await this.succeeds(['rev-parse', '--verify', '--quiet', `${tracking}^{commit}`]))) return outside;
    const differing = new Set((await this.run(['diff', '--name-only', '--no-renames', tracking, '--', ...outside])).split('\n').filter(Boolean));
    return outside.filter((p) => differing.has(p));
  }

  async commit(change: CommitRequest): Promise<string | null> {
    if (change.paths.length === 0) throw new Error('commit needs at least one path');
    const present = change.paths.filter((p) => existsSync(resolve(this.options.dir, p)));
    const gone = change.paths.filter((p) => !present.includes(p));
    if (present.length > 0) await this.run(['add', '--all', '--verbose', '--', ...present]);
    // `git add` rejects a path that no longer exists; this stages its deletion instead.
    if (gone.length > 0) await this.run(['rm', '-r', '--cached', '--ignore-unmatch', '--', ...gone]);
    if (!(await this.localState()).staged) return null;
    const date = change.date ? ['--date', `@${Math.floor(change.date.getTime() / 1000)} +0000`] : [];
    await this.run(['commit', ...date, '--message', change.message]);
    return this.head();
  }

  async commitAll(changes: readonly CommitRequest[]): Promise<(string | null)[]> {
    return commitAll(this.batchGit(), changes);
  }

  private async removeBatchLeftovers(): Promise<void> {
    return removeBatchLeftovers(this.batchGit());
  }

  private batchGit(): BatchGit {
    return {
      dir: this.options.dir,
      branch: this.branch,
      author: this.options.author ?? this.committer,
      committer: this.committer,
      run: (args, input) => this.run(args, input),
      head: () => this.head(),
    };
  }

  async push(): Promise<void> {
    const ref = `refs/heads/${this.branch}`;
    await this.remoteCall('push', ['push', '--porcelain', this.remote, `${ref}:${ref}`]);
  }

  async rollbackLocal(sha: string, cleanPaths: readonly string[] = []): Promise<void> {
    // Like reset --hard on the branch, and also comes back from a pull-request branch.
    await this.run(['checkout', '--force', '-B', this.branch, sha]);
    if (cleanPaths.length > 0) await this.run(['clean', '-d', '--force', '--', ...cleanPaths]);
  }

  async checkoutBranch(name: string, sha: string): Promise<void> {
    this.refuseBase(name);
    await this.run(['checkout', '-B', name, sha]);
  }

  async forcePushBranch(name: string): Promise<void> {
    this.refuseBase(name);
    const ref = `refs/heads/${name}`;
    await this.remoteCall('push', ['push', '--porcelain', this.remote, `+${ref}:${ref}`], `${this.remote}/${name}`);
  }

  async deleteRemoteBranch(name: string): Promise<void> {
    this.refuseBase(name);
    await this.remoteCall('push', ['push', '--porcelain', this.remote, `:refs/heads/${name}`], `${this.remote}/${name}`);
  }

  async changedPaths(paths: readonly string[]): Promise<string[]> {
    if (paths.length === 0) return [];
    // --branch makes git print something even when nothing changed (see the note above the class).
    const out = await this.run(['status', '--porcelain=v2', '--branch', '--untracked-files=all', '--', ...paths]);
    return out
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => (line.startsWith('? ') ? line.slice(2) : changedPath(line)));
  }

  private refuseBase(name: string): void {
    if (name === this.branch) throw new Error(`refusing to treat ${this.branch}, the branch canarykit fast-forwards, as a pull-request branch`);
  }

  async head(): Promise<string> {
    return (await this.run(['rev-parse', 'HEAD'])).trim();
  }

  /**
   * Whether `paths` hold at HEAD exactly what they held in the newest commit committed by `email`
   * (false when there is none): a tree comparison, so it holds whatever the history between them.
   */
  async unchangedSinceCommitBy(email: string, paths: readonly string[]): Promise<boolean> {
    if (paths.length === 0) return false;
    const sha = (await this.run(['log', '--max-count=1', '--fixed-strings', `--committer=<${email}>`, '--format=%H', 'HEAD'])).trim();
    if (!sha) return false;
    return this.succeeds(['diff', '--quiet', '--no-renames', sha, 'HEAD', '--', ...paths]);
  }

  async isClean(): Promise<boolean> {
    return (await this.localState()).changed.length === 0;
  }

  async log(n: number): Promise<CommitInfo[]> {
    const out = await this.run(['log', `--max-count=${n}`, '--format=%H%x00%ce%x00%B%x1e']);
    return out
      .split('\x1e')
      .map((record) => record.replace(/^\n/, ''))
      .filter((record) => record.includes('\0'))
      .map((record) => {
        const [sha, committerEmail, message] = record.split('\0');
        return { sha, committerEmail, subject: message.split('\n', 1)[0], message, trailers: parseTrailers(message) };
      });
  }

  /** Branch, head and changed tracked files from one `git status`. */
  private async localState(): Promise<LocalState> {
    const out = await this.run(['status', '--porcelain=v2', '--branch', '--untracked-files=no']);
    const state: LocalState = { changed: [], staged: false };
    for (const line of out.split('\n')) {
      if (line.startsWith('# branch.head ')) state.branch = line.slice('# branch.head '.length);
      else if (line.startsWith('# branch.oid ')) {
        const oid = line.slice('# branch.oid '.length);
        if (oid !== '(initial)') state.head = oid;
      } else if (line && !line.startsWith('#')) {
        state.changed.push(changedPath(line));
        // `1 XY ...`: X is the index side; '.' means unchanged there.
        if (line[2] !== '.') state.staged = true;
      }
    }
    return state;
  }

  /** Local commits missing from the remote may only be canarykit's own leftovers from a killed tick. */
  private async refuseForeignCommits(tip: string, local: string): Promise<void> {
    // Counting first keeps the common case (local merely behind) to one command with output.
    const [, ahead] = (await this.run(['rev-list', '--left-right', '--count', `${tip}...${local}`])).trim().split(/\s+/);
    if (ahead === '0') return;
    const out = await this.run(['log', '--format=%h %ce %s', `${tip}..${local}`]);
    const foreign = out
      .split('\n')
      .filter((line) => line && line.split(' ')[1] !== this.committer.email);
    if (foreign.length > 0) {
      throw new WorkspaceNotCleanError(
        `local ${this.branch} in ${this.options.dir} has commits not on ${this.remote}/${this.branch} that canarykit ` +
          `did not make (${preview(foreign)}); push or drop them: canarykit only discards its own unpushed commits`,
        foreign,
      );
    }
  }

  /** Runs a command that talks to the remote and turns its failure into a typed, redacted error. */
  private async remoteCall(what: 'fetch' | 'push', args: string[], target = `${this.remote}/${this.branch}`): Promise<void> {
    try {
      await this.exec(args);
    } catch (e) {
      throw e instanceof GitFailure ? classifyRemoteFailure(what, target, redactCredentials(`${e.stderr}\n${e.stdout}`)) : e;
    }
  }

  /** Runs a local command; a failure (a stale index.lock, a full disk) becomes a GitCommandError. */
  private async run(args: string[], input?: string | Buffer): Promise<string> {
    try {
      return await this.exec(args, input);
    } catch (e) {
      if (!(e instanceof GitFailure)) throw e;
      throw new GitCommandError(`git ${args[0]} in ${this.options.dir} failed: ${summarize(redactCredentials(e.message))}`);
    }
  }

  private async succeeds(args: string[]): Promise<boolean> {
    return this.exec(args).then(
      () => true,
      () => false,
    );
  }

  /** Runs git in the clone (git-process.ts). */
  private exec(args: string[], input?: string | Buffer): Promise<string> {
    return execGit(this.options.dir, this.env, args, input);
  }
}

/** Path of a `git status --porcelain=v2` entry; paths may contain spaces, so count fields. */
function changedPath(line: string): string {
  // Fields before the path: ordinary (1) 8, renamed (2) 9, unmerged (u) 10.
  const skip = line.startsWith('2 ') ? 9 : line.startsWith('u ') ? 10 : 8;
  return line.split(' ').slice(skip).join(' ').split('\t')[0];
}

function preview(items: readonly string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}
