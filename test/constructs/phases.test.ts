import { describe, expect, it } from 'vitest';
import {
  IMAGE_NEW,
  NS,
  PROVIDERS,
  ProviderKind,
  RenderedFolder,
  TARGET,
  USER_REPLICAS,
  phaseCases,
  render,
  routeWeights,
  stage,
} from '../support/construct-fixtures';

/** Kinds (and names) each provider adds besides the workloads and Services. */
const ROUTING_OBJECTS: Record<ProviderKind, string[]> = {
  istio: ['DestinationRule/podinfo-canary', 'DestinationRule/podinfo-primary', 'VirtualService/podinfo'],
  nginx: ['Ingress/podinfo', 'Ingress/podinfo-canary'],
  gatewayApi: ['HTTPRoute/podinfo'],
  kubernetes: [],
};

const WORKLOAD_OBJECTS = ['Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary'];

const image = (d: Record<string, any>): string => d.spec.template.spec.containers[0].image;

function checkCommon(f: RenderedFolder, c: ReturnType<typeof phaseCases>[number]): void {
  // The target: the user's template untouched, replicas 0 at rest and the user's count in a rollout.
  const target = f.get('Deployment', TARGET);
  expect(target.spec.replicas).toBe(c.targetUp ? USER_REPLICAS : 0);
  expect(image(target)).toBe(IMAGE_NEW);
  expect(target.spec.selector).toEqual({ matchLabels: { app: TARGET } });

  // The primary: from the state's snapshot, Flagger's label rewriting.
  const primary = f.get('Deployment', `${TARGET}-primary`);
  expect(image(primary)).toBe(c.primaryImage);
  expect(primary.metadata.labels).toEqual({ app: 'podinfo-primary' });
  expect(primary.spec.selector).toEqual({ matchLabels: { app: 'podinfo-primary' } });
  expect(primary.spec.template.metadata.labels).toEqual({ app: 'podinfo-primary' });
  expect(primary.spec.replicas).toBe(USER_REPLICAS);
  expect(primary.spec.template.metadata.annotations['flagger-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);

  // Services: apex and primary select the primary, the canary Service the target; never the other way.
  expect(f.get('Service', 'podinfo').spec.selector).toEqual({ app: 'podinfo-primary' });
  expect(f.get('Service', 'podinfo-primary').spec.selector).toEqual({ app: 'podinfo-primary' });
  expect(f.get('Service', 'podinfo-canary').spec.selector).toEqual({ app: 'podinfo' });

  for (const o of f.objects) expect(o.metadata.namespace).toBe(NS);
}

describe.each(PROVIDERS)('provider %s across the phases of a run', (provider) => {
  it.each(phaseCases().map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const f = render({ provider, state: c.state });

    const kinds = f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual([...WORKLOAD_OBJECTS, ...ROUTING_OBJECTS[provider]].sort());
    expect(f.kustomization.resources).toEqual([...f.files.keys()].filter((n) => n !== 'kustomization.yaml' && n !== 'canary.plan.json').sort());

    checkCommon(f, c);
    expect(routeWeights(provider, f)).toEqual(
      provider === 'kubernetes' ? { primary: 100, canary: 0 } : { primary: c.primaryWeight, canary: c.canaryWeight },
    );
    expect(f.plan?.strategy).toBe(provider === 'kubernetes' ? 'blue-green' : 'canary');

    if (provider === 'istio') {
      const vs = f.get('VirtualService', 'podinfo');
      expect(vs.spec.http).toHaveLength(1);
      expect(vs.spec.http[0].route.map((r: any) => r.destination.host)).toEqual(['podinfo-primary', 'podinfo-canary']);
      expect(vs.spec.http[0].mirror).toBeUndefined();
    }
    if (provider === 'nginx') {
      const ann = f.get('Ingress', 'podinfo-canary').metadata.annotations;
      expect(ann['nginx.ingress.kubernetes.io/canary']).toBe('true');
      expect(ann['nginx.ingress.kubernetes.io/canary-weight']).toBe(String(c.canaryWeight));
      expect(Object.keys(ann).filter((k) => k.includes('canary-by'))).toEqual([]);
    }
    if (provider === 'gatewayApi') {
      const rules = f.get('HTTPRoute', 'podinfo').spec.rules;
      expect(rules).toHaveLength(1);
      expect(rules[0].backendRefs.map((b: any) => b.name)).toEqual(['podinfo-primary', 'podinfo-canary']);
    }
  });
});

describe('stage-specific routing', () => {
  const progressing = stage('Progressing', { canaryWeight: 20 });
  it('the A/B switch (0/100) leaves non-matching traffic on the primary', () => {
    const state = progressing;
    const f = render({
      provider: 'istio',
      analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
      state: { ...state, canaryWeight: 100 },
    });
    const http = f.get('VirtualService', 'podinfo').spec.http;
    expect(http[0].route.map((r: any) => r.weight)).toEqual([0, 100]);
    expect(http[1].route).toEqual([{ destination: { host: 'podinfo-primary' }, weight: 0 }]);
    expect(f.plan?.strategy).toBe('ab-testing');
  });

  it('a blue/green run on Gateway API switches all traffic to the canary', () => {
    const f = render({ provider: 'gatewayApi', analysis: { iterations: 5 }, state: { ...progressing, canaryWeight: 100 } });
    expect(routeWeights('gatewayApi', f)).toEqual({ primary: 0, canary: 100 });
    expect(f.plan?.strategy).toBe('blue-green');
  });

  it('scales the target from zero with the primary replicas when the target has none', () => {
    const f = render({ podinfo: { replicas: null }, state: progressing });
    expect(f.get('Deployment', TARGET).spec.replicas).toBe(USER_REPLICAS);
  });

  it('scales the target from zero with the HPA minReplicas when autoscaled and the target has no replicas', () => {
    const f = render({ podinfo: { replicas: null }, hpa: true, state: progressing });
    expect(f.get('Deployment', TARGET).spec.replicas).toBe(2);
  });

  it('keeps the target at 0 in Waiting (confirm-rollout not yet passed)', () => {
    const f = render({ state: { ...progressing, phase: 'Waiting', canaryWeight: 0 } });
    expect(f.get('Deployment', TARGET).spec.replicas).toBe(0);
    expect(routeWeights('istio', f)).toEqual({ primary: 100, canary: 0 });
  });
});
