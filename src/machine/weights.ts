import { AnalysisPlan, AnalysisSettings, Strategy } from '../model/plan';

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

/** The strategy a plan runs (resolved at synth, constructs/analysis.ts) and its iteration count. */
export interface EffectiveStrategy {
  strategy: Strategy;
  /** Iterations for A/B and blue/green; 0 for the canary strategy. */
  iterations: number;
}

/** Iterations count for A/B and blue/green only; the canary strategy counts steps. */
export function effectiveStrategy(plan: AnalysisPlan): EffectiveStrategy {
  return { strategy: plan.strategy, iterations: plan.strategy === 'canary' ? 0 : plan.analysis.iterations };
}

/** Canary weight after one Promoting tick from `current`; 0 means the tick enters Finalising. */
export function promotionStepWeight(plan: AnalysisPlan, current: number): number {
  const step = plan.analysis.stepWeightPromotion;
  if (!plan.routing.promotionSteps || step <= 0) return 0;
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
