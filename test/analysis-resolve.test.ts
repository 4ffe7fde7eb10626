import { describe, expect, it } from 'vitest';
import { resolveAnalysis } from '../src/constructs/analysis';

// Flagger pkg/controller/scheduler.go advanceCanary: with provider kubernetes the canary runs
// blue/green ("Analysis with provider kubernetes ... using blue/green"), 10 iterations when none are
// set. canarykit resolves it once, at synth, from the provider module's capabilities; the machine
// reads the plan's strategy and iterations (issue 9: one owner per rule).
describe('resolveAnalysis: the strategy and iterations every reader takes from the plan', () => {
  it.each([
    { provider: 'kubernetes', opts: { interval: undefined }, strategy: 'blue-green', iterations: 10 },
    { provider: 'kubernetes', opts: { iterations: 3 }, strategy: 'blue-green', iterations: 3 },
    { provider: 'istio', opts: { stepWeight: 10 }, strategy: 'canary', iterations: 0 },
    { provider: 'istio', opts: { iterations: 4 }, strategy: 'blue-green', iterations: 4 },
    { provider: 'istio', opts: { iterations: 4, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, strategy: 'ab-testing', iterations: 4 },
    { provider: 'nginx', opts: { stepWeight: 10 }, strategy: 'canary', iterations: 0 },
  ] as const)('$provider $opts -> $strategy x$iterations', ({ provider, opts, strategy, iterations }) => {
    const { resolved, problems } = resolveAnalysis(opts as never, provider, false);
    expect(problems).toEqual([]);
    expect(resolved.strategy).toBe(strategy);
    expect(resolved.settings.iterations).toBe(iterations);
  });

  // src: pkg/controller/scheduler.go advanceCanary ("Progressive traffic is not supported when using
  // the kubernetes provider", "Setting canaryAnalysis.iterations: 10"): Flagger warns and runs blue/green.
  it('provider kubernetes with stepWeight runs blue/green x10 with a warning (scheduler.go advanceCanary)', () => {
    const { resolved, problems, warnings } = resolveAnalysis({ stepWeight: 10, maxWeight: 50 }, 'kubernetes', false);
    expect(problems).toEqual([]);
    expect(resolved.strategy).toBe('blue-green');
    expect(resolved.settings.iterations).toBe(10);
    expect(resolved.settings.stepWeight).toBe(0);
    expect(resolved.settings.maxWeight).toBe(50);
    expect(warnings).toEqual([{ path: 'analysis.stepWeight', message: 'provider kubernetes shifts no traffic: Flagger runs blue/green with iterations: 10 instead, and so does canarykit (set iterations instead of stepWeight to silence this)' }]);
  });
});
