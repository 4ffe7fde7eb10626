import { ApiObject, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Canary, CanaryApp } from '../../src';
import { Provider } from '../../src/constructs/provider';
import { primaryQuery } from '../../src/constructs/workload/scaled-object';
import { CanaryState } from '../../src/model/state';
import { NO_STATE_DIR, RenderedFolder, addTarget, newPrimary, renderOne, stage } from '../support/construct-fixtures';
import { manifestProblems, strictSchemaProblems } from './manifest-validator';

// Flagger pkg/canary/scaled_object_reconciler.go through the construct: the -primary ScaledObject
// and the paused-replicas annotation on the user's ScaledObject per committed stage.

const PAUSED = 'autoscaling.keda.sh/paused-replicas';

function build(o: { state?: CanaryState; queries?: Record<string, string>; annotations?: Record<string, string>; hpaQueries?: boolean } = {}): { app: CanaryApp; canary: Canary } {
  const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
  const chart = new Chart(app, 'podinfo', { namespace: 'test' });
  const target = addTarget(chart, 'plus');
  const so = new ApiObject(chart, 'so', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'podinfo', annotations: o.annotations },
    spec: {
      scaleTargetRef: { name: 'podinfo' },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      triggers: [{ type: 'prometheus', name: 'rps', metadata: { serverAddress: 'http://prometheus:9090', query: 'sum(rate(http_requests_total{app="podinfo"}[1m]))', threshold: '10' } }],
    },
  });
  const canary = new Canary(chart, 'canary', {
    target,
    autoscaler: so,
    primaryScalerQueries: o.queries,
    service: { port: 9898 },
    provider: Provider.istio(),
    analysis: { stepWeight: 10, maxWeight: 50 },
    state: o.state,
    stateDir: NO_STATE_DIR,
  });
  return { app, canary };
}
const render = (o: Parameters<typeof build>[0] = {}): RenderedFolder => renderOne(build(o).app);

describe('KEDA ScaledObject autoscaler (scaled_object_reconciler.go)', () => {
  it.each([
    ['Initializing (bootstrap)', undefined, false, 3],
    ['Initialized', stage('Initialized', { primary: newPrimary() }), true, 0],
    ['Progressing at 20', stage('Progressing', { canaryWeight: 20 }), false, 3],
    ['Succeeded', stage('Succeeded', { primary: newPrimary() }), true, 0],
    ['Failed', stage('Failed', { failedChecks: 5 }), true, 0],
  ] as const)('%s: the -primary ScaledObject and the pause annotation', (_l, state, paused, replicas) => {
    const f = render({ state });
    const so = f.get('ScaledObject', 'podinfo');
    expect(so.metadata.annotations?.[PAUSED]).toBe(paused ? '0' : undefined);
    expect(f.get('Deployment', 'podinfo').spec.replicas).toBe(replicas);
    const primary = f.get('ScaledObject', 'podinfo-primary');
    expect(primary.spec.scaleTargetRef).toEqual({ name: 'podinfo-primary' });
    expect(primary.spec.triggers[0].metadata.query).toBe('sum(rate(http_requests_total{app="podinfo-primary"}[1m]))');
    expect(f.get('Deployment', 'podinfo-primary').spec.replicas).toBeUndefined();
    expect(f.objects.flatMap((o) => (o.apiVersion === 'keda.sh/v1alpha1' ? strictSchemaProblems(o) : manifestProblems(o)))).toEqual([]);
  });

  it('keeps the user\'s annotations next to the pause annotation, and removes only the pause when resumed', () => {
    const paused = render({ state: stage('Succeeded', { primary: newPrimary() }), annotations: { owner: 'web' } });
    expect(paused.get('ScaledObject', 'podinfo').metadata.annotations).toEqual({ owner: 'web', [PAUSED]: '0' });
    expect(paused.get('ScaledObject', 'podinfo-primary').metadata.annotations).toEqual({ owner: 'web' });
    const resumed = render({ state: stage('Progressing', { canaryWeight: 20 }), annotations: { owner: 'web', [PAUSED]: '0' } });
    expect(resumed.get('ScaledObject', 'podinfo').metadata.annotations).toEqual({ owner: 'web' });
    expect(render({ state: stage('Progressing', { canaryWeight: 20 }), annotations: { [PAUSED]: '0' } }).get('ScaledObject', 'podinfo').metadata.annotations).toBeUndefined();
  });

  it('primaryScalerQueries replaces the named trigger query', () => {
    const f = render({ queries: { rps: 'sum(rate(http_requests_total{app="podinfo-primary",code="200"}[1m]))' } });
    expect(f.get('ScaledObject', 'podinfo-primary').spec.triggers[0].metadata.query).toBe('sum(rate(http_requests_total{app="podinfo-primary",code="200"}[1m]))');
  });

  it('primaryQuery: the rewrite Flagger does with a placeholder, without randomness', () => {
    expect(primaryQuery('a{app="podinfo"} + b{app="podinfo-canary"}', 'podinfo')).toBe('a{app="podinfo-primary"} + b{app="podinfo-primary"}');
    expect(primaryQuery('x{deployment="podinfo-primary"}', 'podinfo')).toBe('x{deployment="podinfo-primary-primary"}');
  });

  it('primaryScalerQueries without a ScaledObject is refused', () => {
    const app = new CanaryApp({ outdir: '/tmp/canarykit-unused-outdir' });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const canary = new Canary(chart, 'canary', { target: addTarget(chart, 'plus'), primaryScalerQueries: { rps: 'up' }, service: { port: 9898 }, provider: Provider.kubernetes(), analysis: { iterations: 5 }, stateDir: NO_STATE_DIR });
    expect(canary.validateProblems()).toEqual([{ path: 'primaryScalerQueries', message: expect.stringContaining('is only used with a KEDA ScaledObject autoscaler') }]);
  });
});
