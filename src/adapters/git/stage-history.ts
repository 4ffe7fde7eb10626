import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GitCommandError } from '../../errors';
import { CanaryTrailers, readCanaryTrailers, readMetricTrailer } from '../../model/commit-message';
import { isRolloutPhase } from '../../model/phase';
import { redactCredentials } from './git';
import { gitDirOf } from './tick-lock';

/**
 * The stage-commit history of a repository, read back from git alone (read-only: `git log` on a
 * ref, never the work tree). Every stage commit changes exactly one state file and carries the
 * `Canary-*` trailers; the exporter, the review charts and `canarykit report` all read runs from
 * here, so "what a run is" has one owner.
 */

/** One stage commit of one canary. */
export interface StageRecord {
  sha: string;
  /** Author time: when the driver decided the stage (its clock; see GitWorkspace.commit). */
  time: Date;
  /** `namespace/name`, from the state file the commit changed. */
  canary: string;
  subject: string;
  trailers: CanaryTrailers;
  /** Metric values measured for this stage (`Canary-Metrics`), by metric name. */
  metrics: Record<string, number>;
  /** The message body without subject and trailers (checks, webhook outcomes). */
  body: string;
}

const run = promisify(execFile);

/**
 * Every stage commit reachable from `ref` that changed a state file under `stateDir`, oldest
 * first. Commits without valid `Canary-*` trailers (a person editing a state file) are skipped.
 * With `cacheFile` (the driver's, in the clone's git directory), what an earlier call read is
 * reused and only the commits since are read (see readCachedLog).
 */
export async function readStageHistory(repoDir: string, ref: string, stateDir: string, cacheFile?: string): Promise<StageRecord[]> {
  const root = stateDir.replace(/\/+$/, '');
  const commits = cacheFile ? await readCachedLog(repoDir, ref, root, cacheFile) : parseLog(await gitLog(repoDir, [ref], root), root);
  return commits.flatMap((c) => toRecord(c, root)).reverse();
}

/**
 * readStageHistory for one canary at a time: the log is read once, and only the commits of the
 * canary asked for become records (issue 14: turning a thousand canaries' stage commits into
 * records was a tenth of a tick's extra cost at a thousand canaries, for one canary's chart).
 * `of(canary)` is `canaryHistory(readStageHistory(...), canary)`.
 */
export async function stageHistoryReader(repoDir: string, ref: string, stateDir: string, cacheFile?: string): Promise<{ of(canary: string): StageRecord[] }> {
  const root = stateDir.replace(/\/+$/, '');
  const commits = cacheFile ? await readCachedLog(repoDir, ref, root, cacheFile) : parseLog(await gitLog(repoDir, [ref], root), root);
  const byFile = new Map<string, LoggedCommit[]>();
  for (const c of commits) {
    const list = byFile.get(c.file);
    if (list) list.push(c);
    else byFile.set(c.file, [c]);
  }
  const done = new Map<string, StageRecord[]>();
  return {
    of(canary) {
      let records = done.get(canary);
      if (!records) {
        records = (byFile.get(`${root}/${canary}.json`) ?? []).flatMap((c) => toRecord(c, root)).filter((r) => r.canary === canary).reverse();
        done.set(canary, records);
      }
      return records;
    },
  };
}

/** Where the driver keeps its stage-history cache: the clone's git directory, never the work tree. */
export function stageHistoryCacheFile(repoDir: string): string | undefined {
  try {
    return path.join(gitDirOf(repoDir), 'canarykit', 'stage-history.json');
  } catch {
    return undefined;
  }
}

/** One commit of `git log -- <stateDir>/` that changed exactly one state file, as git printed it. */
interface LoggedCommit {
  sha: string;
  /** Author time, seconds since the epoch, as printed. */
  at: string;
  message: string;
  file: string;
}

