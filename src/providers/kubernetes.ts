import { Problem } from '../errors';
import { Router, RouterInput, RoutingObject } from './router';
import { HTTP_OBSERVER } from './http-observer';
import { ProviderModule } from './module';

/** Provider kubernetes takes no options. */
export type KubernetesOptions = Record<string, never>;

/**
 * Plain Kubernetes blue/green: no routing object at all. The apex Service keeps selecting the
 * primary; the "switch" is the promotion rolling the primary to the new template (reference §2.8).
 */
export class KubernetesRouter implements Router {
  readonly provider = 'kubernetes' as const;

  validate(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    const a = input.analysis;
    if (a.match.length) problems.push({ path: 'analysis.match', message: 'provider kubernetes cannot route by request (blue/green only); remove match or use istio, nginx or gatewayApi' });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider kubernetes cannot mirror traffic; remove mirror' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider kubernetes has no session affinity; remove it' });
    return problems;
  }

  render(_input: RouterInput): RoutingObject[] {
    return [];
  }
}

/** Plain Kubernetes blue/green: no routing object, the HTTP observer. */
export const KUBERNETES = {
  name: 'kubernetes',
  capabilities: {
    flaggerName: 'kubernetes',
    shiftsWeights: false,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: false,
    forcedBlueGreenIterations: 10,
  },
  observer: HTTP_OBSERVER,
  flagger: {
    names: ['kubernetes'],
    fields: [],
    toOptions: (): KubernetesOptions => ({}),
  },
  router: (_o: KubernetesOptions) => new KubernetesRouter(),
} as const satisfies ProviderModule<'kubernetes', KubernetesOptions>;
