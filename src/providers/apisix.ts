import { userObject } from './user-object';
import { IConstruct } from 'constructs';
import { Problem } from '../errors';
import { Json, nonEmpty } from '../constructs/workload/deployment-json';
import { ApisixHttpRoute, ApisixStreamRoute, GoDecoder } from './apisix-go';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptSpec } from './adopt';
import { ProviderModule } from './module';

/** The spec of the canary ApisixRoute (apisix.apache.org/v2) Flagger's APISIX router writes. */
export interface ApisixRouteSpec {
  http: ApisixHttpRoute[];
  stream?: ApisixStreamRoute[];
}

/** Options of the APISIX provider. */
export interface ApisixOptions {
  /**
   * The user's ApisixRoute (apisix.apache.org/v2, e.g. an included object) in the canary's
   * namespace. One of its HTTP routes must have the apex Service as its only backend; canarykit
   * writes `<route>-<svc>-canary` from it, and the user's route stays as it is.
   */
  readonly route: IConstruct;
}

/** Flagger gives the canary's HTTP route this priority, so it wins over the user's (src: pkg/router/apisix.go maxPriority). */
const CANARY_PRIORITY = 10000;

/** What the canary route is made of: the user's route decoded as Flagger's Go types see it. */
interface Prepared {
  readonly problems: string[];
  readonly http?: ApisixHttpRoute;
  readonly stream: ApisixStreamRoute[];
}

/**
 * APISIX: a canary ApisixRoute `<route>-<svc>-canary` holding the user's HTTP route for the apex
 * Service with weighted primary and canary backends (src: pkg/router/apisix.go Reconcile, SetRoutes).
 */
export class ApisixRouter implements Router {
  readonly provider = 'apisix' as const;
  /** The user's ApisixRoute as JSON. */
  private readonly user: () => Json;
  private cached?: Prepared;
  constructor(opts: ApisixOptions) {
    this.user = userObject(opts.route);
  }

  get routeName(): string {
    return this.user().metadata.name;
  }


  /** The user's route decoded for the apex Service `apex`, once (a router serves one Canary). */
  private prepared(apex: string): Prepared {
    if (this.cached) return this.cached;
    const user = this.user();
    const problems: string[] = [];
    const spec = (user.spec ?? {}) as Json;
    const go = new GoDecoder();
    for (const k of Object.keys(spec)) if (k !== 'http' && k !== 'stream') go.dropped.push(`spec.${k}`);
    const httpRoutes: Json[] = Array.isArray(spec.http) ? spec.http : [];
    // getTargetHttpRoute: the first HTTP route with a backend named after the apex Service.
    const backends = (r: Json | undefined): Json[] => (Array.isArray(r?.backends) ? r!.backends : []);
    const index = httpRoutes.findIndex((r) => backends(r).some((b) => b?.serviceName === apex));
    let http: ApisixHttpRoute | undefined;
    if (httpRoutes.length === 0) problems.push(`ApisixRoute "${user.metadata.name}" has no spec.http routes (Flagger: "spec.http is empty")`);
    else if (index < 0) problems.push(`ApisixRoute "${user.metadata.name}" has no HTTP route with a backend serviceName "${apex}" (the apex Service); point one at it`);
    else if (backends(httpRoutes[index]).length !== 1) problems.push(`HTTP route "${httpRoutes[index].name}" of ApisixRoute "${user.metadata.name}" must have exactly one backend, the apex Service (Flagger supports only one)`);
    else http = go.http(httpRoutes[index], `spec.http[${index}]`);
    const stream = (Array.isArray(spec.stream) ? spec.stream : []).map((s: unknown, i: number) => go.stream(s, `spec.stream[${i}]`));
    if (go.dropped.length) {
      problems.push(`ApisixRoute "${user.metadata.name}" sets ${go.dropped.join(', ')}, which Flagger's APISIX types lack, so Flagger would leave them out of the canary ApisixRoute; canarykit does not drop them silently: remove them from this route`);
    }
    this.cached = { problems, http, stream };
    return this.cached;
  }

