import { redactUrlCredentials } from '../../redact';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, GitCommandError, WorkspaceNotCleanError } from '../../errors';
import { interruptedOperation, isUnder, removeScratchFolders } from './clone-leftovers';
import { FileChange, StreamCommit, assignPaths, cleanMessage, fastImportStream, parseMarks, parseStatusZ, rawDate } from './batch-commit';
import { parseTrailers } from '../../model/commit-message';
import { classifyRemoteFailure, summarize } from './git-failures';
import { TickLease, TickLockOptions, acquireTickLock, gitDirOf } from './tick-lock';

/** A git author or committer. */
export interface GitIdentity {
  name: string;
  email: string;
}

/** Where the step driver's clone is and whom its commits are from. */
export interface GitWorkspaceOptions {
  /** Root of an existing clone. Commit paths are relative to it. */
  dir: string;
  /** @default 'origin' */
  remote?: string;
  /** Branch Flux/Argo CD watch. @default 'main' */
  branch?: string;
  /** @default canarykit <canarykit@localhost> */
  committer?: GitIdentity;
  /** @default the committer */
  author?: GitIdentity;
}

/** One commit as read back by `log`. */
export interface CommitInfo {
  sha: string;
  subject: string;
  /** The full message: subject, body and trailers. */
  message: string;
  trailers: Record<string, string>;
  /** Committer e-mail: tells canarykit's own commits from people's. */
  committerEmail: string;
}

/** A change to commit: the message and the paths whose additions, edits and deletions it records. */
export interface CommitRequest {
  message: string;
  paths: readonly string[];
  /**
   * Author date: when the stage was decided (the driver's clock). Stage history (exporter,
   * review charts, report) reads stage times from it. @default git's now
   */
  date?: Date;
}

/** What `sync` may treat as canarykit's own. */
export interface SyncOptions {
  /**
   * Repository-relative folders canarykit writes (`outdir`, `stateDir`). After a tick that did
   * not finish (see `exclusive`), uncommitted edits and untracked files under them are discarded,
   * with the scratch folders of an interrupted synth next to the first one (the output folder).
   */
  managed?: readonly string[];
}

/** The git operations of one tick. Local state is always made to match the remote, never merged. */
export interface GitWorkspace {
  /**
   * Runs one tick holding the clone (src/adapters/git/tick-lock.ts): CloneBusyError while another tick
   * runs in it; after a tick that was killed or failed without restoring the clone, waits for what
   * it left running, removes the git lock files it left, and lets `sync` discard its edits.
   */
  exclusive<T>(body: () => Promise<T>): Promise<T>;
  /**
   * Makes the local branch exactly the remote branch and returns its sha. Unpushed commits made
   * by canarykit are discarded (the step is re-derived from fresh observations), and so are the
   * leftovers of an unfinished tick (SyncOptions.managed). Uncommitted edits to other tracked
   * files, unpushed commits by anyone else, or a merge/rebase in progress raise
   * WorkspaceNotCleanError.
   */
  sync(options?: SyncOptions): Promise<string>;
  /** Commits everything under `paths`; returns the new sha, or null when nothing changed. */
  commit(change: CommitRequest): Promise<string | null>;
  /**
   * Commits each change in order, on top of the previous one, as `commit` would one by one, but
   * with one `git status` and one `git fast-import` for all of them, then moves the branch with a
   * compare-and-swap (src/adapters/git/batch-commit.ts). Returns each commit's sha, or null for a change
   * with nothing to commit.
   */
  commitAll(changes: readonly CommitRequest[]): Promise<(string | null)[]>;
  /** Pushes the branch. PushRejectedError when the remote moved; GitCommandError otherwise. */
  push(): Promise<void>;
  /**
   * Checks out the branch at `sha`, resetting it, the index and tracked files (undoes a local
   * commit after a failed tick, and returns from another branch), and removes untracked files
   * under `cleanPaths` (files a failed tick wrote but never committed).
   */
  rollbackLocal(sha: string, cleanPaths?: readonly string[]): Promise<void>;
  /**
   * Creates or resets local branch `name` at `sha` and checks it out; edits to tracked files are
   * carried over (`sha` is HEAD when the driver calls it). Refuses the branch itself.
   */
  checkoutBranch(name: string, sha: string): Promise<void>;
  /**
   * Pushes local branch `name` to the same name on the remote, replacing whatever is there
   * (`+refs/heads/<name>`). Refuses the branch itself, which is only ever fast-forwarded.
   */
  forcePushBranch(name: string): Promise<void>;
  /** Deletes branch `name` on the remote. */
  deleteRemoteBranch(name: string): Promise<void>;
  /** Paths under `paths` that differ from HEAD: tracked changes and untracked files. */
  changedPaths(paths: readonly string[]): Promise<string[]>;
  /** Sha of HEAD. */
  head(): Promise<string>;
  /** True when no tracked file differs from HEAD (untracked files are ignored). */
  isClean(): Promise<boolean>;
  /** The last `n` commits of HEAD, newest first. */
  log(n: number): Promise<CommitInfo[]>;
}

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

/**
 * A git process that exited non-zero, with its output (may contain credentials: redact first).
 */
