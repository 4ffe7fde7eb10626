import { Problem } from '../errors';
import { nonEmpty } from '../constructs/workload/deployment-json';
import { Router, RouterInput, RoutingObject } from './router';
import { ProviderModule } from './module';
import { envoyQueries } from './envoy-observer';

// TrafficRoute (kuma.io/v1alpha1) as Flagger's pkg/apis/kuma/v1alpha1 serializes it. The CRD
// gives `spec` no schema; the shape follows Kuma's TrafficRoute proto (sources, destinations,
// conf.split), and test/constructs/kuma.test.ts checks it against that.

/** Tags selecting data plane proxies or services (`kuma.io/service`). */
interface Selector {
  match: Record<string, string>;
}
interface Split {
  /** Not `omitempty` in Flagger's type: a weight of 0 is written. */
  weight: number;
  destination: Record<string, string>;
}
/** The spec of the TrafficRoute Flagger's Kuma router writes. */
export interface TrafficRouteSpec {
  sources: Selector[];
  destinations: Selector[];
  conf: { split: Split[] };
}
/** A TrafficRoute: cluster-scoped (no namespace), with the mesh as a top-level field. */
type TrafficRoute = RoutingObject<'TrafficRoute', TrafficRouteSpec> & { readonly mesh: string };

/** Flagger's annotation on the Canary naming the Kuma mesh (src: pkg/router/kuma.go Reconcile). */
export const KUMA_MESH_ANNOTATION = 'kuma.io/mesh';

/** Options of the Kuma provider. */
export interface KumaOptions {
  /**
   * The Kuma mesh of the TrafficRoute (Flagger takes it from the Canary's `kuma.io/mesh` annotation).
   * @default 'default'
   */
  readonly mesh?: string;
}

/** Kuma's service tag of a Kubernetes Service port: `<service>_<namespace>_svc_<port>`. */
const serviceTag = (name: string, namespace: string, port: number): Record<string, string> => ({ 'kuma.io/service': `${name}_${namespace}_svc_${port}` });

/** Kuma: one cluster-scoped TrafficRoute `<svc>` splitting the apex service (src: pkg/router/kuma.go). */
export class KumaRouter implements Router {
  readonly provider = 'kuma' as const;
  private readonly mesh: string;
  constructor(opts: KumaOptions) {
    this.mesh = opts.mesh ?? 'default';
  }

  validate(input: RouterInput): Problem[] {
    const a = input.analysis;
    const problems: Problem[] = [];
    if (this.mesh === '') problems.push({ path: 'provider.kuma.mesh', message: 'must name a Kuma mesh (in Flagger YAML: the Canary\'s kuma.io/mesh annotation); leave it unset for the mesh "default"' });
    // kuma.go writes weights only: no matches, SetRoutes ignores the mirror flag, no cookies.
    if (a.match.length) problems.push({ path: 'analysis.match', message: 'provider kuma cannot route by request attributes (Flagger\'s TrafficRoute only splits by weight); remove match or use provider istio' });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider kuma cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider kuma has no session affinity; remove it or use provider istio or gatewayApi' });
    return problems;
  }

  render(input: RouterInput): TrafficRoute[] {
    const { names, weights, namespace, port } = input;
    return [
      {
        apiVersion: 'kuma.io/v1alpha1',
        kind: 'TrafficRoute',
        // Cluster-scoped: Flagger names it after the apex Service and sets no namespace (nor an owner).
        metadata: { name: names.apex, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
        mesh: this.mesh,
        spec: {
          sources: [{ match: { 'kuma.io/service': '*' } }],
          destinations: [{ match: serviceTag(names.apex, namespace, port) }],
          // Reconcile writes 100/0, SetRoutes the stage's weights; both entries always.
          conf: {
            split: [
              { weight: weights.primary, destination: serviceTag(names.primary, namespace, port) },
              { weight: weights.canary, destination: serviceTag(names.canary, namespace, port) },
            ],
          },
        },
      },
    ];
  }
}

/** Kuma TrafficRoute; Flagger's kuma observer (Envoy cluster metrics of the canary's service tag). */
export const KUMA = {
  name: 'kuma',
  capabilities: {
    flaggerName: 'kuma',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: true,
  },
  observer: {
    name: 'kuma',
    // Query text of pkg/metrics/observers/kuma.go, trailing commas included (PromQL accepts them).
    // Envoy reports milliseconds, so the duration needs no factor.
    queries: envoyQueries(['service=~"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+"'], true),
  },
  flagger: {
    names: ['kuma'],
    fields: [],
    toOptions: (_spec, { annotations }): KumaOptions => {
      const mesh = annotations[KUMA_MESH_ANNOTATION];
      return mesh === undefined ? {} : { mesh };
    },
  },
  router: (o: KumaOptions) => new KumaRouter(o),
} as const satisfies ProviderModule<'kuma', KumaOptions>;
