import { describe, expect, it } from 'vitest';
import {
  advancedWeight,
  effectiveStrategy,
  maxWeight,
  nextStep,
  promotionLadder,
  weightLadder,
} from '../src/machine/weights';
import { plannedSchedule } from '../src/machine/schedule';
import { AnalysisSettings } from '../src/model/plan';
import { makePlan } from './support/plans';

const analysis = (settings: Partial<AnalysisSettings>): AnalysisSettings => makePlan({ analysis: settings }).analysis;

describe('maxWeight', () => {
  it.each([
    { settings: { maxWeight: 50, stepWeight: 10 }, expected: 50 },
    { settings: { maxWeight: 0, stepWeight: 10 }, expected: 100 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, expected: 80 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 200] }, expected: 100 },
    { settings: { maxWeight: 30, stepWeight: 0, stepWeights: [5, 60] }, expected: 60 },
  ])('$settings -> $expected', ({ settings, expected }) => {
    expect(maxWeight(analysis(settings))).toBe(expected);
  });
});

describe('nextStep', () => {
  it.each([
    { settings: { stepWeight: 10 }, current: 0, expected: 10 },
    { settings: { stepWeight: 10 }, current: 90, expected: 10 },
    { settings: { stepWeight: 0 }, current: 0, expected: 0 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 0, expected: 1 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 1, expected: 1 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 2, expected: 8 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 10, expected: 70 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 80, expected: 20 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 200] }, current: 10, expected: 90 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 5, expected: 95 },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, current: 100, expected: 1 },
    { settings: { stepWeight: 0, stepWeights: [150] }, current: 0, expected: 100 },
  ])('$settings at $current -> $expected', ({ settings, current, expected }) => {
    expect(nextStep(analysis(settings), current)).toBe(expected);
  });

  it('never takes the canary above 100', () => {
    expect(advancedWeight(analysis({ stepWeight: 30, maxWeight: 100 }), 90)).toBe(100);
  });
});

describe('weightLadder', () => {
  it.each([
    { settings: { stepWeight: 10, maxWeight: 50 }, expected: [10, 20, 30, 40, 50] },
    { settings: { stepWeight: 20, maxWeight: 50 }, expected: [20, 40, 60] },
    { settings: { stepWeight: 30, maxWeight: 100 }, expected: [30, 60, 90, 100] },
    { settings: { stepWeight: 100, maxWeight: 50 }, expected: [100] },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 80] }, expected: [1, 2, 10, 80] },
    { settings: { stepWeight: 0, stepWeights: [1, 2, 10, 200] }, expected: [1, 2, 10, 100] },
    { settings: { stepWeight: 0, stepWeights: [] }, expected: [] },
    { settings: { stepWeight: 0, stepWeights: [20, 10, 50] }, expected: [] },
  ])('$settings -> $expected', ({ settings, expected }) => {
    expect(weightLadder(analysis(settings))).toEqual(expected);
  });
});

describe('effectiveStrategy', () => {
  it.each([
    { plan: makePlan(), expected: { strategy: 'canary', iterations: 0 } },
    { plan: makePlan({ strategy: 'ab-testing', analysis: { iterations: 4, hasMatch: true } }), expected: { strategy: 'ab-testing', iterations: 4 } },
    { plan: makePlan({ strategy: 'blue-green', analysis: { iterations: 3 } }), expected: { strategy: 'blue-green', iterations: 3 } },
    // Provider kubernetes' forced blue/green is resolved by the construct (test/analysis-resolve.test.ts).
    { plan: makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 10 } }), expected: { strategy: 'blue-green', iterations: 10 } },
  ])('$plan.provider $plan.strategy -> $expected.strategy x$expected.iterations', ({ plan, expected }) => {
    expect(effectiveStrategy(plan)).toEqual(expected);
  });
});

describe('promotionLadder', () => {
  it.each([
    { overrides: {}, from: 50, expected: [0] },
    { overrides: { analysis: { stepWeightPromotion: 50 } }, from: 100, expected: [50, 0] },
    { overrides: { analysis: { stepWeightPromotion: 20 } }, from: 50, expected: [30, 10, 0] },
    { overrides: { analysis: { stepWeightPromotion: 60 } }, from: 50, expected: [0] },
    { overrides: { analysis: { stepWeightPromotion: 20 } }, from: 0, expected: [0] },
    { overrides: { provider: 'kubernetes' as const, analysis: { stepWeightPromotion: 20 } }, from: 100, expected: [0] },
  ])('$overrides from $from -> $expected', ({ overrides, from, expected }) => {
    expect(promotionLadder(makePlan(overrides), from)).toEqual(expected);
  });
});

