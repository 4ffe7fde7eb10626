import { ProblemList } from '../errors';
import { AnalysisPlan } from '../model/plan';
import { CanaryState } from '../model/state';
import { effectiveStrategy, maxWeight, TOTAL_WEIGHT, weightLadder } from './weights';

/**
 * A committed state checked against the plan it will be decided with. parseState already rejects
 * what no plan allows; this rejects what this plan's strategy never produces (a weight above the
 * last step, more iterations than configured), so a hand edit cannot route traffic no decision
 * asked for (weight 90 with maxWeight 50 would otherwise be promoted at 90%).
 *
 * A plan changed mid-run can trip these too (maxWeight lowered below the current weight): the
 * message says how to get out (`canarykit rollback`, which does not run this check).
 */
export function checkStateAgainstPlan(state: CanaryState, plan: AnalysisPlan, where: string): void {
  const problems = new ProblemList();
  const id = `${plan.namespace}/${plan.name}`;
  const fix = `edit the file back, or run canarykit rollback ${id}`;
  const { strategy, iterations } = effectiveStrategy(plan);
  const weight = state.canaryWeight;
  if (strategy === 'canary') {
    const top = highestCanaryWeight(plan);
    if (weight > top) {
      problems.add(
        `${where}#/canaryWeight`,
        `${weight} is above the plan's highest step ${top} (maxWeight ${maxWeight(plan.analysis)}): the stage machine never routes more to the canary; ${fix}`,
      );
    }
    if (state.iterations !== 0) {
      problems.add(`${where}#/iterations`, `must be 0 with the canary strategy (got ${state.iterations}); ${fix}`);
    }
  } else {
    // A/B routes all matched traffic to the canary; blue/green switches all at once (cutover).
    const routed = plan.routing.shiftsWeights;
    const allowed = routed ? [0, TOTAL_WEIGHT] : [0];
    if (!allowed.includes(weight)) {
      problems.add(`${where}#/canaryWeight`, `must be ${allowed.join(' or ')} with the ${strategy} strategy on ${plan.provider} (got ${weight}); ${fix}`);
    }
    // Blue/green counts the cutover as one more iteration.
    const most = strategy === 'blue-green' ? iterations + 1 : iterations;
    if (state.iterations > most) {
      problems.add(`${where}#/iterations`, `${state.iterations} is above the plan's ${most} (analysis.iterations ${iterations}); ${fix}`);
    }
  }
  if (state.mirror && !plan.analysis.mirror) {
    problems.add(`${where}#/mirror`, `is true but the plan does not mirror traffic (analysis.mirror is false); ${fix}`);
  }
  problems.throwIfAny(`state file ${where} does not match the plan of ${id}`);
}

/** The largest canary weight a run of this plan reaches: the ladder's last step (Flagger does not clamp it). */
function highestCanaryWeight(plan: AnalysisPlan): number {
  const ladder = weightLadder(plan.analysis);
  return ladder.length > 0 ? ladder[ladder.length - 1] : maxWeight(plan.analysis);
}
