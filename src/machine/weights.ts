import { routingOf } from '../model/providers';
import { Phase } from '../model/phase';
import { AnalysisPlan, AnalysisSettings, Strategy } from '../model/plan';
import { assertNever } from '../model/never';

/**
 * Pure traffic arithmetic (reference §3.4–§3.6, §3.11): weights come from the analysis settings
 * and the current weight only, never from the clock or the cluster.
 */

/** Weights are percentages: primary + canary = 100. */
export const TOTAL_WEIGHT = 100;

/** Weight at or above which the canary strategy stops increasing and asks to promote. */
export function maxWeight(analysis: AnalysisSettings): number {
  const ladder = analysis.stepWeights;
  if (ladder.length > 0) return Math.min(TOTAL_WEIGHT, ladder[ladder.length - 1]);
  return analysis.maxWeight > 0 ? analysis.maxWeight : TOTAL_WEIGHT;
}

/**
 * Size of the next weight step from canary weight `current`. `stepWeight` wins over `stepWeights`.
 * A result <= 0 means the settings cannot advance (no step configured, or a ladder that does not
 * increase).
 */
export function nextStep(analysis: AnalysisSettings, current: number): number {
  const ladder = analysis.stepWeights;
  if (analysis.stepWeight > 0 || ladder.length === 0) return analysis.stepWeight;
  if (current === TOTAL_WEIGHT) return 1;
  if (current === 0) return Math.min(TOTAL_WEIGHT - current, ladder[0]);
  const i = ladder.indexOf(current);
  if (i >= 0 && i < ladder.length - 1) return Math.min(TOTAL_WEIGHT - current, ladder[i + 1] - current);
  return TOTAL_WEIGHT - current;
}

/** Canary weight after one advance from `current`; not clamped to maxWeight (Flagger §3.4). */
export function advancedWeight(analysis: AnalysisSettings, current: number): number {
  return Math.min(TOTAL_WEIGHT, current + nextStep(analysis, current));
}

/**
 * Every canary weight of a run, from the first step to the one at or above maxWeight.
 * Empty when the settings cannot advance.
 */
export function weightLadder(analysis: AnalysisSettings): number[] {
  const max = maxWeight(analysis);
  const ladder: number[] = [];
  let weight = 0;
  while (weight < max) {
    if (nextStep(analysis, weight) <= 0) return [];
    weight = advancedWeight(analysis, weight);
    ladder.push(weight);
  }
  return ladder;
}

/** The strategy a plan actually runs, after Flagger's provider-kubernetes override. */
export interface EffectiveStrategy {
  strategy: Strategy;
  /** Iterations for A/B and blue/green; 0 for the canary strategy. */
  iterations: number;
}

/** A provider that cannot shift weights always runs blue/green, with its forced iterations. */
export function effectiveStrategy(plan: AnalysisPlan): EffectiveStrategy {
  const forced = routingOf(plan).forcedBlueGreenIterations;
  if (forced !== undefined) {
    const n = plan.analysis.iterations;
    return { strategy: 'blue-green', iterations: n >= 1 ? n : forced };
  }
  return { strategy: plan.strategy, iterations: plan.strategy === 'canary' ? 0 : plan.analysis.iterations };
}

/** Canary weight after one Promoting tick from `current`; 0 means the tick enters Finalising. */
export function promotionStepWeight(plan: AnalysisPlan, current: number): number {
  const step = plan.analysis.stepWeightPromotion;
  if (!routingOf(plan).promotionSteps || step <= 0) return 0;
  return Math.max(0, current - step);
}

/** Canary weights after each Promoting tick starting from `from`; the last one is always 0. */
export function promotionLadder(plan: AnalysisPlan, from: number): number[] {
  const ladder: number[] = [];
  let weight = from;
  do {
    weight = promotionStepWeight(plan, weight);
    ladder.push(weight);
  } while (weight > 0);
  return ladder;
}

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

/** Derives the all-green schedule of a plan from the arithmetic alone (reference §3.5, §3.11). */
export function plannedSchedule(plan: AnalysisPlan): PlannedSchedule {
  const { strategy, iterations } = effectiveStrategy(plan);
  const ticks: PlannedTick[] = [];
  let last: Omit<PlannedTick, 'tick' | 'checks'> = { phase: 'Progressing', canaryWeight: 0, mirror: false, iterations: 0 };
  const push = (checks: PlannedTick['checks'], next: Partial<typeof last>): void => {
    last = { ...last, ...next };
    ticks.push({ tick: ticks.length + 1, checks, ...last });
  };
  push('none', {});
  const weights = strategy === 'canary' && !plan.skipAnalysis ? weightLadder(plan.analysis) : [];
  const reachesPromotion = plan.skipAnalysis || strategy !== 'canary' || weights.length > 0;
  let promotionWeights: number[] = [];
  if (plan.skipAnalysis) {
    push('none', { phase: 'Succeeded' });
  } else if (reachesPromotion) {
    analysisTicks(plan, strategy, iterations, weights, push);
    push('analysis', { phase: 'Promoting' });
    promotionWeights = promotionLadder(plan, last.canaryWeight);
    for (const w of promotionWeights) {
      push('none', w > 0 ? { canaryWeight: w } : { phase: 'Finalising', canaryWeight: 0, iterations: 0, mirror: false });
    }
    push('none', { phase: 'Succeeded' });
  } else {
    push('pre-rollout', {});
  }
  return {
    strategy,
    iterations,
    maxWeight: maxWeight(plan.analysis),
    weights,
    promotionWeights,
    ticks,
    reachesPromotion,
    tickCount: ticks.length,
    metricAnalyses: ticks.filter((t) => t.checks === 'analysis').length,
    intervalSeconds: plan.analysis.intervalSeconds,
    minDurationSeconds: (ticks.length - 1) * plan.analysis.intervalSeconds,
  };
}

type Push = (checks: PlannedTick['checks'], next: Partial<Omit<PlannedTick, 'tick' | 'checks'>>) => void;

/** Ticks from the first analysis tick up to (excluding) the tick that promotes. */
function analysisTicks(plan: AnalysisPlan, strategy: Strategy, iterations: number, weights: number[], push: Push): void {
  const routed = routingOf(plan).shiftsWeights;
  switch (strategy) {
    case 'canary': {
      let checks: PlannedTick['checks'] = 'pre-rollout';
      if (plan.analysis.mirror) {
        push(checks, { mirror: true });
        checks = 'analysis';
      }
      for (const w of weights) {
        push(checks, { canaryWeight: w, mirror: false });
        checks = 'analysis';
      }
      return;
    }
    case 'ab-testing':
      for (let n = 1; n <= iterations; n++) push(n === 1 ? 'pre-rollout' : 'analysis', { canaryWeight: TOTAL_WEIGHT, iterations: n });
      return;
    case 'blue-green': {
      const mirror = routed && plan.analysis.mirror;
      for (let n = 1; n <= iterations; n++) push(n === 1 ? 'pre-rollout' : 'analysis', { mirror, iterations: n });
      push('analysis', { canaryWeight: routed ? TOTAL_WEIGHT : 0, mirror: false, iterations: iterations + 1 });
      return;
    }
    default:
      return assertNever(strategy);
  }
}