  validate(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    const a = input.analysis;
    const user = this.user();
    if (user.apiVersion !== 'apisix.apache.org/v2' || user.kind !== 'ApisixRoute') {
      problems.push({ path: 'provider.apisix.route', message: `must be an apisix.apache.org/v2 ApisixRoute (got ${user.apiVersion} ${user.kind})` });
      return problems;
    }
    if (user.metadata.namespace !== undefined && user.metadata.namespace !== input.namespace) {
      problems.push({ path: 'provider.apisix.route', message: `ApisixRoute "${user.metadata.name}" is in namespace "${user.metadata.namespace}"; Flagger reads it from the canary's namespace "${input.namespace}"` });
    }
    const name = `${user.metadata.name}-${input.names.apex}-canary`;
    if (name.length > 253) problems.push({ path: 'provider.apisix.route', message: `the canary ApisixRoute name "${name}" is longer than 253 characters; shorten the ApisixRoute or Service name` });
    for (const message of this.prepared(input.names.apex).problems) problems.push({ path: 'provider.apisix.route', message });
    // apisix.go writes backend weights only: SetRoutes ignores the mirror flag, there are no matches or cookies.
    if (a.match.length) problems.push({ path: 'analysis.match', message: 'provider apisix cannot route by request attributes (Flagger\'s canary ApisixRoute only splits by weight); remove match or use provider nginx or istio' });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider apisix cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider apisix has no session affinity; remove it or use provider istio or gatewayApi' });
    return problems;
  }

  /** src: pkg/router/apisix.go Reconcile updates the spec of an existing canary ApisixRoute only. */
  readonly adopt = adoptSpec;

  render(input: RouterInput): RoutingObject<'ApisixRoute', ApisixRouteSpec>[] {
    const user = this.user();
    const { http, stream } = this.prepared(input.names.apex);
    if (!http) throw new Error('internal: APISIX route rendered without a validated HTTP route');
    const primary = http.backends![0];
    const route: ApisixHttpRoute = {
      ...http,
      priority: CANARY_PRIORITY,
      backends: [
        { ...primary, serviceName: input.names.primary, weight: input.weights.primary },
        // Reconcile: the canary backend takes the primary's port, resolveGranularity and subset.
        {
          serviceName: input.names.canary,
          servicePort: primary.servicePort,
          ...(primary.resolveGranularity ? { resolveGranularity: primary.resolveGranularity } : {}),
          weight: input.weights.canary,
          ...(primary.subset ? { subset: primary.subset } : {}),
        },
      ],
    };
    return [
      {
        apiVersion: 'apisix.apache.org/v2',
        kind: 'ApisixRoute',
        // Reconcile copies the user's labels and annotations as they are.
        metadata: { name: `${user.metadata.name}-${input.names.apex}-canary`, namespace: input.namespace, labels: nonEmpty(user.metadata.labels), annotations: nonEmpty(user.metadata.annotations) },
        spec: { http: [route], ...(stream.length ? { stream } : {}) },
      },
    ];
  }
}

/** APISIX canary ApisixRoute; Flagger's apisix observer (APISIX's Prometheus plugin metrics). */
export const APISIX = {
  name: 'apisix',
  capabilities: {
    flaggerName: 'apisix',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: true,
  },
  observer: {
    name: 'apisix',
    // Query text of pkg/metrics/observers/apisix.go. APISIX names a route
    // `<namespace>_<ApisixRoute>_<http route>`; `{{ route }}` is spec.routeRef.name. The latency
    // histogram is in milliseconds, so the duration needs no factor.
    queries: {
    'request-success-rate': `
      sum(
        rate(
          apisix_http_status{
            route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+",
            code!~"5.."
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          apisix_http_status{
            route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+"
          }[{{ interval }}]
        )
      ) * 100`,
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            apisix_http_latency_bucket{
              type=~"request",
              route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+"
            }[{{ interval }}]
          )
        ) by (le)
      )`,
    },
  },
  flagger: {
    names: ['apisix'],
    fields: [['routeRef']],
    ref: { field: 'routeRef', group: 'apisix.apache.org', kind: 'ApisixRoute', purpose: 'the ApisixRoute whose HTTP route sends traffic to the apex Service' },
    toOptions: (_spec, { ref }): ApisixOptions => {
      if (!ref) throw new Error('internal: apisix canary without a resolved routeRef');
      return { route: ref };
    },
  },
  router: (o: ApisixOptions) => new ApisixRouter(o),
} as const satisfies ProviderModule<'apisix', ApisixOptions>;
