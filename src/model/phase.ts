/** Flagger's canary phases (status.phase), used verbatim in state files, commits and output. */
export const PHASES = [
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
] as const;

export type Phase = (typeof PHASES)[number];

/** Phases in which a rollout is under way: the canary workload runs and routes may carry weight. */
export function isRolloutPhase(phase: Phase): boolean {
  return phase === 'Progressing' || phase === 'WaitingPromotion' || phase === 'Promoting' || phase === 'Finalising';
}

/** Phases at rest: the tick waits for a new revision, not for the interval (tick.ts planTick). */
export function isAtRest(phase: Phase): boolean {
  return phase === 'Initialized' || phase === 'Succeeded' || phase === 'Failed';
}
