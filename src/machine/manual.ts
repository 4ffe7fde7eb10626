import { TransitionError } from '../errors';
import { rolledBack, snapshotOf, transition } from './transitions';
import { AnalysisPlan } from '../model/plan';
import { CanaryState } from '../model/state';

/** Transitions people ask for with `canarykit promote|rollback|pause|resume`. */
export type ManualCommand = 'promote' | 'rollback' | 'pause' | 'resume';

/**
 * Pure: the state after a manual command, or a TransitionError saying why not and what to do.
 * Promote and rollback go through the same phases as the driver's own decisions.
 */
export function manualTransition(cmd: ManualCommand, plan: AnalysisPlan, state: CanaryState, now: Date): CanaryState {
  const id = `${state.namespace}/${state.name}`;
  switch (cmd) {
    case 'pause':
      if (state.paused) throw new TransitionError(`${id} is already paused`);
      return { ...state, paused: true };
    case 'resume': {
      if (!state.paused) throw new TransitionError(`${id} is not paused`);
      const { paused: _paused, ...rest } = state;
      return rest;
    }
    case 'promote':
      if (plan.canary.revision === state.primary.revision) {
        throw new TransitionError(`${id}: the primary already runs revision ${plan.canary.revision}; nothing to promote`);
      }
      if (state.phase === 'Promoting' || state.phase === 'Finalising') {
        throw new TransitionError(`${id} is already ${state.phase}`);
      }
      return transition(plan, state, { phase: 'Promoting', canaryRevision: plan.canary.revision, primary: snapshotOf(plan.canary), failedChecks: 0 }, now);
    case 'rollback':
      if (state.phase === 'Promoting' || state.phase === 'Finalising') {
        throw new TransitionError(`${id} is ${state.phase}: the primary already runs the new revision; revert the change in git instead`);
      }
      if (state.phase !== 'Progressing' && state.phase !== 'WaitingPromotion' && state.phase !== 'Waiting') {
        throw new TransitionError(`${id} is ${state.phase}: there is no run to roll back`);
      }
      return transition(plan, state, rolledBack(plan), now);
    default: {
      const never: never = cmd;
      return never;
    }
  }
}
