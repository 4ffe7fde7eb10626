import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GitCommandError } from '../../errors';
import { CanaryTrailers, readCanaryTrailers, readMetricTrailer } from '../../model/commit-message';
import { isRolloutPhase } from '../../model/phase';
import { redactCredentials } from './git';

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
 */
export async function readStageHistory(repoDir: string, ref: string, stateDir: string): Promise<StageRecord[]> {
  const root = stateDir.replace(/\/+$/, '');
  let out: string;
  try {
    ({ stdout: out } = await run(
      'git',
      ['log', '--no-color', '--format=%x1e%H%x00%at%x00%B%x00', '--name-only', ref, '--', `${root}/`],
      { cwd: repoDir, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
    ));
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new GitCommandError(redactCredentials(`git log ${ref} failed in ${repoDir}: ${(err.stderr || err.message || '').trim()}`));
  }
  const records: StageRecord[] = [];
  for (const chunk of out.split('\x1e')) {
    if (chunk.trim() === '') continue;
    const [sha, ct, message, names = ''] = chunk.split('\x00');
    const files = names.split('\n').map((f) => f.trim()).filter((f) => f.startsWith(`${root}/`) && f.endsWith('.json'));
    if (files.length !== 1) continue;
    const trailers = readCanaryTrailers(message);
    if (!trailers) continue;
    const [namespace, file] = files[0].slice(root.length + 1).split('/');
    if (!namespace || !file) continue;
    const lines = message.replace(/\r\n/g, '\n').trimEnd().split('\n');
    const paragraphs = lines.slice(1).join('\n').trim().split(/\n[ \t]*\n/);
    records.push({
      sha,
      time: new Date(Number(ct) * 1000),
      canary: `${namespace}/${file.replace(/\.json$/, '')}`,
      subject: lines[0],
      trailers,
      metrics: readMetricTrailer(message),
      body: paragraphs.slice(0, -1).join('\n\n'),
    });
  }
  return records.reverse();
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
