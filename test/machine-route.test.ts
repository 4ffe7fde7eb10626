import { describe, expect, it } from 'vitest';
import { decide } from '../src/stages/machine';
import { emptyObservations, ObservationStep, RouteAcceptance } from '../src/stages/observations';
import { AnalysisPlan, PlannedRoute } from '../src/stages/plan';
import { CanaryState } from '../src/stages/state';
import { observationsNeeded } from '../src/stages/tick';
import { after, hook, makePlan, makeState, observe, runState, T0, tick } from './support/plans';

/*
 * Flagger v1.44.0 pkg/controller/scheduler.go advanceCanary calls meshRouter.GetRoutes right after
 * the primary check (IsPrimaryReady, skipped with skipAnalysis) and before checkCanaryStatus,
 * the restart check, the canary check and every phase branch; Gateway API's GetRoutes
 * (pkg/router/gateway_api.go) errors while a parent has not Accepted the HTTPRoute at its current
 * generation, and the tick returns: nothing moves, no failed check is counted.
 */

const NOW = after(T0, 60);
const ROUTE: PlannedRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  namespace: 'test',
  name: 'podinfo',
  parents: [{ name: 'public', namespace: 'gateway-system' }],
};
const hooks = [hook('go', 'confirm-rollout'), hook('abort', 'rollback'), hook('load', 'rollout'), hook('promote', 'confirm-promotion')];
const gateway = makePlan({ provider: 'gatewayapi', route: ROUTE, webhooks: hooks });
const NOT_ACCEPTED: RouteAcceptance = {
  accepted: false,
  message: 'HTTPRoute podinfo.test parent public is not ready (status: False, observed generation: 3, current generation: 3)',
};
const UNSEEN: RouteAcceptance = { accepted: false, observationError: true, message: 'HTTPRoute podinfo.test status cannot be observed: Prometheus unreachable' };

const label = (s: ObservationStep): string =>
  s.kind === 'readiness' ? `${s.workload}-ready` : s.kind === 'route' ? `route:${s.route.name}` : s.kind === 'webhook' ? `${s.webhook.type}` : s.kind === 'providers' ? 'providers' : `metric:${s.metric.name}`;
const steps = (plan: AnalysisPlan, state: CanaryState | undefined): string[] => observationsNeeded(plan, state, NOW).steps.map(label);

describe('where GetRoutes sits in the tick (scheduler.go advanceCanary)', () => {
  const skip = { ...gateway, skipAnalysis: true };
  const rows: { name: string; plan: AnalysisPlan; state: CanaryState | undefined; want: string[] }[] = [
    { name: 'bootstrap: no state yet, nothing observed', plan: gateway, state: undefined, want: [] },
    { name: 'Initializing: setPhaseInitialized runs before GetRoutes', plan: gateway, state: makeState({ phase: 'Initializing' }), want: ['providers', 'primary-ready'] },
    { name: 'at rest without a new revision: shouldAdvance returns first', plan: gateway, state: makeState({ canaryRevision: 'rev-2', primary: { ...makeState().primary, revision: 'rev-2' } }), want: [] },
    { name: 'at rest with a new revision: before confirm-rollout', plan: gateway, state: makeState(), want: ['primary-ready', 'route:podinfo', 'confirm-rollout'] },
    { name: 'Waiting', plan: gateway, state: makeState({ phase: 'Waiting' }), want: ['primary-ready', 'route:podinfo', 'confirm-rollout'] },
    { name: 'Progressing: before the canary check and rollback hooks', plan: gateway, state: runState({ canaryWeight: 20 }), want: ['primary-ready', 'route:podinfo', 'canary-ready', 'rollback', 'rollout', 'metric:request-success-rate', 'metric:request-duration'] },
    { name: 'WaitingPromotion', plan: gateway, state: runState({ phase: 'WaitingPromotion', canaryWeight: 50 }), want: ['primary-ready', 'route:podinfo', 'canary-ready', 'rollback', 'rollout', 'metric:request-success-rate', 'metric:request-duration', 'confirm-promotion'] },
    { name: 'threshold reached: still before the rollback', plan: gateway, state: runState({ canaryWeight: 20, failedChecks: 5 }), want: ['primary-ready', 'route:podinfo', 'canary-ready', 'rollback'] },
    { name: 'revision changed mid-run: before the restart', plan: { ...gateway, canary: { ...gateway.canary, revision: 'rev-3' } }, state: runState({ canaryWeight: 20 }), want: ['primary-ready', 'route:podinfo'] },
    { name: 'Promoting', plan: gateway, state: runState({ phase: 'Promoting', canaryWeight: 50 }), want: ['primary-ready', 'route:podinfo', 'canary-ready'] },
    { name: 'Finalising', plan: gateway, state: runState({ phase: 'Finalising' }), want: ['primary-ready', 'route:podinfo', 'canary-ready'] },
    { name: 'skipAnalysis: no primary check, GetRoutes still runs', plan: skip, state: runState(), want: ['route:podinfo', 'canary-ready'] },
    { name: 'skipAnalysis at rest with a new revision', plan: skip, state: makeState(), want: ['route:podinfo', 'confirm-rollout'] },
    { name: 'a provider without a route fact (istio): no route step', plan: makePlan({ webhooks: hooks }), state: runState({ canaryWeight: 20 }), want: ['primary-ready', 'canary-ready', 'rollback', 'rollout', 'metric:request-success-rate', 'metric:request-duration'] },
  ];
  for (const r of rows) {
    it(r.name, () => {
      expect(steps(r.plan, r.state)).toEqual(r.want);
    });
  }
});

