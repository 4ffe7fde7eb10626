import { afterAll, describe, expect, it } from 'vitest';
import { Duration } from 'cdk8s';
import { ValidationError } from '../../src/errors';
import { Provider } from '../../src/constructs/provider';
import { phaseCases, removeTempDirs, render, RenderedFolder, stage } from '../support/construct-fixtures';
import { manifestProblems } from './manifest-validator';

// Provider.gatewayApi({ apiVersion: 'v1beta1' }): Flagger's pkg/router/gateway_api_v1beta1.go
// (Reconcile / SetRoutes) rendered per committed stage.

afterAll(removeTempDirs);

const GATEWAY = [{ name: 'podinfo', namespace: 'test', group: 'core', kind: 'Service', port: 9898 }];
const renderV1beta1 = (state = stage('Initialized')): RenderedFolder =>
  render({ canary: { provider: Provider.gatewayApi({ apiVersion: 'v1beta1', gatewayRefs: GATEWAY }) }, analysis: { stepWeight: 10, maxWeight: 50 }, state });
const backends = (primary: number, canary: number) => [
  { group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight: primary },
  { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight: canary },
];

describe('Gateway API v1beta1 HTTPRoute across the phases of a run (gateway_api_v1beta1.go)', () => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = renderV1beta1(c.state);
    const route = f.get('HTTPRoute', 'podinfo');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    expect(route.spec.parentRefs).toEqual(GATEWAY);
    expect(route.spec.rules).toEqual([{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: backends(c.primaryWeight, c.canaryWeight) }]);
    expect(f.objects.flatMap(manifestProblems)).toEqual([]);
    expect(f.plan?.provider).toBe('gatewayapiv1beta1');
    expect(f.plan?.routing).toEqual({ flaggerName: 'gatewayapi:v1beta1', shiftsWeights: true, promotionSteps: true });
    expect(f.plan?.route).toBeUndefined();
  });

  it('the v1 provider with the same options keeps its route-acceptance gate and v1 apiVersion', () => {
    const f = render({ canary: { provider: Provider.gatewayApi({ gatewayRefs: GATEWAY }) }, analysis: { stepWeight: 10, maxWeight: 50 }, state: stage('Initialized') });
    expect(f.get('HTTPRoute', 'podinfo').apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(f.plan?.route).toMatchObject({ kind: 'HTTPRoute', name: 'podinfo', parents: [{ name: 'podinfo', namespace: 'test' }] });
  });

  it('timeouts are refused at synth time: the v1beta1 router writes none', () => {
    expect(() =>
      render({ canary: { provider: Provider.gatewayApi({ apiVersion: 'v1beta1', gatewayRefs: GATEWAY, timeout: Duration.seconds(15) }) }, analysis: { stepWeight: 10 } }),
    ).toThrow(ValidationError);
    expect(() =>
      render({ canary: { provider: Provider.gatewayApi({ apiVersion: 'v1beta1', gatewayRefs: GATEWAY, timeout: Duration.seconds(15) }) }, analysis: { stepWeight: 10 } }),
    ).toThrow(/provider\.gatewayApi\.timeout: provider gatewayapi:v1beta1 writes no HTTPRoute timeouts/);
  });
});
