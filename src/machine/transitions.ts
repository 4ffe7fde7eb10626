import { withSessionAffinity } from './affinity';
import { AnalysisPlan, CanaryWorkloadPlan } from '../model/plan';
import { CanaryState, PrimarySnapshot, STATE_API_VERSION } from '../model/state';

/** The fields a transition may change. */
export type StatePatch = Partial<Omit<CanaryState, 'apiVersion' | 'kind' | 'namespace' | 'name'>>;

/** What the primary runs after promoting `canary` (a deep copy: states never share objects). */
export function snapshotOf(canary: CanaryWorkloadPlan): PrimarySnapshot {
  return structuredClone({
    revision: canary.revision,
    template: canary.template,
    workload: canary.workload,
    annotations: canary.annotations,
    ...(canary.labels ? { labels: canary.labels } : {}),
    configMaps: canary.configMaps,
    ...(canary.configMapLabels ? { configMapLabels: canary.configMapLabels } : {}),
  });
}

/**
 * The first state of a canary: Initializing, weight 0, the primary running the current target
 * template (so it is not a new revision). The target keeps its replicas until the primary is ready
 * (Flagger's no-downtime start); the next tick then moves to Initialized and scales it to zero.
 */
export function firstState(namespace: string, name: string, canary: CanaryWorkloadPlan, now: Date): CanaryState {
  return {
    apiVersion: STATE_API_VERSION,
    kind: 'CanaryState',
    namespace,
    name,
    phase: 'Initializing',
    canaryWeight: 0,
    mirror: false,
    iterations: 0,
    failedChecks: 0,
    canaryRevision: canary.revision,
    primary: snapshotOf(canary),
    lastTransitionTime: now.toISOString(),
  };
}

/** The first state of the canary a plan describes. */
export function initialState(plan: AnalysisPlan, now: Date): CanaryState {
  return firstState(plan.namespace, plan.name, plan.canary, now);
}

/** Applies a patch: stamps lastTransitionTime and keeps session-affinity cookies in step. */
export function transition(plan: AnalysisPlan, state: CanaryState, patch: StatePatch, now: Date): CanaryState {
  return withSessionAffinity(plan.analysis.sessionAffinity, { ...state, ...patch, lastTransitionTime: now.toISOString() });
}

/** A run (re)starts for `revision`: Progressing, routes 100/0, counters cleared. */
export function runStart(revision: string): StatePatch {
  return { phase: 'Progressing', canaryWeight: 0, mirror: false, iterations: 0, failedChecks: 0, canaryRevision: revision };
}

/**
 * The run failed: routes 100/0, canary scaled to zero, primary untouched. canaryRevision records the
 * failed revision so the same template does not start again (Flagger's lastAppliedSpec).
 */
export function rolledBack(plan: AnalysisPlan): StatePatch {
  return { phase: 'Failed', canaryWeight: 0, mirror: false, iterations: 0, failedChecks: 0, canaryRevision: plan.canary.revision };
}

/**
 * The promoted primary was observed stuck: Failed with routes 100/0 and the canary scaled to zero,
 * like every rollback. Deviation from Flagger's handleFailedPromotion (scheduler.go), which routes
 * 0/100 to the canary: in git that stage stays committed until a person acts, and the primary's
 * previous ReplicaSet keeps serving while its rolling update is stuck (see README).
 */
export function promotionFailed(): StatePatch {
  return { phase: 'Failed', canaryWeight: 0, mirror: false, iterations: 0, failedChecks: 0 };
}

/**
 * Run finished: Succeeded, routes 100/0, iterations cleared. failedChecks keeps the run's count, as
 * Flagger's status does (status.go setStatusPhase leaves it; the next run starts from 0).
 */
export function succeeded(): StatePatch {
  return { phase: 'Succeeded', canaryWeight: 0, mirror: false, iterations: 0 };
}