class GitFailure extends Error {
  constructor(readonly exitCode: number, readonly stdout: string, readonly stderr: string) {
    super(stderr.trim() || stdout.trim() || `git exited with ${exitCode}`);
  }
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
    if (changes.length === 0) return [];
    for (const c of changes) if (c.paths.length === 0) throw new Error('commit needs at least one path');
    const parent = await this.head();
    const all = [...new Set(changes.flatMap((c) => c.paths))];
    // One status for the whole tick: the index's stat data makes it cheap at any fleet size.
    const changed = parseStatusZ(await this.run(['status', '--porcelain=v2', '-z', '--untracked-files=all', '--no-renames', '--', ...all]));
    const perChange = assignPaths(changed, changes);
    const now = new Date();
    const commits: { index: number; commit: StreamCommit }[] = [];
    perChange.forEach((paths, index) => {
      if (paths.length === 0) return;
      const author = this.options.author ?? this.committer;
      commits.push({
        index,
        commit: {
          message: cleanMessage(changes[index].message),
          files: paths.map((p) => this.fileChange(p)),
          // As `git commit --date @<s> +0000`: the stage's time is the driver's clock, in UTC.
          author: { ...author, when: changes[index].date ? rawDate(changes[index].date!) : rawDate(now, -now.getTimezoneOffset()) },
          committer: { ...this.committer, when: rawDate(now, -now.getTimezoneOffset()) },
        },
      });
    });
    const result: (string | null)[] = changes.map(() => null);
    if (commits.length === 0) return result;
    const gitDir = gitDirOf(this.options.dir);
    const marksFile = join(gitDir, `canarykit-marks-${process.pid}`);
    // fast-import writes to a scratch ref; the branch itself moves only by the compare-and-swap below.
    const scratch = `refs/canarykit/commit-${process.pid}`;
    try {
      await this.run(
        ['fast-import', '--quiet', '--force', '--done', '--date-format=raw', `--export-marks=${marksFile}`],
        fastImportStream(scratch, parent, commits.map((c) => c.commit)),
      );
      const marks = parseMarks(readFileSync(marksFile, 'utf8'));
      commits.forEach((c, i) => (result[c.index] = marks.get(i + 1) ?? null));
      const tip = marks.get(commits.length);
      if (!tip) throw new GitCommandError(`git fast-import in ${this.options.dir} reported no commit for the tick`);
      // Fails if the branch moved since `parent` was read (it cannot while the tick holds the clone).
      await this.run(['update-ref', '--stdin'], `start\nupdate refs/heads/${this.branch} ${tip} ${parent}\ndelete ${scratch}\ncommit\n`);
    } finally {
      rmSync(marksFile, { force: true });
    }
    // The index follows the branch; entries whose content did not change keep their stat data.
    await this.run(['reset', '--mixed', '--quiet', 'HEAD']);
    return result;
  }

  /** commitAll's scratch ref and marks file, left by a tick killed while it built its commits. */
  private async removeBatchLeftovers(): Promise<void> {
    const refs = (await this.run(['for-each-ref', '--format=%(refname)', 'refs/canarykit/'])).split('\n').filter((r) => r.startsWith('refs/canarykit/commit-'));
    if (refs.length > 0) await this.run(['update-ref', '--stdin'], refs.map((r) => `delete ${r}\n`).join(''));
    const gitDir = gitDirOf(this.options.dir);
    for (const name of readdirSync(gitDir)) if (/^canarykit-marks-\d+$/.test(name)) rmSync(join(gitDir, name), { force: true });
    // The in-process compile's parse cache, cut short while being replaced (src/compile/parse-cache.ts).
    const own = join(gitDir, 'canarykit');
    if (existsSync(own)) for (const name of readdirSync(own)) if (/\.tmp-\d+$/.test(name)) rmSync(join(own, name), { force: true });
  }

  /** What a commit records for `path` (repository-relative) as it is on disk now. */
  private fileChange(path: string): FileChange {
    const abs = resolve(this.options.dir, path);
    let stat;
    try {
      stat = lstatSync(abs);
    } catch {
      return { path, deleted: true };
    }
    if (stat.isSymbolicLink()) return { path, content: Buffer.from(readlinkSync(abs)), mode: '120000' };
    return { path, content: readFileSync(abs), mode: stat.mode & 0o111 ? '100755' : '100644' };
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

  /** Runs git: a non-zero exit rejects with GitFailure; git that cannot start becomes GitCommandError. */
  private exec(args: string[], input?: string | Buffer): Promise<string> {
    return new Promise((resolveRun, reject) => {
      const child = spawn('git', args, { cwd: this.options.dir, env: this.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d: Buffer) => err.push(d));
      // Not retried: git missing from PATH will not come back on the next attempt.
      child.on('error', (e) => reject(new GitCommandError(`git ${args[0]} failed: ${redactCredentials(e.message)}`, false)));
      child.on('close', (code) => {
        const stdout = Buffer.concat(out).toString();
        if (code === 0) resolveRun(stdout);
        else reject(new GitFailure(code ?? 1, stdout, Buffer.concat(err).toString()));
      });
      if (input !== undefined) {
        // A git that exits early (bad input) closes its stdin; its exit code tells what happened.
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(input);
      }
    });
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
