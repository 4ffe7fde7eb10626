import { Action, CheckFailureReason, Decision, IdleReason, RollbackReason } from './action';
import { applyMove } from './moves';
import { initialState, promotionFailed, rolledBack, runStart, snapshotOf, StatePatch, succeeded, transition } from './transitions';
import { Observations, Readiness, RouteAcceptance } from '../model/observations';
import { AnalysisPlan, PlannedWebhook, workloadDeployment } from '../model/plan';
import {
  deadlineMessage,
  FLAGGER_MESSAGES,
  targetMessages,
  promotionFailedMessage,
  StageEvent,
  stageEvent,
  thresholdMessage,
} from '../model/reasons';
import { CanaryState } from '../model/state';
import { failureThreshold, planTick, readSteps, StepVerdict, TickPlan } from './tick';
import { effectiveStrategy, promotionStepWeight } from './weights';
import { assertNever } from '../model/never';

export { initialState } from './transitions';

/**
 * The pure stage machine: one Flagger tick (reference §3.2) over the committed state, given what
 * the driver observed. Never performs I/O and never reads the clock except through `now`.
 *
 * - No state yet: `initialize` with `initialState` (even when suspended: a decision needs a state).
 * - The observations are read in the order `observationsNeeded` listed them; the first one that
 *   is not a pass decides the tick (not ready, a route not accepted, a failed hook or metric, a
 *   rollback hook that answered OK, a closed gate). When all pass, the stage completes (start, restart, move,
 *   promote, promotion step, finalise, succeed, skip-promote, threshold rollback).
 * - `lastTick`: when the driver last ran a due tick that committed nothing (see tick.ts
 *   afterInterval); keeps Flagger's one tick per interval while a gate is closed or a workload waits.
 * - Readiness deadline (Flagger's isDeploymentReady in pkg/canary/deployment_ready.go): a canary
 *   that is not ready, and a primary not ready while Promoting/Finalising, is given up on when the
 *   Deployment reports Progressing=False, or once the observer measured it unavailable for
 *   progressDeadlineSeconds (`unavailableForSeconds`, Flagger's Available=False lastUpdateTime).
 *   The driver's clock alone never expires a deadline.
 */
export function decide(plan: AnalysisPlan, state: CanaryState | undefined, observations: Observations, now: Date, lastTick?: string): Decision {
  if (!state) {
    return { action: { type: 'initialize' }, state: initialState(plan, now), events: [stageEvent('Initializing', targetMessages(plan.targetKind).initializing)] };
  }
  const tick = planTick(plan, state, now, lastTick);
  if (!tick.due) return none(state, tick.idle ?? 'not-due', tick.why);
  const verdict = readSteps(tick.steps, observations);
  switch (verdict.kind) {
    case 'pass':
      return complete(plan, state, tick, now);
    case 'missing':
      return none(state, 'incomplete-observations', `${verdict.what} was not observed`, [
        stageEvent('ObservationMissing', `The driver did not observe ${verdict.what}; nothing was decided.`),
      ]);
    case 'not-ready':
      return notReady(plan, state, tick, verdict, now);
    case 'route':
      return routeNotReady(state, verdict.acceptance);
    case 'webhook':
      return webhookAnswered(plan, state, verdict.webhook, verdict.result.message, now);
    case 'metric':
      return hold(plan, state, metricFailure(verdict), verdict.metric.name, now);
    default:
      return assertNever(verdict);
  }
}

/** Every observation passed: the stage does its work. */
function complete(plan: AnalysisPlan, state: CanaryState, tick: TickPlan, now: Date): Decision {
  switch (tick.stage) {
    case 'initializing':
      return changed(plan, state, { type: 'initialize' }, { phase: 'Initialized' }, now, [stageEvent('Initialized', targetMessages(plan.targetKind).initialized)]);
    case 'start':
      return changed(plan, state, { type: 'start', revision: plan.canary.revision }, runStart(plan.canary.revision), now, [
        stageEvent('NewRevision', FLAGGER_MESSAGES.newRevision),
      ]);
    case 'restart':
      return changed(plan, state, { type: 'restart', revision: plan.canary.revision }, runStart(plan.canary.revision), now, [
        stageEvent('Restarted', `New revision ${plan.canary.revision} detected, restarting canary analysis.`),
      ]);
    case 'skip':
      return changed(
        plan,
        state,
        { type: 'skip-promote', revision: plan.canary.revision },
        { ...succeeded(), primary: snapshotOf(plan.canary), canaryRevision: plan.canary.revision },
        now,
        [stageEvent('AnalysisSkipped', FLAGGER_MESSAGES.skipped)],
      );
    case 'promoting': {
      const to = promotionStepWeight(plan, state.canaryWeight);
      if (to > 0) {
        return changed(plan, state, { type: 'promotion-step', from: state.canaryWeight, to }, { canaryWeight: to, mirror: false }, now, [
          stageEvent('PromotionTrafficShifted', `Shifting traffic back to the primary: canary weight ${state.canaryWeight} -> ${to}.`),
        ]);
      }
      return changed(plan, state, { type: 'finalise' }, { phase: 'Finalising', canaryWeight: 0, mirror: false, iterations: 0 }, now, [
        stageEvent('Finalised', FLAGGER_MESSAGES.finalising),
      ]);
    }
    case 'finalising':
      return changed(plan, state, { type: 'succeed' }, succeeded(), now, [stageEvent('Succeeded', FLAGGER_MESSAGES.succeeded)]);
    case 'threshold':
      return rollback(plan, state, 'ThresholdReached', thresholdMessage(state.failedChecks), now);
    case 'analysis': {
      if (!tick.move) throw new Error('analysis tick without a move');
      const outcome = applyMove(plan, state, tick.move);
      if (outcome.action.type === 'none') return none(state, outcome.action.reason, outcome.action.message, outcome.events);
      return changed(plan, state, outcome.action, outcome.patch, now, outcome.events);
    }
    case 'suspended':
      return none(state, 'suspended', tick.why);
    case 'bootstrap':
    case 'idle':
      throw new Error(`stage ${tick.stage} has no completion`);
    default:
      return assertNever(tick.stage);
  }
}

