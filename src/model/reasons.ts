/**
 * One vocabulary of reasons for what the stage machine decided. Logs, commit messages and
 * notifications all speak it, so a reason means the same thing wherever it shows up.
 */

/** How loud an event is; notification routing follows Flagger's alert severities. */
export type Severity = 'info' | 'warn' | 'error';

/** Every reason the machine can give, with the severity its events always carry. */
export const REASON_SEVERITY = {
  /** First state written for a canary. */
  Initializing: 'info',
  Initialized: 'info',
  /** A run started for a new revision. */
  NewRevision: 'info',
  /** A new revision arrived mid-run; the run started over. */
  Restarted: 'info',
  /** A confirm-* gate is closed. */
  WaitingForApproval: 'warn',
  /** A workload is not ready yet; nothing changes until it is. */
  ReadinessWait: 'info',
  /** The routing object (HTTPRoute) is not accepted at its generation, or its status is unseen; nothing changes. */
  RouteNotReady: 'warn',
  /** Traffic is mirrored to the canary before weight shifts (canary strategy, one step). */
  MirrorStarted: 'info',
  /** The canary's traffic weight went up. */
  WeightIncreased: 'info',
  /** One more A/B or blue/green iteration passed. */
  IterationAdvanced: 'info',
  /** Blue/green: all traffic goes to the canary before promotion. */
  TrafficSwitched: 'info',
  /** A metric was out of its range. */
  MetricCheckFailed: 'warn',
  /** A metric query returned nothing (no traffic reached the canary?). */
  NoMetricData: 'warn',
  /** A metric could not be evaluated (metrics provider unreachable, query error). */
  MetricError: 'warn',
  /** A pre-rollout or rollout webhook failed. */
  WebhookFailed: 'warn',
  /** failedChecks reached analysis.threshold. */
  ThresholdReached: 'error',
  /** A rollback webhook asked for a rollback. */
  RollbackRequested: 'warn',
  /** The canary did not become ready within progressDeadlineSeconds. */
  ProgressDeadlineExceeded: 'error',
  /** The run ended Failed; the primary serves all traffic. */
  RolledBack: 'error',
  /** The primary received the canary's template. */
  Promoted: 'info',
  /** Promotion moved a step of traffic back to the primary. */
  PromotionTrafficShifted: 'info',
  /** All traffic is back on the (promoted) primary. */
  Finalised: 'info',
  /** The run ended Succeeded. */
  Succeeded: 'info',
  /** skipAnalysis promoted without checks. */
  AnalysisSkipped: 'info',
  /** The promoted primary was observed stuck; routes go back to 100/0 and the run ends Failed. */
  PromotionFailed: 'error',
  /** The driver did not supply an observation the tick needs (a driver bug). */
  ObservationMissing: 'error',
} as const satisfies Record<string, Severity>;

/** A reason from the vocabulary. */
export type Reason = keyof typeof REASON_SEVERITY;

/** Something worth telling about a decision. */
export interface StageEvent {
  reason: Reason;
  /** One sentence; Flagger's alert wording where Flagger has one. */
  message: string;
  severity: Severity;
}

/** Builds an event with the reason's severity. */
export function stageEvent(reason: Reason, message: string): StageEvent {
  return { reason, message, severity: REASON_SEVERITY[reason] };
}

/**
 * Flagger's wording that names the target's kind (pkg/canary/status.go SyncStatus and
 * scheduler.go: `New %s detected…`, `Canary analysis failed, %s scaled to zero.` with
 * `TargetRef.Kind`): Deployment, DaemonSet, a Knative or core Service.
 */
export function targetMessages(kind = 'Deployment'): { initializing: string; initialized: string; failed: string } {
  return {
    initializing: `New ${kind} detected, starting initialization.`,
    initialized: `New ${kind} detected, initialization completed.`,
    failed: `Canary analysis failed, ${kind} scaled to zero.`,
  };
}

/** Flagger's alert and condition wording (reference §6, §1.2), reused verbatim. */
export const FLAGGER_MESSAGES = {
  ...targetMessages(),
  newRevision: 'New revision detected, progressing canary analysis.',
  waitingRollout: 'Canary is waiting for approval.',
  waitingTrafficIncrease: 'Canary traffic increase is waiting for approval.',
  waitingPromotion: 'Canary promotion is waiting for approval.',
  rollbackHook: 'Rolling back manual webhook invoked',
  promoting: 'Canary analysis completed, starting primary rolling update.',
  finalising: 'Canary analysis completed, routing all traffic to primary.',
  succeeded: 'Canary analysis completed successfully, promotion finished.',
  skipped: 'Canary analysis was skipped, promotion finished.',
  failed: 'Canary analysis failed, Deployment scaled to zero.',
} as const;

/** "Failed checks threshold reached <n>" (Flagger §6). */
export function thresholdMessage(failedChecks: number): string {
  return `Failed checks threshold reached ${failedChecks}`;
}

/** "Progress deadline exceeded <err>" (Flagger §6). */
export function deadlineMessage(detail: string): string {
  return `Progress deadline exceeded ${detail}`;
}

/** "Promotion failed, primary not ready: <err>" (Flagger §6). */
export function promotionFailedMessage(detail: string): string {
  return `Promotion failed, primary not ready: ${detail}`;
}
