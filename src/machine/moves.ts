import { Action } from './action';
import { snapshotOf, StatePatch } from './transitions';
import { AnalysisPlan } from '../model/plan';
import { StageEvent, stageEvent, FLAGGER_MESSAGES } from '../model/reasons';
import { CanaryState } from '../model/state';
import { advancedWeight, effectiveStrategy, maxWeight, nextStep, TOTAL_WEIGHT } from './weights';
import { assertNever } from '../model/never';

/**
 * The strategy loops (reference §3.5): where an all-green analysis tick takes the routes next.
 * Depends on the plan and the state only, so the driver knows up front which gate to call.
 */
export type Move =
  /** Canary strategy cannot advance (no step configured or a non-increasing ladder). */
  | { kind: 'stall' }
  /** Canary strategy with mirror, at weight 0: mirror before the first weight step. */
  | { kind: 'mirror' }
  /** Canary strategy: next weight step (also ends mirroring). */
  | { kind: 'advance'; from: number; to: number }
  /** A/B or blue/green: one more iteration with the given routes. */
  | { kind: 'iterate'; n: number; of: number; canaryWeight: number; mirror: boolean }
  /** Blue/green after the last iteration: all traffic to the canary, one more analysis. */
  | { kind: 'cutover'; canaryWeight: number }
  /** Analysis done: copy the canary to the primary (`weighted`: reached through the canary strategy's weights). */
  | { kind: 'promote'; weighted: boolean };

/** The next move of an analysis tick in phase Progressing or WaitingPromotion. */
export function nextMove(plan: AnalysisPlan, state: CanaryState): Move {
  const { strategy, iterations } = effectiveStrategy(plan);
  const routed = plan.routing.shiftsWeights;
  switch (strategy) {
    case 'canary': {
      const weight = state.canaryWeight;
      if (nextStep(plan.analysis, weight) <= 0) return { kind: 'stall' };
      if (weight >= maxWeight(plan.analysis)) return { kind: 'promote', weighted: true };
      if (plan.analysis.mirror && weight === 0 && !state.mirror) return { kind: 'mirror' };
      const to = advancedWeight(plan.analysis, weight);
      return to > weight ? { kind: 'advance', from: weight, to } : { kind: 'stall' };
    }
    case 'ab-testing':
      if (state.iterations < iterations) {
        return { kind: 'iterate', n: state.iterations + 1, of: iterations, canaryWeight: TOTAL_WEIGHT, mirror: false };
      }
      return { kind: 'promote', weighted: false };
    case 'blue-green':
      if (state.iterations < iterations) {
        return { kind: 'iterate', n: state.iterations + 1, of: iterations, canaryWeight: 0, mirror: routed && plan.analysis.mirror };
      }
      if (state.iterations === iterations) return { kind: 'cutover', canaryWeight: routed ? TOTAL_WEIGHT : 0 };
      return { kind: 'promote', weighted: false };
    default:
      return assertNever(strategy, 'move');
  }
}

/**
 * The confirm gates asked before a move, in call order (scheduler.go advanceCanary / runCanary).
 * Canary strategy: confirm-traffic-increase is called whenever the next step weight is above 0 in
 * phase Progressing and the route is not mirrored, so it also guards the tick that promotes at
 * maxWeight, before confirm-promotion. A/B and blue/green never ask it; confirm-promotion guards
 * the blue/green cutover and every promotion.
 */
export type Gate = 'confirm-traffic-increase' | 'confirm-promotion';

export function gatesFor(state: CanaryState, move: Move): Gate[] {
  const trafficIncrease: Gate[] = state.phase === 'Progressing' && !state.mirror ? ['confirm-traffic-increase'] : [];
  switch (move.kind) {
    case 'mirror':
    case 'advance':
      return trafficIncrease;
    case 'promote':
      return move.weighted ? [...trafficIncrease, 'confirm-promotion'] : ['confirm-promotion'];
    case 'cutover':
      return ['confirm-promotion'];
    case 'stall':
    case 'iterate':
      return [];
    default:
      return assertNever(move, 'move');
  }
}

/** A move turned into an action, a state patch and its events. */
export interface MoveOutcome {
  action: Action;
  patch: StatePatch;
  events: StageEvent[];
}

/** Applies a move whose gate (if any) is open. `stall` yields no patch: nothing changes. */
export function applyMove(plan: AnalysisPlan, state: CanaryState, move: Move): MoveOutcome {
  switch (move.kind) {
    case 'stall':
      return {
        action: { type: 'none', reason: 'no-weight-step', message: 'analysis passed but the weight settings cannot advance the canary' },
        patch: {},
        events: [],
      };
    case 'mirror':
      return {
        action: { type: 'mirror' },
        patch: { mirror: true },
        events: [stageEvent('MirrorStarted', 'Mirroring traffic to the canary before shifting weight (routes 100/0).')],
      };
    case 'advance':
      return {
        action: { type: 'advance', from: move.from, to: move.to },
        patch: { canaryWeight: move.to, mirror: false },
        events: [stageEvent('WeightIncreased', `Canary weight increased from ${move.from} to ${move.to}.`)],
      };
    case 'iterate':
      return {
        action: { type: 'iterate', n: move.n, of: move.of },
        patch: { iterations: move.n, canaryWeight: move.canaryWeight, mirror: move.mirror },
        events: [stageEvent('IterationAdvanced', `Canary iteration ${move.n}/${move.of} started.`)],
      };
    case 'cutover':
      return {
        action: { type: 'cutover' },
        patch: { iterations: state.iterations + 1, canaryWeight: move.canaryWeight, mirror: false },
        events: [stageEvent('TrafficSwitched', 'Routing all traffic to the canary before promotion.')],
      };
    case 'promote':
      return {
        action: { type: 'promote', revision: plan.canary.revision },
        patch: { phase: 'Promoting', primary: snapshotOf(plan.canary) },
        events: [stageEvent('Promoted', FLAGGER_MESSAGES.promoting)],
      };
    default:
      return assertNever(move, 'move');
  }
}