async function gitLog(repoDir: string, revisions: string[], root: string): Promise<string> {
  return git(repoDir, ['log', '--no-color', '--format=%x1e%H%x00%at%x00%B%x00', '--name-only', ...revisions, '--', `${root}/`], `git log ${revisions.join(' ')}`);
}

async function git(repoDir: string, args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd: repoDir, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new GitCommandError(redactCredentials(`${what} failed in ${repoDir}: ${(err.stderr || err.message || '').trim()}`));
  }
}

/** The commits of a `git log` output (newest first) that changed exactly one state file. */
function parseLog(out: string, root: string): LoggedCommit[] {
  const commits: LoggedCommit[] = [];
  for (const chunk of out.split('\x1e')) {
    if (chunk.trim() === '') continue;
    const [sha, at, message, names = ''] = chunk.split('\x00');
    const files = names.split('\n').map((f) => f.trim()).filter((f) => f.startsWith(`${root}/`) && f.endsWith('.json'));
    if (files.length !== 1) continue;
    commits.push({ sha, at, message, file: files[0] });
  }
  return commits;
}

function toRecord({ sha, at, message, file: changed }: LoggedCommit, root: string): StageRecord[] {
  const trailers = readCanaryTrailers(message);
  if (!trailers) return [];
  const [namespace, file] = changed.slice(root.length + 1).split('/');
  if (!namespace || !file) return [];
  const lines = message.replace(/\r\n/g, '\n').trimEnd().split('\n');
  const paragraphs = lines.slice(1).join('\n').trim().split(/\n[ \t]*\n/);
  return [
    {
      sha,
      time: new Date(Number(at) * 1000),
      canary: `${namespace}/${file.replace(/\.json$/, '')}`,
      subject: lines[0],
      trailers,
      metrics: readMetricTrailer(message),
      body: paragraphs.slice(0, -1).join('\n\n'),
    },
  ];
}

/** What the cache file holds: the log of `tip` (newest first) for `root`, and what it depends on. */
interface CachedLog {
  version: 1;
  root: string;
  tip: string;
  /** The clone's shallow boundary and grafts when the log was read: a deepened clone has more history. */
  boundary: string;
  commits: LoggedCommit[];
}

/** Commits between the cached tip and the new one read incrementally; more than this, read everything. */
const INCREMENTAL_LIMIT = 1000;

/**
 * The log of `ref` through the cache (issue 14: at a thousand canaries the full `git log` of the
 * state folder was most of a tick that commits one stage). The log of a commit never changes, so
 * the cache is used as it is when `ref` is its tip; when `ref` descends from its tip by a line of
 * commits without merges, log(ref) is log(tip..ref) followed by log(tip), since no merge above the
 * tip can simplify away or reorder what lies below it; and when the tip descends from `ref` that
 * way (the remote was reset to an older commit), log(ref) is log(tip) without that line's commits.
 * Anything else (a merge, a deepened shallow clone, a missing or unreadable cache) reads the whole
 * log again, which is always right; the cache is then rewritten atomically.
 */
async function readCachedLog(repoDir: string, ref: string, root: string, cacheFile: string): Promise<LoggedCommit[]> {
  const tip = (await git(repoDir, ['rev-parse', '--verify', `${ref}^{commit}`], `git rev-parse ${ref}`)).trim();
  const boundary = historyBoundary(repoDir);
  const cached = readCache(cacheFile);
  let commits: LoggedCommit[] | undefined;
  if (cached && cached.root === root && cached.boundary === boundary) {
    if (cached.tip === tip) return cached.commits;
    if (await linearChain(repoDir, tip, cached.tip)) {
      commits = [...parseLog(await gitLog(repoDir, [`${cached.tip}..${tip}`], root), root), ...cached.commits];
    } else {
      const newer = await linearChain(repoDir, cached.tip, tip);
      // The cache stays at its newer tip, which the next tick most likely builds on again.
      if (newer) return cached.commits.filter((c) => !newer.has(c.sha));
    }
  }
  commits ??= parseLog(await gitLog(repoDir, [tip], root), root);
  writeCache(cacheFile, { version: 1, root, tip, boundary, commits });
  return commits;
}

