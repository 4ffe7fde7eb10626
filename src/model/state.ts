import { ProblemList, ValidationError } from '../errors';
import { Phase } from './phase';
// Compiled from STATE_SCHEMA (state-schema.ts) at build time: compiling it with ajv at load cost
// every tick ~100 ms (issue 14's idle tick).
import { validate as validateState } from './state-validator.generated';

import { STATE_API_VERSION } from './state-schema';

export { STATE_API_VERSION, STATE_SCHEMA } from './state-schema';

/** Deployment-level fields Flagger copies from the target to the primary at promotion. */
export interface WorkloadSettings {
  replicas?: number;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  strategy?: Record<string, unknown>;
}

/**
 * What the primary runs: the last promoted pod template and tracked ConfigMap data, so the primary
 * can always be rebuilt from git alone. Never holds Secret data (Secrets are referenced by name).
 */
export interface PrimarySnapshot {
  /** Content hash of the promoted pod template plus tracked ConfigMap data (Flagger's lastPromotedSpec). */
  revision: string;
  /** The promoted pod template (`spec.template` of the target at promotion time). */
  template: Record<string, unknown>;
  /** Deployment-level settings copied at promotion. */
  workload: WorkloadSettings;
  /** Target metadata annotations at promotion (Flagger copies them to the primary). */
  annotations: Record<string, string>;
  /** Target labels at promotion that -include-label-prefix copies to the primary; absent when none. */
  labels?: Record<string, string>;
  /** Tracked ConfigMaps: name -> data, copied to `<name>-primary`. */
  configMaps: Record<string, Record<string, string>>;
  /** Labels of the tracked ConfigMaps at promotion that -include-label-prefix copies; absent when none. */
  configMapLabels?: Record<string, Record<string, string>>;
}

/** Session-affinity cookies (Flagger keeps them in status; canarykit derives them deterministically). */
export interface SessionAffinityState {
  cookie?: string;
  previousCookie?: string;
  primaryCookie?: string;
}

/** The committed stage of one canary: `state/<namespace>/<name>.json`. */
export interface CanaryState {
  apiVersion: typeof STATE_API_VERSION;
  kind: 'CanaryState';
  namespace: string;
  name: string;
  phase: Phase;
  /** Canary weight the routes carry at this stage (0..100); primary gets 100 - canaryWeight. */
  canaryWeight: number;
  /** Traffic is mirrored to the canary at this stage. */
  mirror: boolean;
  /** Completed A/B or blue/green iterations in this run. */
  iterations: number;
  /** Failed checks in this run (cumulative, reset when a run starts, restarts or ends). */
  failedChecks: number;
  /** Revision of the target under analysis, or last applied (Flagger's lastAppliedSpec). */
  canaryRevision: string;
  primary: PrimarySnapshot;
  /** RFC 3339 time of the last phase or weight change. */
  lastTransitionTime: string;
  /** Manual pause (`canarykit pause`): ticks do nothing until resumed. */
  paused?: boolean;
  sessionAffinity?: SessionAffinityState;
}




/**
 * Validates parsed JSON as a state file; throws a ValidationError listing every problem with its
 * field path (`<where>#/primary/revision: ...`).
 */
export function parseState(value: unknown, where: string): CanaryState {
  if (validateState(value)) {
    const state = value as unknown as CanaryState;
    const problems = new ProblemList();
    checkPhaseFields(state, where, problems);
    problems.throwIfAny(`invalid state file ${where}`);
    return state;
  }
  const problems = (validateState.errors ?? []).map((e) => ({
    path: `${where}#${e.instancePath || '/'}`,
    message: describeAjvError(e),
  }));
  throw new ValidationError(problems, `invalid state file ${where}`);
}

/**
 * Combinations the stage machine never produces, whatever the plan: outside a run (and in
 * Finalising) routes are 100/0 without mirroring. A hand edit that breaks this would route
 * traffic to a canary no decision asked for (or to one that is scaled to zero).
 */
const ZERO_OUTSIDE_RUN: Record<'canaryWeight' | 'mirror', readonly Phase[]> = {
  canaryWeight: ['Initializing', 'Initialized', 'Waiting', 'Finalising', 'Succeeded', 'Failed'],
  mirror: ['Initializing', 'Initialized', 'Waiting', 'Finalising', 'Succeeded', 'Failed'],
};

function checkPhaseFields(state: CanaryState, where: string, problems: ProblemList): void {
  for (const [field, phases] of Object.entries(ZERO_OUTSIDE_RUN) as [keyof typeof ZERO_OUTSIDE_RUN, readonly Phase[]][]) {
    const value = state[field];
    if (phases.includes(state.phase) && value !== 0 && value !== false) {
      const zero = field === 'mirror' ? 'false' : '0';
      problems.add(`${where}#/${field}`, `must be ${zero} in phase ${state.phase} (got ${JSON.stringify(value)}): the stage machine never writes this; restore the file from git history`);
    }
  }
}

/** Turns an ajv error into "what is wrong, what is expected". */
export function describeAjvError(e: { keyword: string; message?: string; params: Record<string, unknown> }): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(e.params.additionalProperty)}" (remove it or fix its spelling)`;
    case 'required':
      return `missing required field "${String(e.params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Stable serialization: two-space JSON with a trailing newline (keys in construction order). */
export function serializeState(state: CanaryState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
