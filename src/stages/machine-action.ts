import { CanaryState } from './state';
import { Reason, StageEvent } from './reasons';

/** Why a tick changes nothing. */
export type IdleReason =
  | 'not-due'
  | 'suspended'
  | 'paused'
  | 'no-new-revision'
  | 'not-ready'
  | 'route-not-accepted'
  | 'route-unobservable'
  | 'gate-closed'
  | 'no-weight-step'
  | 'incomplete-observations';

/** A confirm-* gate that parks the run in Waiting or WaitingPromotion. */
export type ApprovalGate = 'confirm-rollout' | 'confirm-promotion';

/** Why a tick counted a failed check. */
export type CheckFailureReason = Extract<Reason, 'MetricCheckFailed' | 'NoMetricData' | 'MetricError' | 'WebhookFailed'>;

/** Why a run was rolled back. */
export type RollbackReason = Extract<Reason, 'ThresholdReached' | 'RollbackRequested' | 'ProgressDeadlineExceeded'>;

/**
 * What one tick decided. Invariant: `none` leaves the state unchanged (nothing to commit); every
 * other action changes the state and is committed.
 */
export type Action =
  /** Nothing to commit. */
  | { type: 'none'; reason: IdleReason; message: string }
  /** First state of a canary: the primary runs the current target template. */
  | { type: 'initialize' }
  /** A new revision passed confirm-rollout: Progressing at weight 0, canary scaled up. */
  | { type: 'start'; revision: string }
  /** A new revision arrived mid-run: back to Progressing at weight 0 with the new revision. */
  | { type: 'restart'; revision: string }
  /** A confirm gate is closed and the phase becomes Waiting / WaitingPromotion. */
  | { type: 'wait'; gate: ApprovalGate; webhook: string; message: string }
  /** Canary strategy with mirror: routes stay 100/0 with traffic mirrored to the canary. */
  | { type: 'mirror' }
  /** Canary weight step. */
  | { type: 'advance'; from: number; to: number }
  /** A/B or blue/green iteration `n` of `of`. */
  | { type: 'iterate'; n: number; of: number }
  /** Blue/green: all traffic to the canary before promotion (routes 0/100). */
  | { type: 'cutover' }
  /** A check failed: failedChecks went up by one, nothing else moved. */
  | { type: 'hold'; reason: CheckFailureReason; check: string; message: string }
  /** The primary receives the canary's template; phase Promoting, routes unchanged. */
  | { type: 'promote'; revision: string }
  /** Promoting: one stepWeightPromotion of traffic back to the primary. */
  | { type: 'promotion-step'; from: number; to: number }
  /** Promoting done: routes 100/0, phase Finalising. */
  | { type: 'finalise' }
  /** Finalising done: phase Succeeded, canary scaled to zero. */
  | { type: 'succeed' }
  /** skipAnalysis: promoted and Succeeded in one tick. */
  | { type: 'skip-promote'; revision: string }
  /** The run failed: phase Failed, routes 100/0, canary scaled to zero, primary untouched. */
  | { type: 'rollback'; reason: RollbackReason; message: string }
  /** The promoted primary was observed stuck: phase Failed, routes 100/0, canary scaled to zero. */
  | { type: 'fail-promotion'; reason: 'PromotionFailed'; message: string };

/** The type tags of Action. */
export type ActionType = Action['type'];

/** Result of `decide`: what to do, the next state, and what to tell people. */
export interface Decision {
  action: Action;
  /** Next state; deep-equal to the input state when the action is `none`. */
  state: CanaryState;
  events: StageEvent[];
}

/** True when the decision changes the state file and must be committed. */
export function isCommitted(decision: Decision): boolean {
  return decision.action.type !== 'none';
}

/** True when the run ended this tick (Flagger fires post-rollout hooks then). */
export function endsRun(action: Action): boolean {
  switch (action.type) {
    case 'succeed':
    case 'skip-promote':
    case 'rollback':
    case 'fail-promotion':
      return true;
    case 'none':
    case 'initialize':
    case 'start':
    case 'restart':
    case 'wait':
    case 'mirror':
    case 'advance':
    case 'iterate':
    case 'cutover':
    case 'hold':
    case 'promote':
    case 'promotion-step':
    case 'finalise':
      return false;
    default:
      return assertNever(action);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected action ${JSON.stringify(value)}`);
}
