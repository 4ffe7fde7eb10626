import { Problem } from '../errors';
import { nonEmpty } from '../constructs/workload/deployment-json';
import { Router, RouterInput, RoutingObject } from './router';
import { ProviderModule } from './module';

// TraefikService (traefik.io/v1alpha1) as Flagger's pkg/apis/traefik/v1alpha1 serializes it.

interface WeightedService {
  name: string;
  namespace: string;
  port: number;
  /** Go `omitempty`: a zero weight is left out (Traefik then applies its default weight, 1). */
  weight?: number;
}
/** The spec of the TraefikService Flagger's Traefik router writes. */
export interface TraefikServiceSpec {
  weighted: { services: WeightedService[] };
}

/**
 * Options of the Traefik provider. There are none: the TraefikService `<svc>` holds only the
 * weights, and your IngressRoute sends traffic to it (`services: [{ kind: TraefikService, name: <svc> }]`).
 */
export interface TraefikOptions {}

/** Traefik: one TraefikService `<svc>` with a weighted round robin (src: pkg/router/traefik.go). */
export class TraefikRouter implements Router {
  readonly provider = 'traefik' as const;

  validate(input: RouterInput): Problem[] {
    const a = input.analysis;
    const problems: Problem[] = [];
    // traefik.go only writes weights: SetRoutes ignores the mirror flag, there are no matches or cookies.
    if (a.match.length) problems.push({ path: 'analysis.match', message: 'provider traefik cannot route by request attributes (Flagger\'s TraefikService only holds weights); remove match or use provider contour, nginx or istio' });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider traefik cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider traefik has no session affinity; remove it or use provider istio or gatewayApi' });
    return problems;
  }

  render(input: RouterInput): RoutingObject<'TraefikService', TraefikServiceSpec>[] {
    const { names, weights, namespace, port } = input;
    const service = (name: string, weight: number): WeightedService => ({ name, namespace, port, ...(weight ? { weight } : {}) });
    // SetRoutes lists the canary only while it takes traffic; Reconcile creates the object with the primary alone.
    const services = [service(names.primary, weights.primary)];
    if (weights.canary > 0) services.push(service(names.canary, weights.canary));
    return [
      {
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'TraefikService',
        metadata: { name: names.apex, namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
        spec: { weighted: { services } },
      },
    ];
  }
}

/** Traefik TraefikService; Flagger's traefik observer (Traefik's service metrics). */
export const TRAEFIK = {
  name: 'traefik',
  capabilities: {
    flaggerName: 'traefik',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: true,
  },
  observer: {
    name: 'traefik',
    // Query text of pkg/metrics/observers/traefik.go. The request counts are the `le="+Inf"`
    // buckets of the duration histogram; the duration is seconds, hence `* 1000`.
    queries: {
    'request-success-rate': `
      sum(
        rate(
          traefik_service_request_duration_seconds_bucket{
            service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd",
            code!~"5..",
            le="+Inf"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          traefik_service_request_duration_seconds_bucket{
            service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd",
            le="+Inf"
          }[{{ interval }}]
        )
      ) * 100`,
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            traefik_service_request_duration_seconds_bucket{
              service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd"
            }[{{ interval }}]
          )
        ) by (le)
      ) * 1000`,
    },
  },
  flagger: {
    names: ['traefik'],
    fields: [],
    toOptions: (): TraefikOptions => ({}),
  },
  router: (_o: TraefikOptions) => new TraefikRouter(),
} as const satisfies ProviderModule<'traefik', TraefikOptions>;
