import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors';
import { runTicks } from './support/plans';
import { AnalysisPlan } from '../src/model/plan';
import { CanaryState, parseState } from '../src/model/state';
import { checkStateAgainstPlan } from '../src/machine/state-plan';
import { runCli } from './support/cli';
import { appJson } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { at } from './support/prometheus-server';
import { hook, makePlan, makeState, runState } from './support/plans';

/*
 * A hand-edited state the stage machine never produces is an input error (exit 2) naming the file
 * and the field, before anything is observed or written. Otherwise the machine would act on it:
 * weight 90 with maxWeight 50 is "at or above maxWeight", so Flagger's rule (scheduler.go,
 * advanceCanary: promote when canaryWeight >= maxWeight) would promote at 90%.
 */

const FILE = 'state/test/podinfo.json';
const ab = makePlan({ strategy: 'ab-testing', analysis: { iterations: 3, hasMatch: true } });
const bg = makePlan({ strategy: 'blue-green', analysis: { iterations: 3 } });
const k8s = makePlan({ provider: 'kubernetes', strategy: 'blue-green', analysis: { iterations: 3 } });
const ladder = makePlan({ analysis: { stepWeight: 0, stepWeights: [5, 25, 60] } });

function problems(plan: AnalysisPlan, state: CanaryState): string[] {
  try {
    checkStateAgainstPlan(state, plan, FILE);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('checkStateAgainstPlan', () => {
  it.each<[string, AnalysisPlan, Partial<CanaryState>, RegExp]>([
    ['weight above maxWeight', makePlan(), { canaryWeight: 90 }, /#\/canaryWeight: 90 is above the plan's highest step 50 \(maxWeight 50\)/],
    ['weight above maxWeight while Promoting', makePlan(), { phase: 'Promoting', canaryWeight: 60 }, /#\/canaryWeight: 60 is above/],
    ['weight above the last ladder step', ladder, { canaryWeight: 70 }, /#\/canaryWeight: 70 is above the plan's highest step 60/],
    ['iterations with the canary strategy', makePlan(), { iterations: 2 }, /#\/iterations: must be 0 with the canary strategy \(got 2\)/],
    ['A/B weight between 0 and 100', ab, { canaryWeight: 40, iterations: 1 }, /#\/canaryWeight: must be 0 or 100 with the ab-testing strategy/],
    ['A/B iterations above the plan', ab, { canaryWeight: 100, iterations: 4 }, /#\/iterations: 4 is above the plan's 3/],
    ['blue/green iterations above cutover', bg, { iterations: 5 }, /#\/iterations: 5 is above the plan's 4/],
    ['provider kubernetes never routes by weight', k8s, { canaryWeight: 100, iterations: 4 }, /#\/canaryWeight: must be 0 with the blue-green strategy on kubernetes/],
    ['mirror without analysis.mirror', makePlan(), { mirror: true }, /#\/mirror: is true but the plan does not mirror traffic/],
  ])('%s is refused, naming the file and field', (_, plan, patch, message) => {
    const found = problems(plan, runState(patch));
    expect(found.join('\n')).toMatch(message);
    expect(found.every((p) => p.startsWith(`${FILE}#/`))).toBe(true);
    expect(found.join('\n')).toMatch(/run canarykit rollback test\/podinfo/);
  });

  it.each<[string, AnalysisPlan, Partial<CanaryState>]>([
    ['the top step (stepWeight not clamped: 20, 40, 60 with maxWeight 50)', makePlan({ analysis: { stepWeight: 20 } }), { canaryWeight: 60 }],
    ['A/B mid-run', ab, { canaryWeight: 100, iterations: 3 }],
    ['blue/green cutover', bg, { canaryWeight: 100, iterations: 4, phase: 'Promoting' }],
    ['mirroring when the plan mirrors', makePlan({ analysis: { mirror: true } }), { mirror: true }],
  ])('accepts %s', (_, plan, patch) => {
    expect(problems(plan, runState(patch))).toEqual([]);
  });

  it('accepts the states of runs whose confirm-promotion gate stays closed for a while', () => {
    const gated = (plan: AnalysisPlan) => ({ ...plan, webhooks: [hook('approve', 'confirm-promotion')] });
    for (const plan of [gated(ab), gated(bg), gated(k8s), gated(makePlan())]) {
      const run = runTicks(plan, makeState(), { world: (n) => ({ webhook: (h) => (h.type === 'confirm-promotion' ? n > 12 : h.type !== 'rollback') }) });
      expect(run.state.phase).toBe('Succeeded');
      expect(run.trace.some((r) => r.phase === 'WaitingPromotion')).toBe(true);
      for (const d of run.decisions) expect(problems(plan, d.state)).toEqual([]);
    }
  });

  it('accepts every state the machine produces over whole runs', () => {
    const plans = [makePlan(), ab, bg, k8s, ladder, makePlan({ analysis: { mirror: true, stepWeightPromotion: 20 } }), makePlan({ webhooks: [hook('p', 'confirm-promotion')] })];
    for (const plan of plans) {
      const run = runTicks(plan, makeState());
      expect(run.state.phase).toBe('Succeeded');
      for (const d of run.decisions) {
        expect(problems(plan, d.state)).toEqual([]);
        expect(() => parseState(JSON.parse(JSON.stringify(d.state)), FILE)).not.toThrow();
      }
    }
  });
});

describe('parseState: combinations no plan produces', () => {
  it.each<[Partial<CanaryState>, RegExp]>([
    [{ phase: 'Failed', canaryWeight: 100 }, /#\/canaryWeight: must be 0 in phase Failed \(got 100\)/],
    [{ phase: 'Succeeded', canaryWeight: 30 }, /#\/canaryWeight: must be 0 in phase Succeeded/],
    [{ phase: 'Finalising', canaryWeight: 10 }, /#\/canaryWeight: must be 0 in phase Finalising/],
    [{ phase: 'Waiting', canaryWeight: 10 }, /#\/canaryWeight: must be 0 in phase Waiting/],
    [{ phase: 'Initialized', mirror: true }, /#\/mirror: must be false in phase Initialized/],
  ])('%o is refused', (patch, message) => {
    expect(() => parseState(makeState(patch), FILE)).toThrow(message);
  });
});

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

describe('canarykit step with a hand-edited state', () => {
  let fx: GitFixture;
  let repo: string;
  let human: string;
  beforeAll(async () => {
    fx = createGitFixture({ 'app.json': appJson({ canaries: [{ namespace: 'edited', image: 'podinfo:1.0.0' }] }) });
    repo = fx.clone('driver');
    // No Prometheus is needed: the tick must stop before it observes anything.
    writeFileSync(join(repo, 'canarykit.yaml'), `synth: ${TSX} ${join(ROOT, 'test/support/synth-repo-cli.ts')} http://127.0.0.1:9\n`);
    git(repo, ['add', 'canarykit.yaml']);
    git(repo, ['commit', '-qm', 'configure canarykit']);
    git(repo, ['push', '-q', 'origin', 'HEAD:main']);
    const r = await runCli(['step', '--repo', repo], at(60));
    expect(r.code).toBe(0);
    human = fx.clone('human');
  }, 120_000);
  afterAll(() => fx?.cleanup());

  /** A person edits the committed state and pushes it. */
  function edit(patch: Partial<CanaryState>): void {
    git(human, ['pull', '-q', '--ff-only']);
    const file = join(human, 'state/edited/podinfo.json');
    const state = JSON.parse(git(human, ['show', 'HEAD:state/edited/podinfo.json']));
    writeFileSync(file, `${JSON.stringify({ ...state, ...patch }, null, 2)}\n`);
    git(human, ['commit', '-qam', 'hand edit']);
    git(human, ['push', '-q', 'origin', 'HEAD:main']);
  }

  it.each<[string, Partial<CanaryState>, RegExp]>([
    ['weight 90 with maxWeight 50', { phase: 'Progressing', canaryWeight: 90, canaryRevision: 'hand-edited' }, /state\/edited\/podinfo\.json#\/canaryWeight: 90 is above the plan's highest step 50/],
    ['iterations with the canary strategy', { phase: 'Progressing', canaryWeight: 10, iterations: 7, canaryRevision: 'hand-edited' }, /state\/edited\/podinfo\.json#\/iterations: must be 0/],
    ['Failed with all traffic on the canary', { phase: 'Failed', canaryWeight: 100 }, /state\/edited\/podinfo\.json#\/canaryWeight: must be 0 in phase Failed/],
  ])('%s: exit 2 naming file and field, nothing written', async (_, patch, message) => {
    edit(patch);
    const head = fx.remoteGit('rev-parse', 'main');
    const r = await runCli(['step', '--repo', repo, '--all'], at(600));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    // (A state no plan allows already fails the synth, which reads the state files: still exit 2.)
    expect(r.err).not.toMatch(/internal error/);
    expect(fx.remoteGit('rev-parse', 'main')).toBe(head);
    expect(git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(git(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  }, 120_000);
});
