import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloneBusyError, TickError } from '../../errors';
import { ProcessIdentity, isRunning, leftoverProcesses, selfIdentity } from './process-table';

/**
 * One tick at a time per clone, and a record that survives a killed tick.
 *
 * Every tick holds `<git dir>/canarykit-tick.json` from before its first git command until the
 * clone is back at the remote (or fully at the next stage). A tick killed in between (kill -9, OOM,
 * a deleted pod) leaves the file behind naming a process that no longer runs: that is how the next
 * tick knows that uncommitted edits under `outdir`/`stateDir`, `*.lock` files in the git dir and
 * scratch folders are canarykit's own leftovers, safe to discard, rather than somebody's work.
 * A tick that fails without restoring the clone also leaves the file, for the same reason.
 */

export const TICK_LOCK_FILE = 'canarykit-tick.json';

interface LockRecord {
  pid: number;
  /** /proc start time of `pid` (Linux), so a reused pid is not mistaken for the holder. */
  startTicks?: number;
  host: string;
  bootId?: string;
  startedAt: string;
  /** Start time of the oldest tick whose leftovers are not recovered yet (carried across failed recoveries). */
  since?: number;
}

export interface TickLease {
  /** The previous tick in this clone did not finish cleanly: its leftovers may be discarded. */
  readonly recovering: boolean;
  /** Removes the record: call only once the clone is clean, so a tick in doubt leaves it behind. */
  release(): void;
}

export interface TickLockOptions {
  /** How long to wait for processes a killed tick left running in the clone. @default 30000 */
  leftoverWaitMs?: number;
}

/**
 * Takes the clone for one tick. CloneBusyError (exit 1) while another tick runs in it. When the
 * previous holder is gone without releasing, waits for what it left running in the clone, then
 * removes the git lock files it left (a killed git never removes its `index.lock`).
 */
export async function acquireTickLock(gitDir: string, workTree: string, options: TickLockOptions = {}): Promise<TickLease> {
  const file = path.join(gitDir, TICK_LOCK_FILE);
  const me = ownRecord();
  let previous: LockRecord | 'unreadable' | undefined;
  let since: number | undefined;
  try {
    fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    previous = readRecord(file);
    if (previous !== 'unreadable' && holds(previous)) {
      throw new CloneBusyError(
        `another canarykit tick (pid ${previous.pid}, started ${previous.startedAt}) is running in ${workTree}; this one does nothing, try again later`,
      );
    }
    since = previous === 'unreadable' ? undefined : previous.since ?? previous.startTicks;
    writeAtomically(file, JSON.stringify(since === undefined ? me : { ...me, since }));
  }
  const recovering = previous !== undefined;
  if (recovering) {
    if (since !== undefined) await waitForLeftovers(workTree, since, options.leftoverWaitMs ?? 30_000);
    removeStaleGitLocks(gitDir);
  }
  return {
    recovering,
    release: () => {
      const current = readRecord(file);
      if (current !== 'unreadable' && current.pid === me.pid && current.startTicks === me.startTicks) fs.rmSync(file, { force: true });
    },
  };
}

/** The git dir of a work tree: `.git`, or where a `.git` file (worktrees, submodules) points. */
export function gitDirOf(workTree: string): string {
  const dotGit = path.join(workTree, '.git');
  const stat = fs.statSync(dotGit);
  if (stat.isDirectory()) return dotGit;
  const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
  if (!m) throw new TickError(`${dotGit} is neither a git directory nor a gitdir file`, false);
  return path.resolve(workTree, m[1].trim());
}

function ownRecord(): LockRecord {
  const id: ProcessIdentity = selfIdentity();
  return { pid: id.pid, ...(id.startTicks === undefined ? {} : { startTicks: id.startTicks }), host: os.hostname(), ...bootId(), startedAt: new Date().toISOString() };
}

function bootId(): { bootId?: string } {
  try {
    return { bootId: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() };
  } catch {
    return {};
  }
}

/**
 * Whether the recorded tick is still running. Only a process on this machine (same host name and
 * boot) can be checked; a record from elsewhere (a previous pod on a shared volume) is stale.
 */
function holds(record: LockRecord): boolean {
  if (record.host !== os.hostname()) return false;
  const boot = bootId().bootId;
  if (record.bootId && boot && record.bootId !== boot) return false;
  return isRunning({ pid: record.pid, startTicks: record.startTicks });
}

function readRecord(file: string): LockRecord | 'unreadable' {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof r?.pid === 'number' && typeof r.host === 'string' ? (r as LockRecord) : 'unreadable';
  } catch {
    // Killed while writing it, or gone since: either way nobody holds it.
    return 'unreadable';
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

async function waitForLeftovers(workTree: string, since: number, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = leftoverProcesses(workTree, since);
    if (left.length === 0) return;
    if (Date.now() >= deadline) {
      const list = left.slice(0, 3).map((p) => `pid ${p.pid}: ${p.command}`).join('; ');
      throw new TickError(`processes left by a killed canarykit tick are still running in ${workTree} (${list}); try again once they exit`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * git's own lock files (`index.lock`, `HEAD.lock`, `refs/.../<branch>.lock`, `packed-refs.lock`)
 * left by a killed git: nothing runs in the clone any more (see waitForLeftovers), so none is held.
 */
function removeStaleGitLocks(gitDir: string): void {
  const dirs = [gitDir];
  const common = path.join(gitDir, 'commondir');
  if (fs.existsSync(common)) dirs.push(path.resolve(gitDir, fs.readFileSync(common, 'utf8').trim()));
  for (const dir of dirs) {
    for (const name of safeReaddir(dir)) if (name.endsWith('.lock')) fs.rmSync(path.join(dir, name), { force: true });
    const refs = path.join(dir, 'refs');
    if (!fs.existsSync(refs)) continue;
    for (const rel of fs.readdirSync(refs, { recursive: true }) as string[]) {
      if (rel.endsWith('.lock')) fs.rmSync(path.join(refs, rel), { force: true });
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
