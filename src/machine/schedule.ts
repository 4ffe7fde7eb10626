import { AnalysisPlan, Strategy } from '../model/plan';
import { Observations, ObservationStep, emptyObservations } from '../model/observations';
import { Phase } from '../model/phase';
import { CanaryState } from '../model/state';
import { assertNever } from '../model/never';
import { decide } from './decide';
import { endsTick, isFirstAnalysisTick, observationsNeeded } from './tick';
import { firstState } from './transitions';
import { effectiveStrategy, maxWeight } from './weights';

/** State after one tick of an all-green run. */
export interface PlannedTick {
  /** 1-based, counted from the tick that detects the new revision. */
  tick: number;
  phase: Phase;
  canaryWeight: number;
  mirror: boolean;
  iterations: number;
  /** Checks this tick runs before moving: none, pre-rollout hooks, or rollout hooks + metrics. */
  checks: 'none' | 'pre-rollout' | 'analysis';
}

/** What `canarykit plan NS/NAME` shows: every step of an all-green run and how long it takes. */
export interface PlannedSchedule {
  strategy: Strategy;
  /** Iterations run (0 for the canary strategy). */
  iterations: number;
  maxWeight: number;
  /** Canary weights of the analysis (canary strategy only). */
  weights: number[];
  /** Canary weights after each Promoting tick (last = 0, entering Finalising). */
  promotionWeights: number[];
  ticks: PlannedTick[];
  /** False when the weights cannot advance, so the run would never promote. */
  reachesPromotion: boolean;
  /** Ticks from detection to Succeeded, inclusive (reference §3.11). */
  tickCount: number;
  /** Ticks that run rollout hooks and metrics. */
  metricAnalyses: number;
  intervalSeconds: number;
  /** (tickCount - 1) x interval: excludes readiness waits and the cron's minute granularity. */
  minDurationSeconds: number;
}

/** More ticks than any valid plan's run (10,000 iterations are allowed, plus the phases around). */
const MAX_TICKS = 10_100;

/**
 * The all-green schedule of a plan, by running the real machine: from a rest state with the new
 * revision pending, one tick per interval, every requested observation passing (gates open, no
 * rollback asked), until the run succeeds or a tick changes nothing (a run that cannot advance).
 */
export function plannedSchedule(plan: AnalysisPlan): PlannedSchedule {
  const interval = plan.analysis.intervalSeconds;
  const start = new Date(0);
  // At rest on a previous revision, so the first tick detects the plan's revision.
  const previous = `${plan.canary.revision}-previous`;
  const initial = firstState(plan.namespace, plan.name, plan.canary, start);
  let state: CanaryState = { ...initial, phase: 'Succeeded', canaryRevision: previous, primary: { ...initial.primary, revision: previous } };
  let now = new Date(start.getTime() + interval * 1000);
  const ticks: PlannedTick[] = [];
  const actions: string[] = [];
  while (ticks.length < MAX_TICKS) {
    const request = observationsNeeded(plan, state, now);
    const observations = request.dueNow ? greenObservations(request.steps) : emptyObservations();
    const decision = decide(plan, state, observations, now);
    const next = decision.state;
    // The first analysis tick runs the pre-rollout hooks; later ones the rollout hooks and metrics.
    const checks: PlannedTick['checks'] = request.stage !== 'analysis' ? 'none' : isFirstAnalysisTick(plan, state) ? 'pre-rollout' : 'analysis';
    ticks.push({ tick: ticks.length + 1, checks, phase: next.phase, canaryWeight: next.canaryWeight, mirror: next.mirror, iterations: next.iterations });
    actions.push(decision.action.type);
    const unchanged = next.phase === state.phase && next.canaryWeight === state.canaryWeight && next.mirror === state.mirror && next.iterations === state.iterations;
    state = next;
    if (state.phase === 'Succeeded' || state.phase === 'Failed' || unchanged) break;
    now = new Date(now.getTime() + interval * 1000);
  }
  const { strategy, iterations } = effectiveStrategy(plan);
  const promoted = actions.indexOf('promote');
  return {
    strategy,
    iterations,
    maxWeight: maxWeight(plan.analysis),
    weights: strategy === 'canary' ? ticks.filter((_, i) => actions[i] === 'advance').map((t) => t.canaryWeight) : [],
    promotionWeights: promoted < 0 ? [] : ticks.slice(promoted + 1).filter((t) => t.phase === 'Promoting' || t.phase === 'Finalising').map((t) => t.canaryWeight),
    ticks,
    reachesPromotion: state.phase === 'Succeeded',
    tickCount: ticks.length,
    metricAnalyses: ticks.filter((t) => t.checks === 'analysis').length,
    intervalSeconds: interval,
    minDurationSeconds: (ticks.length - 1) * interval,
  };
}

/** Every requested step passing, in order, stopping where the driver would (endsTick). */
function greenObservations(steps: readonly ObservationStep[]): Observations {
  const obs = emptyObservations();
  for (const step of steps) {
    switch (step.kind) {
      case 'readiness':
        obs[step.workload] = { ready: true };
        break;
      case 'providers':
        obs.providers = { available: true };
        break;
      case 'route':
        obs.route = { accepted: true };
        break;
      case 'webhook': {
        // A rollback hook that answers OK asks for a rollback: green means it declines.
        const ok = step.webhook.type !== 'rollback';
        obs.webhooks.push({ name: step.webhook.name, type: step.webhook.type, ok, message: ok ? 'OK' : 'no rollback' });
        break;
      }
      case 'metric':
        obs.metrics.push({ metric: step.metric.name, outcome: 'pass', message: `${step.metric.name} pass` });
        break;
      default:
        return assertNever(step, 'observation step');
    }
    if (endsTick(steps, obs)) break;
  }
  return obs;
}
