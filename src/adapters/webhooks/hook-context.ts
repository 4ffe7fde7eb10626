import { Phase } from '../../model/phase';
import { AnalysisPlan, WebhookType } from '../../model/plan';
import { CanaryState } from '../../model/state';
import { WebhookContext } from './call';
import { assertNever } from '../../model/never';

/**
 * What a gating hook's payload says (Flagger v1.44.0 scheduler_hooks.go and webhook.go): one
 * owner for the payload phase and checksum of every hook call the driver makes during a tick.
 */

/**
 * The payload phase of a hook called during the tick. pre-rollout, rollout,
 * confirm-traffic-increase and confirm-promotion always say Progressing (also in WaitingPromotion);
 * confirm-rollout and rollback hooks get the stored phase.
 */
export function hookPhase(type: WebhookType, state: CanaryState | undefined): Phase {
  switch (type) {
    case 'pre-rollout':
    case 'rollout':
    case 'confirm-traffic-increase':
    case 'confirm-promotion':
      return 'Progressing';
    case 'confirm-rollout':
    case 'rollback':
    case 'post-rollout':
    case 'event':
      return state?.phase ?? 'Initializing';
    default:
      return assertNever(type, 'webhook type');
  }
}

/**
 * Flagger's checksum hashes status.lastAppliedSpec and trackedConfigs: the revision last applied,
 * not the one waiting. At confirm-rollout from Initialized or Succeeded it is still the previous
 * revision's; in Failed, Flagger syncs lastAppliedSpec at the start of every tick, so it is the
 * new revision's (scheduler.go shouldAdvance).
 */
export function payloadChecksum(plan: AnalysisPlan, state: CanaryState | undefined): string {
  if (!state || state.phase === 'Failed') return plan.canary.revision;
  return state.canaryRevision;
}

/** The context of a gating hook call made while observing a tick. */
export function hookContext(plan: AnalysisPlan, state: CanaryState | undefined, type: WebhookType): WebhookContext {
  return { name: plan.name, namespace: plan.namespace, phase: hookPhase(type, state), checksum: payloadChecksum(plan, state) };
}