/**
 * The commits of `from` not in `to` when `from` reaches `to` through commits of one parent each
 * (at most INCREMENTAL_LIMIT of them), else undefined.
 */
async function linearChain(repoDir: string, from: string, to: string): Promise<Set<string> | undefined> {
  let out: string;
  try {
    out = await git(repoDir, ['rev-list', '--parents', `--max-count=${INCREMENTAL_LIMIT + 1}`, from, `^${to}`, '--'], 'git rev-list');
  } catch {
    return undefined; // the cached tip is gone (a repository rewritten): read everything
  }
  const lines = out.split('\n').filter(Boolean).map((l) => l.split(' '));
  if (lines.length === 0 || lines.length > INCREMENTAL_LIMIT) return undefined;
  for (let i = 0; i < lines.length; i++) {
    const [commit, ...parents] = lines[i];
    if (parents.length !== 1 || commit !== (i === 0 ? from : lines[i - 1][1])) return undefined;
  }
  return lines[lines.length - 1][1] === to ? new Set(lines.map(([commit]) => commit)) : undefined;
}

/** The shallow boundary and grafts of the clone, as text (empty for a full clone). */
function historyBoundary(repoDir: string): string {
  let gitDir: string;
  try {
    gitDir = gitDirOf(repoDir);
  } catch {
    return '';
  }
  const read = (name: string): string => {
    try {
      return fs.readFileSync(path.join(gitDir, name), 'utf8');
    } catch {
      return '';
    }
  };
  return `${read('shallow')}\0${read(path.join('info', 'grafts'))}`;
}

function readCache(file: string): CachedLog | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedLog;
    const valid = parsed?.version === 1 && typeof parsed.root === 'string' && typeof parsed.tip === 'string' && typeof parsed.boundary === 'string' && Array.isArray(parsed.commits)
      && parsed.commits.every((c) => c && typeof c.sha === 'string' && typeof c.at === 'string' && typeof c.message === 'string' && typeof c.file === 'string');
    return valid ? parsed : undefined;
  } catch {
    return undefined; // missing or unreadable: read everything
  }
}

function writeCache(file: string, log: CachedLog): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(log));
    fs.renameSync(tmp, file);
  } catch {
    // A cache that cannot be written costs the next tick a full read, nothing else.
  }
}

/** The records of one canary, oldest first. */
export function canaryHistory(records: readonly StageRecord[], canary: string): StageRecord[] {
  return records.filter((r) => r.canary === canary);
}

/** One analysis run: from the stage before it started (weight 0) to its end, or to now. */
export interface Run {
  /** Canary-Revision under analysis. */
  revision: string;
  /** The stage the run started from (Initialized or the previous run's end), when known. */
  before?: StageRecord;
  /** Stage commits of the run, oldest first; the last is resting when the run ended. */
  stages: StageRecord[];
  ended: boolean;
}

/**
 * The runs of one canary's history (oldest first). A run starts with the first rollout-phase
 * stage (Progressing, WaitingPromotion, Promoting, Finalising) after a resting one and ends with
 * the next resting stage (Succeeded, Failed, Initialized), which belongs to it.
 */
export function runsOf(history: readonly StageRecord[]): Run[] {
  const runs: Run[] = [];
  let current: Run | undefined;
  history.forEach((r, i) => {
    const rollout = isRolloutPhase(r.trailers.phase);
    if (!current && rollout) {
      current = { revision: r.trailers.revision, before: i > 0 ? history[i - 1] : undefined, stages: [], ended: false };
      runs.push(current);
    }
    if (!current) return;
    current.stages.push(r);
    if (!rollout) {
      current.ended = true;
      current = undefined;
    }
  });
  return runs;
}