/**
 * A workload is not ready: wait, or give up (rollback / failed promotion). Giving up needs
 * evidence from the cluster: the Deployment's own Progressing=False condition (`retriable: false`),
 * or kube-state-metrics having seen it unavailable for progressDeadlineSeconds. Time without an
 * observation (driver or Prometheus down) never counts.
 */
function notReady(plan: AnalysisPlan, state: CanaryState, tick: TickPlan, verdict: Extract<StepVerdict, { kind: 'not-ready' }>, now: Date): Decision {
  const { workload, readiness } = verdict;
  if (readiness.observationError) return unobservable(plan, state, tick, workload, readiness.reason, now);
  const promoting = tick.stage === 'promoting' || tick.stage === 'finalising';
  const deadlineApplies = workload === 'canary' || promoting;
  const name = workloadDeployment(plan, workload);
  const kind = plan.workloadKind === 'DaemonSet' ? 'daemonset' : 'deployment';
  const expired = deadlineApplies && deadlineExceeded(plan, readiness);
  if (readiness.retriable && !expired) {
    return none(state, 'not-ready', `${workload} not ready: ${readiness.reason}`, [
      stageEvent('ReadinessWait', `Waiting for ${workload} ${kind} ${name} to become ready: ${readiness.reason}`),
    ]);
  }
  const detail = `${workload} ${kind} ${name} not ready: ${readiness.reason}${expired ? ` (observed unavailable for ${readiness.unavailableForSeconds}s, deadline ${plan.progressDeadlineSeconds}s)` : ''}`;
  if (workload === 'primary' && promoting) {
    return changed(plan, state, { type: 'fail-promotion', reason: 'PromotionFailed', message: promotionFailedMessage(detail) }, promotionFailed(), now, [
      stageEvent('PromotionFailed', promotionFailedMessage(detail)),
      stageEvent('RolledBack', targetMessages(plan.targetKind).failed),
    ]);
  }
  return rollback(plan, state, 'ProgressDeadlineExceeded', deadlineMessage(detail), now);
}

/**
 * Readiness could not be observed (Prometheus down, 401, query error). During the analysis it is
 * an errored check, so an outage ends in a rollback at `threshold` (the threshold tick rolls back
 * without waiting for readiness it cannot see); everywhere else, including Promoting and
 * Finalising, the stage holds: an unobservable cluster never fails a promotion or moves traffic.
 */
function unobservable(plan: AnalysisPlan, state: CanaryState, tick: TickPlan, workload: 'primary' | 'canary', reason: string, now: Date): Decision {
  const message = `Readiness of ${workload} could not be observed (Prometheus unreachable or query error): ${reason}`;
  if (tick.stage === 'analysis') return hold(plan, state, { reason: 'MetricError', message }, `${workload}-readiness`, now);
  if (tick.stage === 'threshold') return rollback(plan, state, 'ThresholdReached', thresholdMessage(state.failedChecks), now);
  return none(state, 'not-ready', `${workload} readiness unknown, holding the stage: ${reason}`, [stageEvent('ReadinessWait', `${message}; holding the stage.`)]);
}

/**
 * scheduler.go advanceCanary: a GetRoutes error (gateway_api.go: a parent has not Accepted the
 * HTTPRoute at its generation) ends the tick before anything else: no move, no failed check, no
 * traffic change. A status that cannot be seen holds the same way: unobservable never advances.
 */
function routeNotReady(state: CanaryState, acceptance: Extract<RouteAcceptance, { accepted: false }>): Decision {
  const reason = acceptance.observationError ? 'route-unobservable' : 'route-not-accepted';
  return none(state, reason, acceptance.message, [stageEvent('RouteNotReady', acceptance.message)]);
}

/** Observed unavailable for at least progressDeadlineSeconds (0 disables the deadline). */
function deadlineExceeded(plan: AnalysisPlan, readiness: Extract<Readiness, { ready: false }>): boolean {
  if (plan.progressDeadlineSeconds <= 0 || readiness.unavailableForSeconds === undefined) return false;
  return readiness.unavailableForSeconds >= plan.progressDeadlineSeconds;
}

