import type { RestingIndexOptions } from '../adapters/resting-index';
import { CanarykitConfig } from '../adapters/config';
import { GitWorkspace } from '../adapters/git/git';
import { CheckResult } from '../adapters/prometheus/metric-check';
import { PlanEntry } from '../adapters/repo-files';
import { PullRequestHost, PullRequestReport } from '../adapters/review/pull-requests';
import type { SynthScope, SynthWrote } from '../adapters/synth';
import { TickCache } from '../adapters/tick-cache';
import type { sendAlerts } from '../adapters/alerts/sending';
import { Decision } from '../machine/action';
import { AnalysisPlan } from '../model/plan';
import { Notifications } from '../model/driver-settings';
import type { TickSeen } from './notify';
import type { ObserverDeps } from './observe';
import type { Shard } from './shard';
import { StageExtras } from './stage-commit';

// The vocabulary of a tick (its options, adapters, outcomes and decided stages), shared by the
// driver and its two publishers (push, review).

/** Which canaries a tick looks at: all of them (or those of one shard, driver/shard.ts), or one. */
export type CanarySelector = { all: true; shard?: Shard } | { canary: string };

/**
 * Reads the configuration at the synced tip and builds the adapters from it (src/cli.ts reads
 * canarykit.yaml after every sync, so a configuration pushed to the remote governs the very tick
 * that fetched it). Errors here are the user's: the clone goes back to where it was before the sync,
 * so the next tick still starts from the last configuration that loaded.
 */
export type Configure = () => { config: CanarykitConfig; deps: DriverDeps };

export interface StepOptions {
  readonly repoDir: string;
  /**
   * Without `configure`: the configuration of the tick. With it: the bootstrap read before the
   * sync, of which only git.remote/branch/committer (through `deps.git`), outdir, stateDir and
   * git.maxAttempts are used.
   */
  readonly config: CanarykitConfig;
  readonly configure?: Configure;
  readonly select: CanarySelector;
  /** Decide and print, but write, commit and push nothing. */
  readonly dryRun?: boolean;
}

/** Everything with side effects, built in one place (src/cli.ts) and passed in. */
export interface DriverDeps extends ObserverDeps {
  readonly git: GitWorkspace;
  /**
   * Regenerates the output folder from the app and the state files. With `scope`, only the state
   * files of those canaries changed since the output was last synthesized from the same app (the
   * tick's second synth): a synth that can (an in-process `canarykit compile`) renders only their
   * folders; any other synth ignores it and regenerates everything. Resolves to what it wrote
   * (nothing said: anything under the output folder may have changed).
   */
  synth(scope?: SynthScope): Promise<SynthWrote | void>;
  /** The clock; injected so tests and backfilled Prometheus data agree on "now". */
  now(): Date;
  log(line: string): void;
  /** Where stages are proposed in `git.mode: pull-request` (src/adapters/review/pull-requests.ts). */
  pullRequests?: PullRequestHost;
  /** Last quiet tick per canary (tick-cache.ts). @default the clone's `.git/canarykit/last-ticks.json` */
  tickCache?: TickCache;
  /**
   * The resting-canary index (adapters/resting-index.ts): options such as the racy-clean clock, or
   * false to read every plan and state in full. @default the clone's `.git/canarykit/resting.json`
   */
  restingIndex?: RestingIndexOptions | false;
  /** Sends a decision's alerts to its chat services. @default adapters/alerts/sending.ts sendAlerts, loaded on use */
  sendAlerts?: AlertSender;
  /**
   * Flagger's controller-wide notifications: -cluster-name, -event-webhook, the default notifier
   * (model/driver-settings.ts notificationsFor). @default - none
   */
  notifications?: Notifications;
}

/** What one canary's tick decided. */
export interface CanaryOutcome {
  readonly canary: string;
  /** The decided action; `await-review` when a pull request for the canary is still open. */
  readonly action: Decision['action']['type'] | 'await-review';
  readonly summary: string;
  readonly phase: string;
  readonly weight: number;
  readonly failedChecks: number;
  readonly commit?: string;
  /** Pull-request mode: the pull request opened, still open, or that would be opened. */
  readonly pullRequest?: PullRequestReport;
}

export interface StepReport {
  readonly outcomes: CanaryOutcome[];
  /** Something was pushed: the branch (push mode) or a pull-request branch. */
  readonly pushed: boolean;
  readonly attempts: number;
  /**
   * Pull-request mode: output folders (`<outdir>/<namespace>/<name>`) the synth changed for
   * canaries with no pull request opened or open. Push mode commits such changes in a sync commit;
   * pull-request mode leaves them to the canary's next stage pull request, or to you.
   */
  readonly unsynced?: string[];
}

export interface PendingCommit {
  entry: PlanEntry;
  decision: Decision;
  lines: string[];
  seen: TickSeen;
  /** This tick's metric results, for the numbers in the commit subject. */
  checks: readonly CheckResult[];
  /** The review sections of the stage commit (weight chart, checks table, graph links). */
  extras: StageExtras;
}

/** A due tick that committed nothing but still has events or alerts to send (a closed gate, a wait). */
export interface QuietTick {
  plan: AnalysisPlan;
  decision: Decision;
  seen: TickSeen;
}

/** The folders a tick may change: the state files and the output. */
export function managedPaths(config: CanarykitConfig): string[] {
  return [config.stateDir, config.outdir];
}

/** The alert adapter's shape (adapters/alerts/sending.ts sendAlerts). */
export type AlertSender = typeof sendAlerts;
