import { PlanEntry } from '../adapters/repo-files';
import { PullRequestReport } from '../adapters/review/pull-requests';
import { AnalysisPlan } from '../model/plan';
import { CanaryState } from '../model/state';
import { CanaryOutcome, PendingCommit, QuietTick, StepReport } from './tick-types';

/**
 * Where decided stages go: `git.mode: push` commits them on the branch and pushes; `pull-request`
 * proposes each on its own branch and pull request. Chosen once per tick (driver.ts publisherFor); the
 * driver's read -> decide part is the same for both.
 */
export interface Publisher {
  /** The outcome of a canary held back by its open pull request, or undefined (always in push mode). */
  awaitingReview(plan: AnalysisPlan, state: CanaryState | undefined): Promise<CanaryOutcome | undefined>;
  /** What a dry run would propose for a committed stage with this message (nothing in push mode). */
  wouldPropose(plan: AnalysisPlan, message: string): PullRequestReport | undefined;
  /** Publishes the tick's decided stages, then sends the quiet ticks' events and alerts. */
  publishTick(tick: DecidedTick): Promise<StepReport>;
  /** Publishes a manual transition (`canarykit promote|rollback|pause|resume`). */
  publishManual(stage: ManualStage): Promise<ManualResult>;
}

/** Everything the driver decided in one tick, ready to publish. */
export interface DecidedTick {
  outcomes: CanaryOutcome[];
  pending: PendingCommit[];
  quiet: QuietTick[];
  /** Folders of canaries whose pull request is open: their output lands with it or the next one. */
  inReview: string[];
  attempt: number;
  /** The tick ran the synth before deciding (someone else's commit may have changed the app). */
  synthesized: boolean;
  now: Date;
}

/** A manual transition, decided and described. */
export interface ManualStage {
  entry: PlanEntry;
  /** The state file, absolute. */
  file: string;
  next: CanaryState;
  message: string;
  /** `test/podinfo`, for messages. */
  canary: string;
  /** The command, for messages. */
  command: string;
  dryRun?: boolean;
}

export interface ManualResult {
  pushed: boolean;
  commit?: string;
  state: CanaryState;
  pullRequest?: PullRequestReport;
}