describe('a route that is not accepted, or cannot be seen, holds every gated stage', () => {
  const states: { name: string; state: CanaryState; plan?: AnalysisPlan }[] = [
    { name: 'new revision at rest', state: makeState() },
    { name: 'Waiting', state: makeState({ phase: 'Waiting' }) },
    { name: 'first analysis tick', state: runState() },
    { name: 'Progressing at 20', state: runState({ canaryWeight: 20, failedChecks: 1 }) },
    { name: 'Progressing at maxWeight (would promote)', state: runState({ canaryWeight: 50 }) },
    { name: 'WaitingPromotion', state: runState({ phase: 'WaitingPromotion', canaryWeight: 50 }) },
    { name: 'threshold reached (would roll back)', state: runState({ canaryWeight: 20, failedChecks: 5 }) },
    { name: 'revision changed mid-run (would restart)', state: runState({ canaryWeight: 20 }), plan: { ...gateway, canary: { ...gateway.canary, revision: 'rev-3' } } },
    { name: 'Promoting', state: runState({ phase: 'Promoting', canaryWeight: 50 }) },
    { name: 'Finalising', state: runState({ phase: 'Finalising' }) },
    { name: 'skipAnalysis Progressing (would promote)', state: runState(), plan: { ...gateway, skipAnalysis: true } },
  ];
  for (const { name, state, plan = gateway } of states) {
    for (const [kind, route, reason] of [
      ['not accepted', NOT_ACCEPTED, 'route-not-accepted'],
      ['not observable', UNSEEN, 'route-unobservable'],
    ] as const) {
      it(`${name}: ${kind}`, () => {
        const { request, decision } = tick(plan, state, NOW, { route });
        // Nothing after GetRoutes is called: no confirm-rollout, rollback or rollout hook, no metric.
        const observed = observe(request, { route });
        expect(observed.webhooks).toEqual([]);
        expect(observed.metrics).toEqual([]);
        expect(observed.canary).toBeUndefined();
        expect(decision.action).toEqual({ type: 'none', reason, message: route.message });
        expect(decision.state).toEqual(state); // no weight, phase, failedChecks or revision change: nothing to commit
        expect(decision.events).toEqual([{ reason: 'RouteNotReady', severity: 'warn', message: route.message }]);
      });
    }
  }

  it('Initializing is not gated: the primary becoming ready initializes whatever the route says', () => {
    const { decision } = tick(gateway, makeState({ phase: 'Initializing' }), NOW, { route: NOT_ACCEPTED });
    expect(decision.state.phase).toBe('Initialized');
  });

  it('an accepted route lets the tick go on exactly as without one', () => {
    const state = runState({ canaryWeight: 20 });
    const withRoute = tick(gateway, state, NOW, { route: { accepted: true } }).decision;
    const without = tick({ ...gateway, route: undefined }, state, NOW).decision;
    expect(withRoute).toEqual(without);
    expect(withRoute.action).toMatchObject({ type: 'advance', from: 20, to: 30 });
  });

  it('a missing route observation decides nothing (a driver bug, never "accepted")', () => {
    const decision = decide(gateway, runState({ canaryWeight: 20 }), { ...emptyObservations(), primary: { ready: true } }, NOW);
    expect(decision.action).toMatchObject({ type: 'none', reason: 'incomplete-observations', message: 'HTTPRoute podinfo.test status was not observed' });
  });

  it('a held detection at rest is retried once per interval, not on every driver run', () => {
    const state = makeState();
    expect(observationsNeeded(gateway, state, after(T0, 3600), after(T0, 3600).toISOString()).dueNow).toBe(false);
    expect(observationsNeeded(gateway, state, after(T0, 3630), after(T0, 3600).toISOString()).dueNow).toBe(false);
    expect(observationsNeeded(gateway, state, after(T0, 3660), after(T0, 3600).toISOString()).dueNow).toBe(true);
    // The same for a restart held by the route mid-run.
    const moved = { ...gateway, canary: { ...gateway.canary, revision: 'rev-3' } };
    expect(observationsNeeded(moved, runState(), after(T0, 90), after(T0, 60).toISOString()).dueNow).toBe(false);
    expect(observationsNeeded(moved, runState(), after(T0, 120), after(T0, 60).toISOString())).toMatchObject({ dueNow: true, stage: 'restart' });
    // Without a quiet tick since the last transition, detection is immediate.
    expect(observationsNeeded(gateway, state, after(T0, 5), after(T0, -10).toISOString()).dueNow).toBe(true);
  });
});