/** A webhook decided the tick: a closed gate, a failed check, or a requested rollback. */
function webhookAnswered(plan: AnalysisPlan, state: CanaryState, hook: PlannedWebhook, message: string, now: Date): Decision {
  switch (hook.type) {
    case 'confirm-rollout':
      return gateClosed(plan, state, hook, 'Waiting', FLAGGER_MESSAGES.waitingRollout, now);
    case 'confirm-promotion':
      return gateClosed(plan, state, hook, 'WaitingPromotion', FLAGGER_MESSAGES.waitingPromotion, now);
    case 'confirm-traffic-increase':
      return none(state, 'gate-closed', `confirm-traffic-increase webhook ${hook.name} is closed`, [
        stageEvent('WaitingForApproval', FLAGGER_MESSAGES.waitingTrafficIncrease),
      ]);
    case 'pre-rollout':
    case 'rollout':
      return hold(plan, state, { reason: 'WebhookFailed', message: `${hook.type} webhook ${hook.name} failed: ${message}` }, hook.name, now);
    case 'rollback':
      return rollback(plan, state, 'RollbackRequested', FLAGGER_MESSAGES.rollbackHook, now);
    case 'post-rollout':
    case 'event':
      throw new Error(`${hook.type} webhooks never gate a tick`);
    default:
      return assertNever(hook.type);
  }
}

/**
 * A confirm gate is closed: enter its waiting phase, or keep waiting without a commit.
 * confirm-promotion for A/B and blue/green (scheduler_hooks.go runConfirmPromotionHooks and
 * status.go setStatusPhase): the iterations drop to `iterations - 1`, on entering WaitingPromotion
 * and on every later closed tick, so the next tick runs one more iteration and the gate is polled
 * every second tick. The canary strategy keeps its counters (Flagger would show -1 iterations).
 */
function gateClosed(
  plan: AnalysisPlan,
  state: CanaryState,
  hook: PlannedWebhook,
  phase: 'Waiting' | 'WaitingPromotion',
  message: string,
  now: Date,
): Decision {
  const events = [stageEvent('WaitingForApproval', message)];
  const { strategy, iterations } = effectiveStrategy(plan);
  const patch: StatePatch = phase === 'WaitingPromotion' && strategy !== 'canary' ? { phase, iterations: Math.max(0, iterations - 1) } : { phase };
  const gate = hook.type === 'confirm-rollout' ? 'confirm-rollout' : 'confirm-promotion';
  const action: Action = { type: 'wait', gate, webhook: hook.name, message };
  if (state.phase === phase) {
    // Flagger alerts once, on entering the waiting phase; later closed ticks only adjust counters.
    if (patch.iterations === undefined || patch.iterations === state.iterations) return none(state, 'gate-closed', `${hook.type} webhook ${hook.name} is closed`);
    return changed(plan, state, action, patch, now, []);
  }
  return changed(plan, state, action, patch, now, events);
}

interface CheckFailure {
  reason: CheckFailureReason;
  message: string;
}

/** Message for a metric that did not pass; no-data and errors name their likely cause. */
function metricFailure(verdict: Extract<StepVerdict, { kind: 'metric' }>): CheckFailure {
  const { metric, result } = verdict;
  switch (result.outcome) {
    case 'fail':
      return { reason: 'MetricCheckFailed', message: `Metric ${metric.name} check failed: ${result.message}` };
    case 'no-data':
      return { reason: 'NoMetricData', message: `No values found for metric ${metric.name}: is the canary receiving traffic? ${result.message}` };
    case 'error':
      return { reason: 'MetricError', message: `Metric ${metric.name} could not be evaluated (metrics provider unreachable or query error): ${result.message}` };
    case 'pass':
      throw new Error('a passing metric does not fail a check');
    default:
      return assertNever(result.outcome);
  }
}

/** Counts one failed check (at most one per tick); the rollback comes on a later tick. */
function hold(plan: AnalysisPlan, state: CanaryState, failure: CheckFailure, check: string, now: Date): Decision {
  const failedChecks = state.failedChecks + 1;
  const message = `${failure.message} (failed checks ${failedChecks}/${failureThreshold(plan)})`;
  return changed(plan, state, { type: 'hold', reason: failure.reason, check, message }, { failedChecks }, now, [stageEvent(failure.reason, message)]);
}

function rollback(plan: AnalysisPlan, state: CanaryState, reason: RollbackReason, message: string, now: Date): Decision {
  return changed(plan, state, { type: 'rollback', reason, message }, rolledBack(plan), now, [
    stageEvent(reason, message),
    stageEvent('RolledBack', targetMessages(plan.targetKind).failed),
  ]);
}

function changed(plan: AnalysisPlan, state: CanaryState, action: Action, patch: StatePatch, now: Date, events: StageEvent[]): Decision {
  return { action, state: transition(plan, state, patch, now), events };
}

function none(state: CanaryState, reason: IdleReason, message: string, events: StageEvent[] = []): Decision {
  return { action: { type: 'none', reason, message }, state, events };
}
