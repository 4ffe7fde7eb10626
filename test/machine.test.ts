import { describe, expect, it } from 'vitest';
import { decide, initialState } from '../src/machine/decide';
import { sessionCookie } from '../src/machine/affinity';
import { Action, isCommitted } from '../src/machine/action';
import { emptyObservations, Observations } from '../src/model/observations';
import { AnalysisPlan } from '../src/model/plan';
import { CanaryState, parseState } from '../src/model/state';
import { endsTick, observationsNeeded } from '../src/machine/tick';
import { plannedSchedule } from '../src/machine/schedule';
import {
  after,
  GREEN,
  hook,
  makePlan,
  makeState,
  phaseWeights,
  runState,
  runTicks,
  T0,
  tick,
  withRevision,
  World,
} from './support/plans';

/** One interval after T0: every interval-bound state is due. */
const NOW = after(T0, 60);

const gated = (type: 'confirm-rollout' | 'confirm-traffic-increase' | 'confirm-promotion', open: boolean): World => ({
  webhook: (h) => (h.type === type ? open : h.type !== 'rollback'),
});
const failing = (type: string): World => ({ webhook: (h) => (h.type === 'rollback' ? false : h.type !== type) });
const notReady = (retriable: boolean, unavailableForSeconds?: number) => ({ ready: false as const, retriable, reason: '1 of 2 updated replicas available', ...(unavailableForSeconds === undefined ? {} : { unavailableForSeconds }) });

const confirmRollout = makePlan({ webhooks: [hook('approve', 'confirm-rollout')] });
const withHooks = makePlan({
  webhooks: [
    hook('gate-rollout', 'confirm-rollout'),
    hook('smoke', 'pre-rollout'),
    hook('load', 'rollout'),
    hook('more', 'confirm-traffic-increase'),
    hook('promote', 'confirm-promotion'),
    hook('abort', 'rollback'),
  ],
});
const ab = makePlan({ strategy: 'ab-testing', analysis: { iterations: 3, hasMatch: true } });
const bg = makePlan({ strategy: 'blue-green', analysis: { iterations: 3, mirror: true } });
const k8s = makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 3 } });

interface Row {
  name: string;
  plan?: AnalysisPlan;
  state: CanaryState | undefined;
  world?: World;
  now?: Date;
  action: Action['type'];
  /** Expected fields of the action beyond its type. */
  detail?: Record<string, unknown>;
  phase: CanaryState['phase'];
  weight: number;
  failedChecks: number;
  iterations: number;
  primary: string;
  mirror?: boolean;
  canaryRevision?: string;
}

