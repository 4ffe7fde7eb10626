import { describe, expect, it } from 'vitest';
import { goDuration, metricEvent, postRolloutEvent, tickEvents } from '../src/machine/flagger-events';
import { decide } from '../src/machine/decide';
import { Observations, emptyObservations } from '../src/model/observations';
import { PlannedMetric } from '../src/model/plan';
import { T0, after, hook, makePlan, metric, runState, tick } from './support/plans';

const NOW = after(T0, 60);

// scheduler_metrics.go runBuiltinMetricChecks / runMetricChecks: the "Halt ... advancement" lines.
describe('metric events (scheduler_metrics.go)', () => {
  const plan = makePlan();
  const rate: PlannedMetric = { ...metric('request-success-rate'), thresholdRange: { min: 99 } };
  const duration: PlannedMetric = { ...metric('request-duration'), thresholdRange: { max: 500 }, unit: 'milliseconds' };
  const custom: PlannedMetric = { ...metric('error-ratio'), builtin: false, thresholdRange: {}, threshold: 0.5 };
  it.each([
    [rate, { outcome: 'fail', value: 95.123 }, 'Halt podinfo.test advancement success rate 95.12% < 99%'],
    [{ ...rate, thresholdRange: {}, threshold: 99.5 }, { outcome: 'fail', value: 90 }, 'Halt podinfo.test advancement success rate 90.00% < 99.5%'],
    [duration, { outcome: 'fail', value: 1500 }, 'Halt podinfo.test advancement request duration 1.5s > 500ms'],
    [custom, { outcome: 'fail', value: 0.75 }, 'Halt podinfo.test advancement error-ratio 0.75 > 0.5'],
    [rate, { outcome: 'no-data' }, 'Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic: no values found'],
    [duration, { outcome: 'no-data' }, 'Halt advancement no values found for istio metric request-duration probably podinfo.test is not receiving traffic'],
    [custom, { outcome: 'no-data' }, 'Halt advancement no values found for custom metric: error-ratio: no values found'],
    [rate, { outcome: 'error', message: 'connection refused' }, 'Prometheus query failed: connection refused'],
    [custom, { outcome: 'error', message: 'bad_data' }, 'Metric query failed for error-ratio: bad_data'],
  ] as const)('%#: %s', (m, r, text) => {
    const e = metricEvent(plan, m, { metric: m.name, message: '', ...r } as never, 'Progressing');
    expect(e).toEqual({ message: text, type: 'Warning', phase: 'Progressing' });
  });

  it('formats durations as Go prints a time.Duration', () => {
    expect([0, 7, 500, 1000, 1500, 61_000, 3_725_500].map(goDuration)).toEqual(['0s', '7ms', '500ms', '1s', '1.5s', '1m1s', '1h2m5.5s']);
  });
});