describe('plannedSchedule', () => {
  // Tick counts of reference §3.11, counting the detection tick: S weight steps, PR promotion ticks, N iterations.
  it.each([
    { name: 'canary 10..50', plan: makePlan(), ticks: 5 + 1 + 3, analyses: 5 },
    { name: 'canary 20..60', plan: makePlan({ analysis: { stepWeight: 20 } }), ticks: 3 + 1 + 3, analyses: 3 },
    { name: 'stepWeights', plan: makePlan({ analysis: { stepWeight: 0, stepWeights: [1, 2, 10, 80] } }), ticks: 4 + 1 + 3, analyses: 4 },
    { name: 'stepWeightPromotion 20', plan: makePlan({ analysis: { stepWeightPromotion: 20 } }), ticks: 5 + 3 + 3, analyses: 5 },
    { name: 'canary + mirror', plan: makePlan({ analysis: { mirror: true } }), ticks: 5 + 1 + 4, analyses: 6 },
    { name: 'A/B x4', plan: makePlan({ strategy: 'ab-testing', analysis: { iterations: 4, hasMatch: true, stepWeightPromotion: 30 } }), ticks: 4 + 4 + 3, analyses: 4 },
    { name: 'blue/green x3', plan: makePlan({ strategy: 'blue-green', analysis: { iterations: 3 } }), ticks: 3 + 1 + 4, analyses: 4 },
    { name: 'blue/green kubernetes x3', plan: makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 3, stepWeightPromotion: 50 } }), ticks: 3 + 5, analyses: 4 },
    { name: 'skipAnalysis', plan: makePlan({ skipAnalysis: true }), ticks: 2, analyses: 0 },
  ])('$name: $ticks ticks, $analyses analyses', ({ plan, ticks, analyses }) => {
    const schedule = plannedSchedule(plan);
    expect(schedule.tickCount).toBe(ticks);
    expect(schedule.ticks).toHaveLength(ticks);
    expect(schedule.metricAnalyses).toBe(analyses);
    expect(schedule.ticks[0]).toMatchObject({ tick: 1, phase: 'Progressing', canaryWeight: 0, checks: 'none' });
    expect(schedule.ticks[ticks - 1]).toMatchObject({ phase: 'Succeeded', canaryWeight: 0, iterations: 0 });
  });

  it('lists every step of interval 1m, stepWeight 10, maxWeight 50 and takes 8 minutes after detection', () => {
    const schedule = plannedSchedule(makePlan());
    expect(schedule.ticks.map((t) => [t.phase, t.canaryWeight, t.checks])).toEqual([
      ['Progressing', 0, 'none'],
      ['Progressing', 10, 'pre-rollout'],
      ['Progressing', 20, 'analysis'],
      ['Progressing', 30, 'analysis'],
      ['Progressing', 40, 'analysis'],
      ['Progressing', 50, 'analysis'],
      ['Promoting', 50, 'analysis'],
      ['Finalising', 0, 'none'],
      ['Succeeded', 0, 'none'],
    ]);
    expect(schedule.weights).toEqual([10, 20, 30, 40, 50]);
    expect(schedule.promotionWeights).toEqual([0]);
    expect(schedule.minDurationSeconds).toBe(480);
  });

  it('blue/green with istio mirror mirrors every iteration, then routes all traffic to the canary', () => {
    const schedule = plannedSchedule(makePlan({ strategy: 'blue-green', analysis: { iterations: 2, mirror: true } }));
    expect(schedule.ticks.map((t) => [t.phase, t.canaryWeight, t.mirror, t.iterations])).toEqual([
      ['Progressing', 0, false, 0],
      ['Progressing', 0, true, 1],
      ['Progressing', 0, true, 2],
      ['Progressing', 100, false, 3],
      ['Promoting', 100, false, 3],
      ['Finalising', 0, false, 0],
      ['Succeeded', 0, false, 0],
    ]);
  });

  it('reports a canary that can never promote', () => {
    const schedule = plannedSchedule(makePlan({ analysis: { stepWeight: 0, stepWeights: [] } }));
    expect(schedule.reachesPromotion).toBe(false);
    expect(schedule.ticks.map((t) => t.phase)).toEqual(['Progressing', 'Progressing']);
  });
});