const rows: Row[] = [
  // Bootstrap and idle ticks.
  { name: 'no state yet -> initialize (Initializing: the target keeps serving until the primary is ready)', state: undefined, action: 'initialize', phase: 'Initializing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-2', canaryRevision: 'rev-2' },
  { name: 'suspended', plan: makePlan({ suspend: true }), state: runState({ canaryWeight: 20 }), action: 'none', detail: { reason: 'suspended' }, phase: 'Progressing', weight: 20, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'paused', state: runState({ canaryWeight: 20, paused: true }), action: 'none', detail: { reason: 'paused' }, phase: 'Progressing', weight: 20, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'not due before the interval', state: runState({ canaryWeight: 20 }), now: after(T0, 59), action: 'none', detail: { reason: 'not-due' }, phase: 'Progressing', weight: 20, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'at rest, same revision', plan: withRevision(makePlan(), 'rev-1'), state: makeState(), action: 'none', detail: { reason: 'no-new-revision' }, phase: 'Succeeded', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'failed revision is not retried', state: makeState({ phase: 'Failed', canaryRevision: 'rev-2' }), action: 'none', detail: { reason: 'no-new-revision' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'reverting to the promoted template starts nothing', plan: withRevision(makePlan(), 'rev-1'), state: makeState({ phase: 'Failed', canaryRevision: 'rev-2' }), action: 'none', detail: { reason: 'no-new-revision' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Initializing with the primary ready', state: makeState({ phase: 'Initializing', canaryRevision: 'rev-1' }), plan: withRevision(makePlan(), 'rev-1'), action: 'initialize', phase: 'Initialized', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },

  // Start gate (confirm-rollout).
  { name: 'new revision at rest, detected at once', plan: confirmRollout, state: makeState(), now: T0, action: 'start', detail: { revision: 'rev-2' }, phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },
  { name: 'new revision after Failed', state: makeState({ phase: 'Failed', canaryRevision: 'rev-0' }), action: 'start', phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },
  { name: 'confirm-rollout closed -> Waiting', plan: confirmRollout, state: makeState(), world: gated('confirm-rollout', false), action: 'wait', detail: { gate: 'confirm-rollout', webhook: 'approve' }, phase: 'Waiting', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-1' },
  { name: 'Waiting, still closed', plan: confirmRollout, state: makeState({ phase: 'Waiting' }), world: gated('confirm-rollout', false), action: 'none', detail: { reason: 'gate-closed' }, phase: 'Waiting', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Waiting, opened', plan: confirmRollout, state: makeState({ phase: 'Waiting' }), action: 'start', phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },
  { name: 'primary broken at detection -> rollback', state: makeState(), world: { primary: notReady(false) }, action: 'rollback', detail: { reason: 'ProgressDeadlineExceeded' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },

  // Restart.
  { name: 'new revision mid-run restarts', plan: withRevision(makePlan(), 'rev-3'), state: runState({ canaryWeight: 30, failedChecks: 2 }), now: T0, action: 'restart', detail: { revision: 'rev-3' }, phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-3' },
  { name: 'new revision in WaitingPromotion restarts', plan: withRevision(ab, 'rev-3'), state: runState({ phase: 'WaitingPromotion', canaryWeight: 100, iterations: 3 }), action: 'restart', phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-3' },
  { name: 'new revision while Promoting waits for the run to end', plan: withRevision(makePlan(), 'rev-3'), state: runState({ phase: 'Promoting', canaryWeight: 50, primary: initialState(makePlan(), T0).primary }), action: 'finalise', phase: 'Finalising', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-2', canaryRevision: 'rev-2' },

  // Readiness.
  { name: 'canary not ready yet', state: runState({ canaryWeight: 20 }), world: { canary: notReady(true) }, action: 'none', detail: { reason: 'not-ready' }, phase: 'Progressing', weight: 20, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'canary not ready, non-retriable', state: runState({ canaryWeight: 20, failedChecks: 1 }), world: { canary: notReady(false) }, action: 'rollback', detail: { reason: 'ProgressDeadlineExceeded' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },
  { name: 'canary observed unavailable for progressDeadlineSeconds', state: runState(), world: { canary: notReady(true, 600) }, now: after(T0, 601), action: 'rollback', detail: { reason: 'ProgressDeadlineExceeded' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  // The driver did not run for an hour: time nobody observed never expires the deadline.
  { name: 'canary unavailable only recently after a long driver outage', state: runState({ phase: 'WaitingPromotion', canaryWeight: 50 }), world: { canary: notReady(true, 120) }, now: after(T0, 3600), action: 'none', detail: { reason: 'not-ready' }, phase: 'WaitingPromotion', weight: 50, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'canary not ready, unavailability not measured', state: runState(), world: { canary: notReady(true) }, now: after(T0, 7200), action: 'none', detail: { reason: 'not-ready' }, phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'primary not ready mid-run waits', state: runState({ canaryWeight: 20 }), world: { primary: notReady(true) }, now: after(T0, 3600), action: 'none', detail: { reason: 'not-ready' }, phase: 'Progressing', weight: 20, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'primary broken mid-run -> rollback', state: runState({ canaryWeight: 20 }), world: { primary: notReady(false) }, action: 'rollback', phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },

  // skipAnalysis.
  { name: 'skipAnalysis promotes once the canary is ready', plan: makePlan({ skipAnalysis: true }), state: runState(), action: 'skip-promote', phase: 'Succeeded', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-2', canaryRevision: 'rev-2' },
  // status.go setStatusPhase(Succeeded) keeps failedChecks.
  { name: 'skipAnalysis set mid-run', plan: makePlan({ skipAnalysis: true }), state: runState({ canaryWeight: 30, failedChecks: 2 }), world: { primary: notReady(false) }, action: 'skip-promote', phase: 'Succeeded', weight: 0, failedChecks: 2, iterations: 0, primary: 'rev-2' },
  { name: 'skipAnalysis waits for the canary', plan: makePlan({ skipAnalysis: true }), state: runState(), world: { canary: notReady(true) }, action: 'none', phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },

  // Rollback hooks and threshold.
  { name: 'rollback hook answers OK', plan: withHooks, state: runState({ canaryWeight: 30 }), world: { webhook: () => true }, action: 'rollback', detail: { reason: 'RollbackRequested' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'rollback hook answers no', plan: withHooks, state: runState({ canaryWeight: 30 }), action: 'advance', detail: { from: 30, to: 40 }, phase: 'Progressing', weight: 40, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'threshold reached -> rollback', state: runState({ canaryWeight: 30, failedChecks: 5 }), action: 'rollback', detail: { reason: 'ThresholdReached', message: 'Failed checks threshold reached 5' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },
  { name: 'threshold reached in WaitingPromotion', state: runState({ phase: 'WaitingPromotion', canaryWeight: 50, failedChecks: 5 }), action: 'rollback', phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'threshold <= 0 counts as 1', plan: makePlan({ analysis: { threshold: 0 } }), state: runState({ canaryWeight: 30, failedChecks: 1 }), action: 'rollback', phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },

  // Checks.
  { name: 'first analysis tick: pre-rollout passes, first step', plan: withHooks, state: runState(), action: 'advance', detail: { from: 0, to: 10 }, phase: 'Progressing', weight: 10, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'pre-rollout fails', plan: withHooks, state: runState(), world: failing('pre-rollout'), action: 'hold', detail: { reason: 'WebhookFailed', check: 'smoke' }, phase: 'Progressing', weight: 0, failedChecks: 1, iterations: 0, primary: 'rev-1' },
  { name: 'rollout hook fails', plan: withHooks, state: runState({ canaryWeight: 20, failedChecks: 1 }), world: failing('rollout'), action: 'hold', detail: { reason: 'WebhookFailed', check: 'load' }, phase: 'Progressing', weight: 20, failedChecks: 2, iterations: 0, primary: 'rev-1' },
  { name: 'metric out of range', state: runState({ canaryWeight: 20 }), world: { metric: () => 'fail' }, action: 'hold', detail: { reason: 'MetricCheckFailed', check: 'request-success-rate' }, phase: 'Progressing', weight: 20, failedChecks: 1, iterations: 0, primary: 'rev-1' },
  { name: 'second metric has no data', state: runState({ canaryWeight: 20 }), world: { metric: (m) => (m.name === 'request-duration' ? 'no-data' : 'pass') }, action: 'hold', detail: { reason: 'NoMetricData', check: 'request-duration' }, phase: 'Progressing', weight: 20, failedChecks: 1, iterations: 0, primary: 'rev-1' },
  { name: 'metric query error', state: runState({ canaryWeight: 20 }), world: { metric: () => 'error' }, action: 'hold', detail: { reason: 'MetricError' }, phase: 'Progressing', weight: 20, failedChecks: 1, iterations: 0, primary: 'rev-1' },
  { name: 'failed check while WaitingPromotion', state: runState({ phase: 'WaitingPromotion', canaryWeight: 50 }), world: { metric: () => 'fail' }, action: 'hold', phase: 'WaitingPromotion', weight: 50, failedChecks: 1, iterations: 0, primary: 'rev-1' },

  // Canary strategy.
  { name: 'advance', state: runState({ canaryWeight: 20, failedChecks: 2 }), action: 'advance', detail: { from: 20, to: 30 }, phase: 'Progressing', weight: 30, failedChecks: 2, iterations: 0, primary: 'rev-1' },
  { name: 'advance past maxWeight (no clamp)', plan: makePlan({ analysis: { stepWeight: 20 } }), state: runState({ canaryWeight: 40 }), action: 'advance', detail: { from: 40, to: 60 }, phase: 'Progressing', weight: 60, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'stepWeights ladder', plan: makePlan({ analysis: { stepWeight: 0, stepWeights: [1, 2, 10, 80] } }), state: runState({ canaryWeight: 2 }), action: 'advance', detail: { from: 2, to: 10 }, phase: 'Progressing', weight: 10, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'confirm-traffic-increase closed', plan: withHooks, state: runState({ canaryWeight: 20 }), world: gated('confirm-traffic-increase', false), action: 'none', detail: { reason: 'gate-closed' }, phase: 'Progressing', weight: 20, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  // scheduler.go advanceCanary: confirm-traffic-increase is asked whenever nextStepWeight > 0 in Progressing, also at maxWeight.
  { name: 'max weight, confirm-traffic-increase closed: no promotion', plan: withHooks, state: runState({ canaryWeight: 50 }), world: gated('confirm-traffic-increase', false), action: 'none', detail: { reason: 'gate-closed' }, phase: 'Progressing', weight: 50, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'max weight, confirm-promotion closed', plan: withHooks, state: runState({ canaryWeight: 50 }), world: gated('confirm-promotion', false), action: 'wait', detail: { gate: 'confirm-promotion' }, phase: 'WaitingPromotion', weight: 50, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'WaitingPromotion, still closed', plan: withHooks, state: runState({ phase: 'WaitingPromotion', canaryWeight: 50 }), world: gated('confirm-promotion', false), action: 'none', detail: { reason: 'gate-closed' }, phase: 'WaitingPromotion', weight: 50, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'WaitingPromotion, opened', plan: withHooks, state: runState({ phase: 'WaitingPromotion', canaryWeight: 50, failedChecks: 1 }), action: 'promote', detail: { revision: 'rev-2' }, phase: 'Promoting', weight: 50, failedChecks: 1, iterations: 0, primary: 'rev-2' },
  { name: 'max weight promotes', state: runState({ canaryWeight: 50 }), action: 'promote', phase: 'Promoting', weight: 50, failedChecks: 0, iterations: 0, primary: 'rev-2' },
  { name: 'mirror step at weight 0', plan: makePlan({ analysis: { mirror: true } }), state: runState(), action: 'mirror', phase: 'Progressing', weight: 0, mirror: true, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'mirrored -> first weight, mirror off', plan: makePlan({ analysis: { mirror: true } }), state: runState({ mirror: true }), action: 'advance', detail: { from: 0, to: 10 }, phase: 'Progressing', weight: 10, mirror: false, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'no weight step configured', plan: makePlan({ analysis: { stepWeight: 0 } }), state: runState(), action: 'none', detail: { reason: 'no-weight-step' }, phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },

  // A/B and blue/green.
  { name: 'A/B first tick routes 0/100', plan: ab, state: runState(), action: 'iterate', detail: { n: 1, of: 3 }, phase: 'Progressing', weight: 100, failedChecks: 0, iterations: 1, primary: 'rev-1' },
  { name: 'A/B iterate', plan: ab, state: runState({ canaryWeight: 100, iterations: 2 }), action: 'iterate', detail: { n: 3, of: 3 }, phase: 'Progressing', weight: 100, failedChecks: 0, iterations: 3, primary: 'rev-1' },
  { name: 'A/B last iteration promotes', plan: ab, state: runState({ canaryWeight: 100, iterations: 3 }), action: 'promote', phase: 'Promoting', weight: 100, failedChecks: 0, iterations: 3, primary: 'rev-2' },
  { name: 'blue/green istio mirror iterate', plan: bg, state: runState({ iterations: 1, mirror: true }), action: 'iterate', phase: 'Progressing', weight: 0, mirror: true, failedChecks: 0, iterations: 2, primary: 'rev-1' },
  { name: 'blue/green cutover', plan: bg, state: runState({ iterations: 3, mirror: true }), action: 'cutover', phase: 'Progressing', weight: 100, mirror: false, failedChecks: 0, iterations: 4, primary: 'rev-1' },
  // scheduler_hooks.go runConfirmPromotionHooks + status.go setStatusPhase: WaitingPromotion drops iterations to N-1.
  { name: 'blue/green cutover gated', plan: { ...bg, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ iterations: 3, mirror: true }), world: gated('confirm-promotion', false), action: 'wait', phase: 'WaitingPromotion', weight: 0, mirror: true, failedChecks: 0, iterations: 2, primary: 'rev-1' },
  { name: 'blue/green WaitingPromotion runs one more iteration', plan: { ...bg, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ phase: 'WaitingPromotion', iterations: 2, mirror: true }), action: 'iterate', detail: { n: 3, of: 3 }, phase: 'WaitingPromotion', weight: 0, mirror: true, failedChecks: 0, iterations: 3, primary: 'rev-1' },
  { name: 'blue/green WaitingPromotion, still closed', plan: { ...bg, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ phase: 'WaitingPromotion', iterations: 3, mirror: true }), world: gated('confirm-promotion', false), action: 'wait', phase: 'WaitingPromotion', weight: 0, mirror: true, failedChecks: 0, iterations: 2, primary: 'rev-1' },
  { name: 'blue/green WaitingPromotion, opened: cutover', plan: { ...bg, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ phase: 'WaitingPromotion', iterations: 3, mirror: true }), action: 'cutover', phase: 'WaitingPromotion', weight: 100, mirror: false, failedChecks: 0, iterations: 4, primary: 'rev-1' },
  { name: 'A/B promotion gated', plan: { ...ab, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ canaryWeight: 100, iterations: 3 }), world: gated('confirm-promotion', false), action: 'wait', phase: 'WaitingPromotion', weight: 100, failedChecks: 0, iterations: 2, primary: 'rev-1' },
  { name: 'A/B WaitingPromotion runs one more iteration', plan: { ...ab, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ phase: 'WaitingPromotion', canaryWeight: 100, iterations: 2 }), action: 'iterate', detail: { n: 3, of: 3 }, phase: 'WaitingPromotion', weight: 100, failedChecks: 0, iterations: 3, primary: 'rev-1' },
  { name: 'A/B WaitingPromotion, still closed', plan: { ...ab, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ phase: 'WaitingPromotion', canaryWeight: 100, iterations: 3 }), world: gated('confirm-promotion', false), action: 'wait', phase: 'WaitingPromotion', weight: 100, failedChecks: 0, iterations: 2, primary: 'rev-1' },
  { name: 'A/B WaitingPromotion, opened', plan: { ...ab, webhooks: [hook('promote', 'confirm-promotion')] }, state: runState({ phase: 'WaitingPromotion', canaryWeight: 100, iterations: 3 }), action: 'promote', phase: 'Promoting', weight: 100, failedChecks: 0, iterations: 3, primary: 'rev-2' },
  { name: 'blue/green after cutover promotes', plan: bg, state: runState({ iterations: 4, canaryWeight: 100 }), action: 'promote', phase: 'Promoting', weight: 100, failedChecks: 0, iterations: 4, primary: 'rev-2' },
  { name: 'kubernetes cutover keeps routes', plan: k8s, state: runState({ iterations: 3 }), action: 'cutover', phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 4, primary: 'rev-1' },
  // The construct resolves provider kubernetes to blue/green x10 (test/analysis-resolve.test.ts); the machine reads it.
  { name: 'kubernetes: the 10 iterations the construct resolved', plan: makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 10 } }), state: runState({ iterations: 9 }), action: 'iterate', detail: { n: 10, of: 10 }, phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 10, primary: 'rev-1' },

  // spec.go hasSpecChanged: a target reverted to the promoted spec mid-run is no new revision; the run continues.
  { name: 'target reverted to the promoted spec mid-run: the run continues', plan: withRevision(makePlan(), 'rev-1'), state: runState({ canaryWeight: 20 }), action: 'advance', detail: { from: 20, to: 30 }, phase: 'Progressing', weight: 30, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-2' },
  { name: 'target changed to a third revision mid-run: restart', plan: withRevision(makePlan(), 'rev-3'), state: runState({ canaryWeight: 20 }), action: 'restart', phase: 'Progressing', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1', canaryRevision: 'rev-3' },

  // Promotion.
  { name: 'Promoting -> Finalising in one tick', state: runState({ phase: 'Promoting', canaryWeight: 50 }), action: 'finalise', phase: 'Finalising', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Promoting with stepWeightPromotion', plan: makePlan({ analysis: { stepWeightPromotion: 20 } }), state: runState({ phase: 'Promoting', canaryWeight: 50 }), action: 'promotion-step', detail: { from: 50, to: 30 }, phase: 'Promoting', weight: 30, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'kubernetes Promoting ignores stepWeightPromotion', plan: makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 3, stepWeightPromotion: 20 } }), state: runState({ phase: 'Promoting', iterations: 4 }), action: 'finalise', phase: 'Finalising', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Promoting waits for the primary', state: runState({ phase: 'Promoting', canaryWeight: 50 }), world: { primary: notReady(true) }, action: 'none', detail: { reason: 'not-ready' }, phase: 'Promoting', weight: 50, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Promoting, primary broken', state: runState({ phase: 'Promoting', canaryWeight: 50 }), world: { primary: notReady(false) }, action: 'fail-promotion', detail: { reason: 'PromotionFailed' }, phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Promoting, primary observed unavailable past the deadline', state: runState({ phase: 'Promoting', canaryWeight: 50 }), world: { primary: notReady(true, 610) }, now: after(T0, 601), action: 'fail-promotion', phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
  { name: 'Finalising -> Succeeded keeps the run\'s failedChecks (status.go)', state: runState({ phase: 'Finalising', failedChecks: 2 }), action: 'succeed', phase: 'Succeeded', weight: 0, failedChecks: 2, iterations: 0, primary: 'rev-1' },
  { name: 'Finalising, primary broken', state: runState({ phase: 'Finalising' }), world: { primary: notReady(false) }, action: 'fail-promotion', phase: 'Failed', weight: 0, failedChecks: 0, iterations: 0, primary: 'rev-1' },
];

describe('decide: transitions', () => {
  it.each(rows)('$name -> $action', (row) => {
    const plan = row.plan ?? makePlan();
    const now = row.now ?? NOW;
    const { decision } = tick(plan, row.state, now, row.world ?? GREEN);
    expect(decision.action.type).toBe(row.action);
    if (row.detail) expect(decision.action).toMatchObject(row.detail);
    expect({
      phase: decision.state.phase,
      weight: decision.state.canaryWeight,
      failedChecks: decision.state.failedChecks,
      iterations: decision.state.iterations,
      primary: decision.state.primary.revision,
    }).toEqual({ phase: row.phase, weight: row.weight, failedChecks: row.failedChecks, iterations: row.iterations, primary: row.primary });
    if (row.mirror !== undefined) expect(decision.state.mirror).toBe(row.mirror);
    if (row.canaryRevision !== undefined) expect(decision.state.canaryRevision).toBe(row.canaryRevision);
    if (decision.action.type === 'none') {
      expect(decision.state).toEqual(row.state);
      expect(isCommitted(decision)).toBe(false);
    } else {
      expect(decision.state).not.toEqual(row.state);
      expect(decision.state.lastTransitionTime).toBe(now.toISOString());
      expect(isCommitted(decision)).toBe(true);
      expect(parseState(JSON.parse(JSON.stringify(decision.state)), 'state.json')).toEqual(decision.state);
    }
  });
});

describe('decide: details', () => {
  it('promotion copies the whole canary workload into the primary snapshot', () => {
    const plan = makePlan();
    const { decision } = tick(plan, runState({ canaryWeight: 50 }), NOW);
    expect(decision.state.primary).toEqual({ ...plan.canary });
    expect(decision.state.primary.template).not.toBe(plan.canary.template);
  });

  it.each([
    [undefined, 'Deployment'],
    ['DaemonSet', 'DaemonSet'],
    ['Service', 'Service'],
  ])('events name the target kind (%s) as Flagger does (pkg/canary/status.go SyncStatus: New %%s detected…, %%s scaled to zero)', (targetKind, kind) => {
    const plan = makePlan(targetKind ? { targetKind } : {});
    expect(decide(plan, undefined, emptyObservations(), NOW).events.map((e) => e.message)).toEqual([`New ${kind} detected, starting initialization.`]);
    const { decision } = tick(plan, runState({ canaryWeight: 30, failedChecks: 5 }), NOW);
    expect(decision.events.map((e) => e.message)).toContain(`Canary analysis failed, ${kind} scaled to zero.`);
  });

  it('a rollback leaves the primary snapshot untouched', () => {
    const start = runState({ canaryWeight: 30, failedChecks: 5 });
    const { decision } = tick(makePlan(), start, NOW);
    expect(decision.state.primary).toEqual(start.primary);
    expect(decision.events.map((e) => [e.reason, e.severity])).toEqual([
      ['ThresholdReached', 'error'],
      ['RolledBack', 'error'],
    ]);
  });

  it('no-data and errors name their likely cause', () => {
    const noData = tick(makePlan(), runState({ canaryWeight: 20 }), NOW, { metric: () => 'no-data' }).decision;
    expect(noData.events[0].message).toContain('is the canary receiving traffic?');
    const error = tick(makePlan(), runState({ canaryWeight: 20 }), NOW, { metric: () => 'error' }).decision;
    expect(error.events[0].message).toContain('metrics provider unreachable');
    expect(error.events[0].message).toContain('(failed checks 1/5)');
  });

  it('counts at most one failed check per tick', () => {
    const plan = makePlan({ webhooks: [hook('load', 'rollout')] });
    const obs: Observations = {
      primary: { ready: true },
      canary: { ready: true },
      webhooks: [{ name: 'load', type: 'rollout', ok: false, message: 'timeout' }],
      metrics: [
        { metric: 'request-success-rate', outcome: 'fail', message: 'low' },
        { metric: 'request-duration', outcome: 'no-data', message: 'empty' },
      ],
    };
    const decision = decide(plan, runState({ canaryWeight: 20 }), obs, NOW);
    expect(decision.action).toMatchObject({ type: 'hold', reason: 'WebhookFailed', check: 'load' });
    expect(decision.state.failedChecks).toBe(1);
  });

  it('the start tick reuses Flagger wording', () => {
    const { decision } = tick(makePlan(), makeState(), T0);
    expect(decision.events).toEqual([{ reason: 'NewRevision', message: 'New revision detected, progressing canary analysis.', severity: 'info' }]);
  });

  it('skipAnalysis reuses Flagger wording', () => {
    const { decision } = tick(makePlan({ skipAnalysis: true }), runState(), NOW);
    expect(decision.events[0].message).toBe('Canary analysis was skipped, promotion finished.');
  });

  it('missing observations decide nothing', () => {
    const decision = decide(makePlan(), runState({ canaryWeight: 20 }), { ...emptyObservations(), primary: { ready: true } }, NOW);
    expect(decision.action).toMatchObject({ type: 'none', reason: 'incomplete-observations' });
    expect(decision.events[0]).toMatchObject({ reason: 'ObservationMissing', severity: 'error' });
  });

  it('a readiness left unobserved counts as missing even when the checks pass', () => {
    const obs: Observations = {
      primary: { ready: true },
      webhooks: [],
      metrics: [
        { metric: 'request-success-rate', outcome: 'pass', message: '' },
        { metric: 'request-duration', outcome: 'pass', message: '' },
      ],
    };
    const decision = decide(makePlan(), runState({ canaryWeight: 20 }), obs, NOW);
    expect(decision.action).toMatchObject({ type: 'none', reason: 'incomplete-observations', message: 'canary readiness was not observed' });
  });

  it('a result for the wrong webhook counts as missing', () => {
    const plan = makePlan({ webhooks: [hook('load', 'rollout')] });
    const obs: Observations = { primary: { ready: true }, canary: { ready: true }, webhooks: [{ name: 'other', type: 'rollout', ok: true, message: '' }], metrics: [] };
    expect(decide(plan, runState({ canaryWeight: 20 }), obs, NOW).action).toMatchObject({ type: 'none', reason: 'incomplete-observations' });
  });

  it('initialState snapshots the target as the primary', () => {
    const plan = makePlan();
    const state = initialState(plan, T0);
    expect(state).toMatchObject({ phase: 'Initializing', canaryWeight: 0, canaryRevision: 'rev-2', lastTransitionTime: T0.toISOString() });
    expect(state.primary).toEqual(plan.canary);
    expect(parseState(JSON.parse(JSON.stringify(state)), 'state.json')).toEqual(state);
    const ready = tick(plan, state, after(T0, 3600)).decision;
    expect(ready.action).toMatchObject({ type: 'initialize' });
    expect(ready.state.phase).toBe('Initialized');
    expect(tick(plan, ready.state, after(T0, 7200)).decision.action).toMatchObject({ type: 'none', reason: 'no-new-revision' });
  });
});

describe('observationsNeeded', () => {
  const kinds = (plan: AnalysisPlan, state: CanaryState | undefined, now = NOW): string[] =>
    observationsNeeded(plan, state, now).steps.map((s) => (s.kind === 'readiness' ? `${s.workload}-ready` : s.kind === 'webhook' ? `${s.webhook.type}:${s.webhook.name}` : s.kind === 'route' ? `route:${s.route.name}` : s.kind === 'providers' ? 'providers' : `metric:${s.metric.name}`));

  it('asks in Flagger order: readiness, rollback, rollout hooks, metrics, gate', () => {
    expect(kinds(withHooks, runState({ canaryWeight: 20 }))).toEqual([
      'primary-ready',
      'canary-ready',
      'rollback:abort',
      'rollout:load',
      'metric:request-success-rate',
      'metric:request-duration',
      'confirm-traffic-increase:more',
    ]);
  });

  it('the first analysis tick runs pre-rollout hooks instead of rollout hooks and metrics', () => {
    const request = observationsNeeded(withHooks, runState(), NOW);
    expect(request.webhookTypes).toEqual(['rollback', 'pre-rollout', 'confirm-traffic-increase']);
    expect(request.metrics).toBe(false);
  });

  it('at max weight confirm-traffic-increase is asked before confirm-promotion (scheduler.go advanceCanary)', () => {
    expect(observationsNeeded(withHooks, runState({ canaryWeight: 50 }), NOW).webhookTypes).toEqual(['rollback', 'rollout', 'confirm-traffic-increase', 'confirm-promotion']);
    expect(observationsNeeded(withHooks, runState({ phase: 'WaitingPromotion', canaryWeight: 50 }), NOW).webhookTypes).toEqual(['rollback', 'rollout', 'confirm-promotion']);
  });

  it('no traffic gate in WaitingPromotion nor on the move off the mirror', () => {
    const mirrorPlan = { ...withHooks, analysis: { ...withHooks.analysis, mirror: true } };
    expect(observationsNeeded(mirrorPlan, runState({ mirror: true }), NOW).webhookTypes).toEqual(['rollback', 'rollout']);
    expect(observationsNeeded(mirrorPlan, runState(), NOW).webhookTypes).toEqual(['rollback', 'pre-rollout', 'confirm-traffic-increase']);
  });

  it('a run at the threshold only checks readiness and rollback hooks', () => {
    expect(kinds(withHooks, runState({ canaryWeight: 20, failedChecks: 5 }))).toEqual(['primary-ready', 'canary-ready', 'rollback:abort']);
  });

  it('a state at rest with a new revision is due at once', () => {
    const request = observationsNeeded(withHooks, makeState(), T0);
    expect(request).toMatchObject({ dueNow: true, stage: 'start', primaryReadiness: true, canaryReadiness: false, webhookTypes: ['confirm-rollout'] });
  });

  it('a restart is due at once and a skipped analysis needs no primary readiness', () => {
    expect(observationsNeeded(withRevision(makePlan(), 'rev-3'), runState(), T0)).toMatchObject({ dueNow: true, stage: 'restart' });
    expect(kinds(makePlan({ skipAnalysis: true }), runState())).toEqual(['canary-ready']);
  });

  // job.go: Flagger ticks once per analysis interval, also while nothing changes (a closed gate, a readiness wait).
  it.each([
    { name: 'no cache: every run after the first slot is due', last: undefined, at: 301, due: true },
    { name: 'quiet tick at +301s: +361s is not due', last: 301, at: 361, due: false, dueAt: 600 },
    { name: 'quiet tick at +301s: +599s is not due', last: 301, at: 599, due: false, dueAt: 600 },
    { name: 'quiet tick at +301s: +601s is due (next slot)', last: 301, at: 601, due: true },
    { name: 'quiet ticks keep the grid: +601s -> +900s', last: 601, at: 899, due: false, dueAt: 900 },
    { name: 'a cached tick older than the last transition is ignored', last: -10, at: 300, due: true },
  ])('cadence with a 5-minute interval: $name', ({ last, at, due, dueAt }) => {
    const plan = makePlan({ analysis: { intervalSeconds: 300 } });
    const lastTick = last === undefined ? undefined : after(T0, last).toISOString();
    const request = observationsNeeded(plan, runState({ canaryWeight: 20 }), after(T0, at), lastTick);
    expect(request.dueNow).toBe(due);
    if (dueAt !== undefined) expect(request.dueAt).toBe(after(T0, dueAt).toISOString());
    const decision = decide(plan, runState({ canaryWeight: 20 }), emptyObservations(), after(T0, at), lastTick);
    expect(decision.action).toMatchObject(due ? { type: 'none', reason: 'incomplete-observations' } : { type: 'none', reason: 'not-due' });
  });

  it('other states wait for the interval and say when they are due', () => {
    const request = observationsNeeded(makePlan(), runState(), after(T0, 30));
    expect(request).toMatchObject({ dueNow: false, stage: 'idle', dueAt: NOW.toISOString(), steps: [] });
    expect(observationsNeeded(makePlan(), runState(), NOW).dueNow).toBe(true);
  });

  it('nothing is due at rest or paused', () => {
    expect(observationsNeeded(withRevision(makePlan(), 'rev-1'), makeState(), NOW).dueNow).toBe(false);
    expect(observationsNeeded(makePlan(), runState({ paused: true }), NOW).dueNow).toBe(false);
  });

  it('a suspended canary is due once per interval and observes nothing (scheduler.go advanceCanary: spec.suspend)', () => {
    const plan = makePlan({ suspend: true });
    expect(observationsNeeded(plan, makeState(), NOW)).toMatchObject({ dueNow: true, stage: 'suspended', steps: [] });
    expect(observationsNeeded(plan, runState(), after(T0, 30))).toMatchObject({ dueNow: false, dueAt: NOW.toISOString() });
    // After a suspended tick at NOW, the next is one interval later.
    expect(observationsNeeded(plan, runState(), after(T0, 90), NOW.toISOString()).dueNow).toBe(false);
    expect(observationsNeeded(plan, runState(), after(T0, 120), NOW.toISOString()).dueNow).toBe(true);
  });

  it('bootstrap needs no observations', () => {
    expect(observationsNeeded(makePlan(), undefined, T0)).toMatchObject({ dueNow: true, stage: 'bootstrap', steps: [] });
  });

  it('endsTick stops the driver at the first decisive result', () => {
    const steps = observationsNeeded(withHooks, runState({ canaryWeight: 20 }), NOW).steps;
    const obs = emptyObservations();
    obs.primary = { ready: true };
    expect(endsTick(steps, obs)).toBe(false);
    obs.canary = { ready: true };
    obs.webhooks.push({ name: 'abort', type: 'rollback', ok: false, message: '' });
    expect(endsTick(steps, obs)).toBe(false);
    obs.webhooks.push({ name: 'load', type: 'rollout', ok: false, message: 'boom' });
    expect(endsTick(steps, obs)).toBe(true);
  });

  it('the driver loop never calls the gate after a failed metric', () => {
    const { request } = tick(withHooks, runState({ canaryWeight: 20 }), NOW);
    expect(request.steps.length).toBe(7);
    let gateCalls = 0;
    tick(withHooks, runState({ canaryWeight: 20 }), NOW, {
      metric: () => 'fail',
      webhook: (h) => {
        if (h.type === 'confirm-traffic-increase') gateCalls++;
        return h.type !== 'rollback';
      },
    });
    expect(gateCalls).toBe(0);
  });
});

describe('whole runs with all-green observations', () => {
  const succeededAt = (plan: AnalysisPlan) => runTicks(plan, makeState(), { from: T0 });

  it.each([
    { name: 'stepWeight 10, maxWeight 50', plan: makePlan() },
    { name: 'stepWeights [1,2,10,80]', plan: makePlan({ analysis: { stepWeight: 0, stepWeights: [1, 2, 10, 80] } }) },
    { name: 'stepWeight 20, maxWeight 50', plan: makePlan({ analysis: { stepWeight: 20 } }) },
    { name: 'stepWeight 100, stepWeightPromotion 50', plan: makePlan({ analysis: { stepWeight: 100, stepWeightPromotion: 50 } }) },
    { name: 'stepWeightPromotion 20', plan: makePlan({ analysis: { stepWeightPromotion: 20 } }) },
    { name: 'mirror', plan: makePlan({ analysis: { mirror: true } }) },
    { name: 'A/B', plan: ab },
    { name: 'blue/green istio', plan: makePlan({ strategy: 'blue-green', analysis: { iterations: 3 } }) },
    { name: 'blue/green istio mirror', plan: bg },
    { name: 'blue/green kubernetes', plan: k8s },
    { name: 'skipAnalysis', plan: makePlan({ skipAnalysis: true }) },
    { name: 'all hooks open', plan: withHooks },
  ])('$name follows plannedSchedule', ({ plan }) => {
    const run = succeededAt(plan);
    const schedule = plannedSchedule(plan);
    expect(run.trace.map((r) => [r.phase, r.weight, r.mirror, r.iterations])).toEqual(
      schedule.ticks.map((t) => [t.phase, t.canaryWeight, t.mirror, t.iterations]),
    );
    // Checks per tick: metrics on analysis ticks, pre-rollout hooks only on the first one.
    expect(run.requests.map((r) => (r.stage !== 'analysis' ? 'none' : r.metrics ? 'analysis' : 'pre-rollout'))).toEqual(schedule.ticks.map((t) => t.checks));
    expect(run.state.primary.revision).toBe('rev-2');
    expect(run.state.canaryRevision).toBe('rev-2');
    // Every committed state is a valid state file.
    for (const d of run.decisions) expect(parseState(JSON.parse(JSON.stringify(d.state)), 'state.json')).toEqual(d.state);
  });

  it('stepWeight 10 / maxWeight 50: S+PR+3 = 9 ticks', () => {
    const run = succeededAt(makePlan());
    expect(phaseWeights(run)).toEqual([
      ['Progressing', 0],
      ['Progressing', 10],
      ['Progressing', 20],
      ['Progressing', 30],
      ['Progressing', 40],
      ['Progressing', 50],
      ['Promoting', 50],
      ['Finalising', 0],
      ['Succeeded', 0],
    ]);
    expect(run.trace.map((r) => r.action)).toEqual(['start', 'advance', 'advance', 'advance', 'advance', 'advance', 'promote', 'finalise', 'succeed']);
    expect(run.now.getTime() - T0.getTime()).toBe(8 * 60_000);
  });

  it('stepWeights [1,2,10,80] and stepWeight 20 / max 50 weights', () => {
    const weights = (plan: AnalysisPlan) => succeededAt(plan).trace.filter((r) => r.action === 'advance').map((r) => r.weight);
    expect(weights(makePlan({ analysis: { stepWeight: 0, stepWeights: [1, 2, 10, 80] } }))).toEqual([1, 2, 10, 80]);
    expect(weights(makePlan({ analysis: { stepWeight: 20 } }))).toEqual([20, 40, 60]);
  });

  it('stepWeightPromotion 50 from 100', () => {
    const run = succeededAt(makePlan({ analysis: { stepWeight: 100, stepWeightPromotion: 50 } }));
    expect(phaseWeights(run).slice(-5)).toEqual([
      ['Progressing', 100],
      ['Promoting', 100],
      ['Promoting', 50],
      ['Finalising', 0],
      ['Succeeded', 0],
    ]);
  });

  it('A/B keeps routes 0/100 and counts iterations', () => {
    const run = succeededAt(ab);
    expect(run.trace.map((r) => [r.action, r.phase, r.weight, r.iterations])).toEqual([
      ['start', 'Progressing', 0, 0],
      ['iterate', 'Progressing', 100, 1],
      ['iterate', 'Progressing', 100, 2],
      ['iterate', 'Progressing', 100, 3],
      ['promote', 'Promoting', 100, 3],
      ['finalise', 'Finalising', 0, 0],
      ['succeed', 'Succeeded', 0, 0],
    ]);
  });

  it('blue/green asks confirm-promotion on the cutover tick and on the promote tick', () => {
    const plan = { ...bg, webhooks: [hook('promote', 'confirm-promotion')] };
    const run = succeededAt(plan);
    expect(run.trace.map((r) => [r.action, r.weight, r.mirror, r.iterations])).toEqual([
      ['start', 0, false, 0],
      ['iterate', 0, true, 1],
      ['iterate', 0, true, 2],
      ['iterate', 0, true, 3],
      ['cutover', 100, false, 4],
      ['promote', 100, false, 4],
      ['finalise', 0, false, 0],
      ['succeed', 0, false, 0],
    ]);
    expect(run.requests.map((r) => r.webhookTypes.includes('confirm-promotion'))).toEqual([false, false, false, false, true, true, false, false]);
  });

  it('blue/green kubernetes never routes and takes N+5 ticks', () => {
    const run = succeededAt(makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 10 } }));
    expect(run.trace).toHaveLength(10 + 5);
    expect(run.trace.every((r) => r.weight === 0 && !r.mirror)).toBe(true);
  });

  it('mirror: one extra tick mirrored at weight 0', () => {
    const run = succeededAt(makePlan({ analysis: { mirror: true } }));
    expect(run.trace.slice(0, 4).map((r) => [r.action, r.weight, r.mirror])).toEqual([
      ['start', 0, false],
      ['mirror', 0, true],
      ['advance', 10, false],
      ['advance', 20, false],
    ]);
    expect(run.trace).toHaveLength(5 + 1 + 4);
  });

  it('skipAnalysis: start, then Succeeded with the canary promoted', () => {
    const run = succeededAt(makePlan({ skipAnalysis: true }));
    expect(run.trace.map((r) => [r.action, r.phase])).toEqual([
      ['start', 'Progressing'],
      ['skip-promote', 'Succeeded'],
    ]);
    expect(run.requests[1].primaryReadiness).toBe(false);
  });
});

describe('whole runs with failures', () => {
  it('5% errors: threshold failed checks, rollback on the next tick', () => {
    // request-success-rate reads 95 against min 99 once the canary takes traffic.
    const run = runTicks(makePlan(), makeState(), { from: T0, world: () => ({ metric: (m) => (m.name === 'request-success-rate' ? 'fail' : 'pass') }) });
    expect(run.trace.map((r) => [r.action, r.phase, r.weight, r.failedChecks])).toEqual([
      ['start', 'Progressing', 0, 0],
      ['advance', 'Progressing', 10, 0],
      ['hold', 'Progressing', 10, 1],
      ['hold', 'Progressing', 10, 2],
      ['hold', 'Progressing', 10, 3],
      ['hold', 'Progressing', 10, 4],
      ['hold', 'Progressing', 10, 5],
      ['rollback', 'Failed', 0, 0],
    ]);
    expect(run.state.primary.revision).toBe('rev-1');
    expect(run.state.canaryRevision).toBe('rev-2');
    expect(run.decisions[7].events.map((e) => e.message)).toEqual(['Failed checks threshold reached 5', 'Canary analysis failed, Deployment scaled to zero.']);
    // The failed revision does not start again; a new one does.
    expect(tick(makePlan(), run.state, after(run.now, 3600)).decision.action.type).toBe('none');
    expect(tick(withRevision(makePlan(), 'rev-3'), run.state, run.now).decision.action.type).toBe('start');
  });

  it.each([
    { outcome: 'no-data' as const, reason: 'NoMetricData' },
    { outcome: 'error' as const, reason: 'MetricError' },
  ])('$outcome on every check rolls back after the threshold', ({ outcome, reason }) => {
    const run = runTicks(makePlan({ analysis: { threshold: 2 } }), makeState(), { from: T0, world: () => ({ metric: () => outcome }) });
    expect(run.trace.map((r) => r.action)).toEqual(['start', 'advance', 'hold', 'hold', 'rollback']);
    expect(run.decisions[2].events[0].reason).toBe(reason);
  });

  it('failed checks are cumulative: passing ticks do not reset them', () => {
    const run = runTicks(makePlan({ analysis: { threshold: 2 } }), makeState(), {
      from: T0,
      world: (n) => ({ metric: () => (n === 3 || n === 5 ? 'fail' : 'pass') }),
    });
    expect(run.trace.map((r) => [r.action, r.weight, r.failedChecks])).toEqual([
      ['start', 0, 0],
      ['advance', 10, 0],
      ['hold', 10, 1],
      ['advance', 20, 1],
      ['hold', 20, 2],
      ['rollback', 0, 0],
    ]);
  });

  it('a new revision mid-run restarts from weight 0 and promotes the new revision', () => {
    const base = makePlan();
    const run = runTicks((n) => (n >= 5 ? withRevision(base, 'rev-3') : base), makeState(), { from: T0 });
    expect(run.trace.map((r) => [r.action, r.weight])).toEqual([
      ['start', 0],
      ['advance', 10],
      ['advance', 20],
      ['advance', 30],
      ['restart', 0],
      ['advance', 10],
      ['advance', 20],
      ['advance', 30],
      ['advance', 40],
      ['advance', 50],
      ['promote', 50],
      ['finalise', 0],
      ['succeed', 0],
    ]);
    expect(run.state.primary.revision).toBe('rev-3');
  });

  it('confirm gates hold the run without failed checks', () => {
    const closed = new Map<number, string>([
      [1, 'confirm-rollout'],
      [2, 'confirm-rollout'],
      [5, 'confirm-traffic-increase'],
      [10, 'confirm-promotion'],
      [11, 'confirm-promotion'],
    ]);
    const run = runTicks(withHooks, makeState(), {
      from: T0,
      world: (n) => ({ webhook: (h) => (h.type === 'rollback' ? false : closed.get(n) !== h.type) }),
    });
    expect(run.trace.map((r) => [r.action, r.phase, r.weight])).toEqual([
      ['wait', 'Waiting', 0],
      ['none', 'Waiting', 0],
      ['start', 'Progressing', 0],
      ['advance', 'Progressing', 10],
      ['none', 'Progressing', 10],
      ['advance', 'Progressing', 20],
      ['advance', 'Progressing', 30],
      ['advance', 'Progressing', 40],
      ['advance', 'Progressing', 50],
      ['wait', 'WaitingPromotion', 50],
      ['none', 'WaitingPromotion', 50],
      ['promote', 'Promoting', 50],
      ['finalise', 'Finalising', 0],
      ['succeed', 'Succeeded', 0],
    ]);
    expect(run.trace.every((r) => r.failedChecks === 0)).toBe(true);
    expect(run.decisions[9].events[0].message).toBe('Canary promotion is waiting for approval.');
  });

  it('a failed check counted while a traffic gate is closed still rolls back', () => {
    const plan = { ...withHooks, analysis: { ...withHooks.analysis, threshold: 1 } };
    const run = runTicks(plan, runState({ canaryWeight: 20 }), {
      world: (n) => ({ metric: () => (n === 1 ? 'fail' : 'pass'), webhook: (h) => h.type !== 'rollback' && h.type !== 'confirm-traffic-increase' }),
    });
    expect(run.trace.map((r) => r.action)).toEqual(['hold', 'rollback']);
  });

  it('a canary observed unavailable for progressDeadlineSeconds is rolled back (Flagger deployment_ready.go isDeploymentReady)', () => {
    // The observer reports how long kube-state-metrics saw the canary unavailable: 120 s more per tick.
    const run = runTicks(makePlan({ analysis: { intervalSeconds: 120 } }), makeState(), {
      from: T0,
      world: (n) => (n === 1 ? GREEN : { canary: { ready: false, retriable: true, reason: 'waiting for rollout', unavailableForSeconds: Math.min(600, (n - 1) * 120) } }),
    });
    expect(run.trace.map((r) => r.action)).toEqual(['start', 'none', 'none', 'none', 'none', 'rollback']);
    expect(run.decisions[5].action).toMatchObject({ type: 'rollback', reason: 'ProgressDeadlineExceeded' });
    expect(run.state).toMatchObject({ phase: 'Failed', canaryWeight: 0 });
  });

  it('a canary nobody observed for an hour is not rolled back on the next tick', () => {
    const state = runState({ canaryWeight: 20, lastTransitionTime: T0.toISOString() });
    const { decision } = tick(makePlan(), state, after(T0, 3600), { canary: { ready: false, retriable: true, reason: 'waiting for rollout', unavailableForSeconds: 45 } });
    expect(decision.action).toMatchObject({ type: 'none', reason: 'not-ready' });
    expect(decision.state).toEqual(state);
  });
});

describe('session affinity', () => {
  const affinity = makePlan({ analysis: { sessionAffinity: { cookieName: 'canary', primaryCookieName: 'primary', maxAge: 86400 } } });

  it('derives a cookie from namespace, name and revision while the canary takes traffic', () => {
    const { decision } = tick(affinity, runState(), NOW);
    const cookie = decision.state.sessionAffinity?.cookie;
    expect(cookie).toMatch(/^canary=[A-Za-z]{10}$/);
    expect(cookie).toBe(sessionCookie('canary', decision.state));
    expect(decision.state.sessionAffinity?.primaryCookie).toMatch(/^primary=[A-Za-z]{10}$/);
    expect(sessionCookie('canary', { namespace: 'test', name: 'podinfo', canaryRevision: 'rev-3' })).not.toBe(cookie);
    // The cookie stays the same for the whole run.
    expect(tick(affinity, decision.state, after(NOW, 60)).decision.state.sessionAffinity?.cookie).toBe(cookie);
  });

  it('moves the cookie to previousCookie when the weight returns to 0', () => {
    const run = runTicks(affinity, makeState(), { from: T0 });
    const cookie = run.decisions[1].state.sessionAffinity?.cookie;
    expect(cookie).toBeDefined();
    expect(run.state.sessionAffinity).toEqual({ previousCookie: cookie });
  });

  it('leaves states without session affinity alone', () => {
    expect(tick(makePlan(), runState(), NOW).decision.state.sessionAffinity).toBeUndefined();
  });
});

describe('invariants over many runs', () => {
  it('none never changes the state; everything else stamps lastTransitionTime', () => {
    const plans = [makePlan(), withHooks, ab, bg, k8s, makePlan({ analysis: { mirror: true, stepWeightPromotion: 30 } })];
    const seen = new Set<string>();
    for (const plan of plans) {
      const world = (n: number): World =>
        n % 5 === 2 ? { canary: notReady(true) } : { metric: () => (n % 4 === 0 ? 'fail' : 'pass'), webhook: (h) => (h.type === 'rollback' ? false : n % 7 !== 3) };
      const run = runTicks(plan, makeState(), { from: after(T0, 1), world });
      let previous = makeState();
      run.decisions.forEach((d) => {
        seen.add(d.action.type);
        if (d.action.type === 'none') expect(d.state).toEqual(previous);
        else expect(d.state.lastTransitionTime).not.toBe(previous.lastTransitionTime);
        previous = d.state;
      });
    }
    expect(seen).toContain('none');
    expect(seen).toContain('hold');
    expect(seen).toContain('succeed');
  });
});

describe('readiness that could not be observed', () => {
  const unobservable = { ready: false as const, retriable: true, reason: 'Prometheus unreachable', observationError: true };

  it('counts as an errored check during the analysis, weight unchanged', () => {
    const { decision } = tick(makePlan(), runState({ canaryWeight: 20, failedChecks: 1 }), NOW, { canary: unobservable });
    expect(decision.action).toMatchObject({ type: 'hold', reason: 'MetricError' });
    expect(decision.state).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 2 });
  });

  it('rolls back at threshold instead of waiting for readiness it cannot see', () => {
    const plan = makePlan({ analysis: { threshold: 2 } });
    const { decision } = tick(plan, runState({ canaryWeight: 20, failedChecks: 2 }), NOW, { primary: unobservable });
    expect(decision.action).toMatchObject({ type: 'rollback', reason: 'ThresholdReached' });
    expect(decision.state).toMatchObject({ phase: 'Failed', canaryWeight: 0, mirror: false });
  });

  it('an outage through the whole analysis ends Failed at threshold, never waiting forever', () => {
    const plan = makePlan({ analysis: { threshold: 3 } });
    const run = runTicks(plan, runState({ canaryWeight: 10 }), { world: () => ({ canary: unobservable }) });
    expect(run.trace.map((r) => r.action)).toEqual(['hold', 'hold', 'hold', 'rollback']);
    expect(run.state).toMatchObject({ phase: 'Failed', canaryWeight: 0 });
  });

  it.each([
    ['Promoting', 50, 'primary'],
    ['Promoting', 50, 'canary'],
    ['Finalising', 0, 'primary'],
    ['Finalising', 0, 'canary'],
  ] as const)('holds %s (weight %i) when %s readiness is unknown, however long it lasts', (phase, weight, workload) => {
    const state = runState({ phase, canaryWeight: weight, lastTransitionTime: T0.toISOString() });
    for (const seconds of [60, 601, 12 * 60, 24 * 3600]) {
      const { decision } = tick(makePlan(), state, after(T0, seconds), { [workload]: unobservable });
      expect(decision.action).toMatchObject({ type: 'none', reason: 'not-ready' });
      expect(decision.state).toEqual(state);
    }
  });

  it('never fails a promotion even when the unknown readiness claims to be final', () => {
    const state = runState({ phase: 'Promoting', canaryWeight: 50 });
    const { decision } = tick(makePlan(), state, after(T0, 3600), { primary: { ...unobservable, retriable: false, unavailableForSeconds: 3600 } });
    expect(decision.action.type).toBe('none');
  });
});
