import { describe, expect, it } from 'vitest';
import { hookContext, hookPhase, payloadChecksum } from '../src/adapters/webhooks/hook-context';
import { Phase } from '../src/model/phase';
import { WebhookType } from '../src/model/plan';
import { makePlan, makeState, runState } from './support/plans';

// Flagger v1.44.0 scheduler_hooks.go: CallWebhook(canary, flaggerv1.CanaryPhaseProgressing, ...) for
// pre-rollout, confirm-traffic-increase and confirm-promotion, runAnalysis for rollout hooks;
// canary.Status.Phase for confirm-rollout and rollback hooks (also in WaitingPromotion).
describe('hook payload phase (scheduler_hooks.go)', () => {
  const rows: [WebhookType, Phase, Phase][] = [
    ['pre-rollout', 'Progressing', 'Progressing'],
    ['rollout', 'WaitingPromotion', 'Progressing'],
    ['confirm-traffic-increase', 'Progressing', 'Progressing'],
    ['confirm-promotion', 'WaitingPromotion', 'Progressing'],
    ['confirm-rollout', 'Succeeded', 'Succeeded'],
    ['confirm-rollout', 'Initialized', 'Initialized'],
    ['confirm-rollout', 'Waiting', 'Waiting'],
    ['rollback', 'WaitingPromotion', 'WaitingPromotion'],
    ['rollback', 'Progressing', 'Progressing'],
  ];
  it.each(rows)('%s hook called in %s says %s', (type, stored, sent) => {
    expect(hookPhase(type, runState({ phase: stored }))).toBe(sent);
  });
});

// webhook.go canaryChecksum hashes status.lastAppliedSpec + trackedConfigs; shouldAdvance syncs it in Failed.
describe('payload checksum (webhook.go canaryChecksum)', () => {
  const plan = makePlan(); // canary at rev-2
  it('at confirm-rollout from Succeeded or Initialized it is still the previous revision', () => {
    expect(payloadChecksum(plan, makeState({ phase: 'Succeeded', canaryRevision: 'rev-1' }))).toBe('rev-1');
    expect(payloadChecksum(plan, makeState({ phase: 'Initialized', canaryRevision: 'rev-1' }))).toBe('rev-1');
    expect(hookContext(plan, makeState({ phase: 'Waiting', canaryRevision: 'rev-1' }), 'confirm-rollout')).toEqual({
      name: 'podinfo', namespace: 'test', phase: 'Waiting', checksum: 'rev-1',
    });
  });
  it('during the run it is the revision under analysis', () => {
    expect(payloadChecksum(plan, runState())).toBe('rev-2');
  });
  it('from Failed it is the new revision (lastAppliedSpec synced at the start of the tick)', () => {
    expect(payloadChecksum(plan, makeState({ phase: 'Failed', canaryRevision: 'rev-0' }))).toBe('rev-2');
  });
});