describe('tick events (scheduler.go, scheduler_hooks.go)', () => {
  const withHooks = makePlan({ webhooks: [hook('gate', 'confirm-traffic-increase'), hook('promote', 'confirm-promotion'), hook('load', 'rollout')] });
  it('a closed confirm-promotion gate warns once, on entering WaitingPromotion', () => {
    const plan = withHooks;
    const closed = (h: { type: string }) => h.type !== 'confirm-promotion';
    const entering = tick(plan, runState({ canaryWeight: 50 }), NOW, { webhook: closed });
    expect(entering.decision.action.type).toBe('wait');
    const waiting = tick(plan, runState({ phase: 'WaitingPromotion', canaryWeight: 50 }), NOW, { webhook: closed });
    expect(waiting.decision.action.type).toBe('none');
    expect(waiting.decision.events).toEqual([]);
  });

  it('post-rollout lines', () => {
    expect(postRolloutEvent('notify', { ok: true, message: '' }, 'Succeeded')).toEqual({ message: 'Post-rollout check notify passed', type: 'Normal', phase: 'Succeeded' });
    expect(postRolloutEvent('notify', { ok: false, message: 'boom' }, 'Progressing')).toEqual({ message: 'Post-rollout hook notify failed boom', type: 'Warning', phase: 'Progressing' });
  });

  it('promotion traffic shift and succeeded (runPromotionTrafficShift, Finalising)', () => {
    const stepped = makePlan({ analysis: { stepWeightPromotion: 50 } });
    const promoting = runState({ phase: 'Promoting', canaryWeight: 100 });
    const obs: Observations = { ...emptyObservations(), primary: { ready: true }, canary: { ready: true } };
    const d1 = decide(stepped, promoting, obs, NOW);
    expect(tickEvents(stepped, promoting, obs, d1, NOW).before).toEqual([{ message: 'Advance podinfo.test primary weight 50', type: 'Normal', phase: 'Promoting' }]);
    const half = runState({ phase: 'Promoting', canaryWeight: 50 });
    const d2 = decide(stepped, half, obs, NOW);
    expect(tickEvents(stepped, half, obs, d2, NOW).before.map((e) => e.message)).toEqual(['Advance podinfo.test primary weight 100']);
    const allAtOnce = makePlan();
    const d3 = decide(allAtOnce, half, obs, NOW);
    expect(tickEvents(allAtOnce, half, obs, d3, NOW).before.map((e) => e.message)).toEqual(['Routing all traffic to primary']);
    const finalising = runState({ phase: 'Finalising' });
    const d4 = decide(allAtOnce, finalising, obs, NOW);
    const out = tickEvents(allAtOnce, finalising, obs, d4, NOW);
    expect(out.postRollout).toEqual({ payloadPhase: 'Succeeded', eventPhase: 'Succeeded' });
    expect(out.after).toEqual([{ message: 'Promotion completed! Scaling down podinfo.test', type: 'Normal', phase: 'Succeeded' }]);
  });

  it('threshold rollback: "Rolling back ... failed checks threshold reached", then "Canary failed!"', () => {
    const plan = makePlan();
    const state = runState({ canaryWeight: 30, failedChecks: 5 });
    const obs: Observations = { ...emptyObservations(), primary: { ready: true }, canary: { ready: true } };
    const d = decide(plan, state, obs, NOW);
    expect(tickEvents(plan, state, obs, d, NOW)).toEqual({
      before: [
        { message: 'Rolling back podinfo.test failed checks threshold reached 5', type: 'Warning', phase: 'Progressing' },
        { message: 'Canary failed! Scaling down podinfo.test', type: 'Warning', phase: 'Failed' },
      ],
      postRollout: { payloadPhase: 'Failed', eventPhase: 'Progressing' },
      after: [],
    });
  });

  it('a canary that is not ready: deployment_ready.go IsCanaryReady text', () => {
    const plan = makePlan();
    const state = runState({ canaryWeight: 30 });
    const obs: Observations = { ...emptyObservations(), primary: { ready: true }, canary: { ready: false, retriable: true, reason: 'waiting for rollout to finish: 1 out of 2 new replicas have been updated' } };
    const d = decide(plan, state, obs, NOW);
    expect(tickEvents(plan, state, obs, d, NOW).before).toEqual([
      { message: 'canary deployment podinfo.test not ready: waiting for rollout to finish: 1 out of 2 new replicas have been updated', type: 'Warning', phase: 'Progressing' },
    ]);
  });

  it('a DaemonSet canary or primary that is not ready: daemonset_ready.go IsCanaryReady / IsPrimaryReady text', () => {
    const plan = { ...makePlan(), workloadKind: 'DaemonSet' as const, workloads: { primary: 'podinfo-primary', canary: 'podinfo' }, replicas: {} };
    const state = runState({ canaryWeight: 30 });
    const reason = 'waiting for rollout to finish: 1 out of 3 new pods have been updated';
    const canary: Observations = { ...emptyObservations(), primary: { ready: true }, canary: { ready: false, retriable: true, reason } };
    expect(tickEvents(plan, state, canary, decide(plan, state, canary, NOW), NOW).before).toEqual([
      { message: `canary damonset podinfo.test not ready with retryable true: ${reason}`, type: 'Warning', phase: 'Progressing' },
    ]);
    const primary: Observations = { ...emptyObservations(), primary: { ready: false, retriable: true, reason } };
    expect(tickEvents(plan, state, primary, decide(plan, state, primary, NOW), NOW).before).toEqual([
      { message: `primary daemonset podinfo-primary.test not ready: ${reason}`, type: 'Warning', phase: 'Progressing' },
    ]);
  });
});
