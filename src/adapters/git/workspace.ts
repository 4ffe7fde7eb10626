/** The clone the driver works in: what a tick may do with git, and the shapes it exchanges. */

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
  /**
   * Whether `paths` are at HEAD as in the newest commit committed by `email` (false without one).
   * Optional: a workspace without it always has the driver synthesize after others' commits.
   */
  unchangedSinceCommitBy?(email: string, paths: readonly string[]): Promise<boolean>;
  /** The last `n` commits of HEAD, newest first. */
  log(n: number): Promise<CommitInfo[]>;
}
