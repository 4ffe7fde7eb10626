import { describe, expect, it } from 'vitest';
import { shownIterations } from '../src/stages/status';
import { makePlan, runState } from './support/plans';

// pkg/canary/status.go setStatusPhase: WaitingPromotion shows analysis.iterations - 1.
describe('shownIterations (status.go setStatusPhase)', () => {
  it('canary strategy in WaitingPromotion shows -1, as Flagger; the state keeps 0', () => {
    const state = runState({ phase: 'WaitingPromotion', canaryWeight: 50 });
    expect(state.iterations).toBe(0);
    expect(shownIterations(makePlan(), state)).toBe(-1);
  });

  it('every other phase, and A/B or blue/green WaitingPromotion, shows the stored count', () => {
    expect(shownIterations(makePlan(), runState({ canaryWeight: 20 }))).toBe(0);
    const ab = makePlan({ strategy: 'ab-testing', analysis: { iterations: 5, hasMatch: true, stepWeight: 0 } });
    expect(shownIterations(ab, runState({ phase: 'WaitingPromotion', canaryWeight: 100, iterations: 4 }))).toBe(4);
    expect(shownIterations(ab, runState({ canaryWeight: 100, iterations: 3 }))).toBe(3);
  });
});
