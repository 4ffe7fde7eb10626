import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The resting-canary index (issue 14): `.git/canarykit/resting.json`, next to the clone's other
 * caches, never in the work tree. It maps each canary whose tick outcome depends only on its plan
 * and state (paused, or at rest without a new revision: machine/tick.ts classifyTick's `idle`
 * branches that read neither the clock nor the tick cache) to the lstat keys of its plan and state
 * file and the outcome the tick reported for it. A later tick whose keys still match reports that
 * outcome without reading, parsing or checking either file.
 *
 * Anything unexpected is a miss, and a miss is the full read: a key that differs, a missing file, a
 * symbolic link (the file or a folder of the state path), another outdir, stateDir or canarykit
 * version, a broken cache file. A file is only recorded when its ctime is at least 2 s older than
 * when it was stat'ed, before it was read (git's racy-clean rule): any later write changes the ctime
 * (even one that keeps the size and puts the mtime back), so a write the read did not see can never
 * match. Deleting the file is always safe: the next tick is slower, not different.
 */

/** What lstat says about a file, enough to tell that it was not touched. */
export interface FileKey {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** The outcome the tick reported for a resting canary (driver/tick-types CanaryOutcome, without commit or pull request). */
export interface RestingOutcome {
  readonly canary: string;
  readonly action: string;
  readonly summary: string;
  readonly phase: string;
  readonly weight: number;
  readonly failedChecks: number;
}

interface Entry {
  readonly plan: FileKey;
  readonly stateFile: string;
  readonly state: FileKey;
  readonly outcome: RestingOutcome;
}

interface IndexFile {
  readonly version: 1;
  readonly canarykit: string;
  readonly outdir: string;
  readonly stateDir: string;
  /** `<outdir>/<namespace>/<name>` -> entry */
  readonly entries: Record<string, Entry>;
}

/** A canary answered from the index. */
export interface RestingHit {
  readonly folder: string;
  readonly namespace: string;
  readonly name: string;
  readonly outcome: RestingOutcome;
}

export interface RestingIndex {
  /**
   * Before a plan is read: the canary's cached outcome when its plan (`planFile`, absolute) and state
   * file are untouched since they were recorded. Otherwise undefined, and the plan's lstat is kept
   * for record(): call it before reading the plan.
   */
  lookup(folder: string, planFile: string): RestingHit | undefined;
  /** Before a state file is read: keeps its lstat for record(). */
  statState(folder: string, stateFile: string): void;
  /** A canary read in full whose outcome depends only on its plan and state. */
  record(folder: string, outcome: RestingOutcome): void;
  /**
   * Writes the index (atomically, only when it changed): the entries hit or recorded by this tick,
   * and with `keepUnread` (a tick that read one canary's folder only, `step --canary`) the entries
   * of canaries it did not look up, which a later lookup checks as always.
   */
  save(opts?: { keepUnread?: boolean }): void;
}

export interface RestingIndexOptions {
  /** Wall clock for the racy-clean rule (ms). @default Date.now */
  clock?: () => number;
}

const RACY_MS = 2000;

/** The file of the clone at `repoDir`. */
export function restingIndexFile(repoDir: string): string {
  return path.join(repoDir, '.git', 'canarykit', 'resting.json');
}

/** The index of the clone at `repoDir` for this outdir, stateDir and canarykit version; a no-op without a `.git` directory. */
export function fileRestingIndex(repoDir: string, where: { outdir: string; stateDir: string; version: string }, options: RestingIndexOptions = {}): RestingIndex {
  const clock = options.clock ?? Date.now;
  const file = restingIndexFile(repoDir);
  const { text, entries: old } = readIndex(file, where);
  const planKeys = new Map<string, FileKey>();
  const stateKeys = new Map<string, { file: string; key: FileKey }>();
  const kept = new Map<string, Entry>();
  const looked = new Set<string>();
  let recorded = 0;
  const folders = new Map<string, boolean>();
  /** No folder on the way from the repository to `rel` is a symbolic link (each folder lstat'ed once). */
  const plainFolders = (rel: string): boolean => {
    const parts = rel.split('/');
    let probe = repoDir;
    for (let i = 0; i < parts.length - 1; i++) {
      probe = path.join(probe, parts[i]);
      let ok = folders.get(probe);
      if (ok === undefined) {
        ok = lstatOf(probe)?.isDirectory() === true;
        folders.set(probe, ok);
      }
      if (!ok) return false;
    }
    return true;
  };
  /** The file's key, when it is a regular file (not a link) not written within RACY_MS of now. */
  const stableKey = (abs: string): FileKey | undefined => {
    const now = clock();
    const st = lstatOf(abs);
    if (!st || !st.isFile()) return undefined;
    if (!(st.ctimeMs <= now - RACY_MS)) return undefined;
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  };
  return {
    lookup(folder, planFile) {
      looked.add(folder);
      const plan = stableKey(planFile);
      if (plan) planKeys.set(folder, plan);
      const entry = old.get(folder);
      if (!entry || !plan || !sameKey(plan, entry.plan)) return undefined;
      if (!plainFolders(entry.stateFile)) return undefined;
      const state = stableKey(path.join(repoDir, entry.stateFile));
      if (!state || !sameKey(state, entry.state)) return undefined;
      kept.set(folder, entry);
      const parts = folder.split('/');
      return { folder, namespace: parts[parts.length - 2], name: parts[parts.length - 1], outcome: entry.outcome };
    },
    statState(folder, stateFile) {
      if (!plainFolders(stateFile)) return;
      const key = stableKey(path.join(repoDir, stateFile));
      if (key) stateKeys.set(folder, { file: stateFile, key });
    },
    record(folder, outcome) {
      const plan = planKeys.get(folder);
      const state = stateKeys.get(folder);
      if (!plan || !state) return;
      kept.set(folder, { plan, stateFile: state.file, state: state.key, outcome: { ...outcome } });
      recorded++;
    },
    save(opts = {}) {
      if (opts.keepUnread) for (const [folder, entry] of old) if (!looked.has(folder) && !kept.has(folder)) kept.set(folder, entry);
      // Every entry answered a lookup and none was recorded: the file already says this.
      if (text !== undefined && recorded === 0 && kept.size === old.size) return;
      const sorted = [...kept.keys()].sort();
      const next: IndexFile = { version: 1, canarykit: where.version, outdir: where.outdir, stateDir: where.stateDir, entries: Object.fromEntries(sorted.map((k) => [k, kept.get(k)!])) };
      const out = `${JSON.stringify(next)}\n`;
      if (out === text) return;
      try {
        if (!fs.statSync(path.join(repoDir, '.git')).isDirectory()) return;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.tmp-${process.pid}`;
        fs.writeFileSync(tmp, out);
        fs.renameSync(tmp, file);
      } catch {
        // a cache that cannot be written costs the next tick a full read, nothing else
      }
    },
  };
}

function lstatOf(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function sameKey(a: FileKey, b: FileKey): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

function isKey(v: unknown): v is FileKey {
  const k = v as Record<string, unknown> | null;
  return typeof k === 'object' && k !== null && isNum(k.ino) && isNum(k.size) && isNum(k.mtimeMs) && isNum(k.ctimeMs);
}

function isEntry(folder: string, v: unknown): v is Entry {
  const e = v as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || !isKey(e.plan) || !isKey(e.state) || !isStr(e.stateFile) || e.stateFile.split('/').some((p) => p === '..' || p === '')) return false;
  const o = e.outcome as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return false;
  const parts = folder.split('/');
  return isStr(o.action) && isStr(o.summary) && isStr(o.phase) && isNum(o.weight) && isNum(o.failedChecks)
    && o.canary === `${parts[parts.length - 2]}/${parts[parts.length - 1]}`;
}

/** The entries of a readable index for exactly this outdir, stateDir and version; none otherwise. */
function readIndex(file: string, where: { outdir: string; stateDir: string; version: string }): { text?: string; entries: Map<string, Entry> } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { entries: new Map() };
  }
  try {
    const parsed = JSON.parse(text) as Partial<IndexFile> | null;
    if (!parsed || parsed.version !== 1 || parsed.canarykit !== where.version || parsed.outdir !== where.outdir || parsed.stateDir !== where.stateDir) return { text, entries: new Map() };
    const entries = parsed.entries;
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return { text, entries: new Map() };
    const out = new Map<string, Entry>();
    for (const [folder, entry] of Object.entries(entries)) {
      if (isEntry(folder, entry)) out.set(folder, entry);
    }
    return { text, entries: out };
  } catch {
    return { text, entries: new Map() };
  }
}
