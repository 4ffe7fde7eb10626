import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { Problem } from '../errors';
import { Json, nonEmpty } from '../constructs/workload/deployment-json';
import { HttpMatch } from '../constructs/match';
import { copyUpstreamConfig } from './gloo-upstream';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptAsIs, adoptReplace } from './adopt';
import { ProviderModule, Unsupported } from './module';
import { envoyQueries } from './envoy-observer';
import type { FlaggerCanarySpec } from '../compile/flagger-types';

// RouteTable (gateway.solo.io/v1) and Upstream (gloo.solo.io/v1) as Flagger's
// pkg/apis/gloogateway/v1 and pkg/apis/gloo/v1 serialize them: Go `omitempty` everywhere, so a
// zero weight, an empty value and a false `regex` are left out.

interface HeaderMatcher {
  name: string;
  value?: string;
  regex?: boolean;
}
interface Matcher {
  headers?: HeaderMatcher[];
  methods?: string[];
}
interface WeightedDestination {
  destination: { upstream: { name: string; namespace: string } };
  weight?: number;
}
/** The spec of the RouteTable Flagger's Gloo router writes. */
export interface RouteTableSpec {
  routes: { matchers?: Matcher[]; routeAction: { multi: { destinations: WeightedDestination[] } }; inheritablePathMatchers: boolean }[];
}
/** The spec of the Upstreams Flagger's Gloo router writes: the copied settings and `kube`. */
export interface UpstreamSpec {
  kube: { serviceName: string; serviceNamespace: string; servicePort: number; selector: Record<string, string> };
  [copied: string]: unknown;
}

/** A config Upstream given as its manifest (what `canarykit compile` reads from the inputs). */
export interface GlooUpstreamManifest {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: Record<string, unknown>;
}

/** Options of the Gloo provider (a RouteTable `<svc>` your VirtualService delegates to). */
export interface GlooOptions {
  /**
   * The Upstream whose settings (sslConfig, circuitBreakers, connectionConfig,
   * loadBalancerConfig, useHttp2, initial window sizes) are copied into the generated Upstreams,
   * as Flagger's `spec.upstreamRef` does: an Upstream in your app (ApiObject, Include) or its manifest.
   * @default - none: the generated Upstreams carry only the Kubernetes service
   */
  readonly upstreamRef?: IConstruct | GlooUpstreamManifest;
}

const ROUTE_TABLE_API = 'gateway.solo.io/v1';
const UPSTREAM_API = 'gloo.solo.io/v1';

/**
 * Gloo Edge: a RouteTable `<svc>` with one weighted route to two Upstreams Flagger creates for the
 * primary and canary Services (src: pkg/router/gloo.go Reconcile, SetRoutes, createFlaggerUpstream).
 */
export class GlooRouter implements Router {
  readonly provider = 'gloo' as const;
  constructor(private readonly opts: GlooOptions = {}) {}

  private cached?: Json | null;

  /** The config Upstream as JSON, read once at synth (the app is configured by then). */
  private configUpstream(): Json | undefined {
    const ref = this.opts.upstreamRef;
    if (this.cached === undefined) this.cached = ref === undefined ? null : Construct.isConstruct(ref) ? (ApiObject.of(ref).toJson() as Json) : (ref as Json);
    return this.cached ?? undefined;
  }

  validate(input: RouterInput): Problem[] {
    const a = input.analysis;
    const problems: Problem[] = [];
    // gloo.go SetRoutes takes no mirror flag, and nothing there handles cookies.
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider gloo cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider gloo has no session affinity; remove it or use provider istio or gatewayApi' });
    a.match.forEach((m, i) => {
      const other = Object.keys(m).filter((k) => k !== 'headers' && k !== 'method');
      if (other.length) problems.push({ path: `analysis.match[${i}]`, message: `provider gloo matches headers and method only (Flagger's getMatchers reads nothing else); remove ${other.join(', ')}` });
      for (const [h, sm] of Object.entries(m.headers ?? {})) {
        // getHeaderMatchers writes `exact` as the value, `regex` with regex: true; a prefix would
        // become an empty value, which Gloo reads as "header present": not what was asked.
        if (sm.exact === undefined && sm.regex === undefined) problems.push({ path: `analysis.match[${i}].headers.${h}`, message: 'provider gloo matches headers with exact or regex only (Flagger turns a prefix into a header-present check)' });
      }
      if (m.method && m.method.exact === undefined) problems.push({ path: `analysis.match[${i}].method`, message: 'provider gloo matches the method exactly only (Flagger reads method.exact)' });
    });
    const upstream = this.configUpstream();
    if (upstream) {
      const where = 'provider.gloo.upstreamRef';
      if (upstream.kind !== 'Upstream' || (upstream.apiVersion !== undefined && upstream.apiVersion !== UPSTREAM_API)) {
        problems.push({ path: where, message: `must be a ${UPSTREAM_API} Upstream (got ${upstream.apiVersion ?? '?'} ${upstream.kind ?? '?'})` });
      } else {
        problems.push(...copyUpstreamConfig(upstream.spec, where).problems);
      }
    }
    for (const name of Object.values(upstreamNames(input))) {
      if (name.length > 253) problems.push({ path: 'service', message: `the Upstream name "${name}" (<namespace>-<service>-<kind>upstream-<port>, Flagger's naming) is longer than 253 characters; shorten the service name` });
    }
    return problems;
  }

  /**
   * src: pkg/router/gloo.go. Reconcile replaces spec, labels and annotations of an existing
   * RouteTable; createFlaggerUpstream leaves an existing Upstream alone but for syncUpstreamSpec,
   * which patches in the config Upstream's loadBalancerConfig when there is one.
   */
  adopt(generated: RoutingObject, existing: Json): RoutingObject {
    if (generated.kind === 'RouteTable') return adoptReplace(generated, existing);
    const kept = adoptAsIs(generated, existing);
    const lb = (generated.spec as Json | undefined)?.loadBalancerConfig;
    return lb === undefined ? kept : { ...kept, spec: { ...(kept.spec as Json), loadBalancerConfig: lb } };
  }

  render(input: RouterInput): RoutingObject[] {
    const { names, namespace, weights, port } = input;
    const upstreams = upstreamNames(input);
    const destination = (name: string, weight: number): WeightedDestination => ({ destination: { upstream: { name, namespace } }, ...(weight ? { weight } : {}) });
    const matchers = glooMatchers(input.analysis.match);
    const routeTable: RoutingObject<'RouteTable', RouteTableSpec> = {
      apiVersion: ROUTE_TABLE_API,
      kind: 'RouteTable',
      metadata: { name: names.apex, namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
      spec: {
        routes: [
          {
            ...(matchers ? { matchers } : {}),
            routeAction: { multi: { destinations: [destination(upstreams.primary, weights.primary), destination(upstreams.canary, weights.canary)] } },
            inheritablePathMatchers: true,
          },
        ],
      },
    };
    const copied = copyUpstreamConfig(this.configUpstream()?.spec, '').spec;
    const selector = input.selector;
    const upstream = (name: string, service: string, selectorValue: string): RoutingObject<'Upstream', UpstreamSpec> => ({
      apiVersion: UPSTREAM_API,
      kind: 'Upstream',
      // Labels come from spec.labels filtered by -include-label-prefix, which the Gloo router is
      // never given: always none.
      metadata: { name, namespace },
      spec: { ...copied, kube: { serviceName: service, serviceNamespace: namespace, servicePort: port, selector: selector ? { [selector.key]: selectorValue } : {} } },
    });
    const value = selector?.value ?? '';
    return [routeTable, upstream(upstreams.primary, names.primary, `${value}-primary`), upstream(upstreams.canary, names.canary, value)];
  }
}

/** Flagger's Upstream names: `<namespace>-<apex>-{primary,canary}upstream-<port>`. */
function upstreamNames(input: RouterInput): { primary: string; canary: string } {
  const base = `${input.namespace}-${input.names.apex}`;
  return { primary: `${base}-primaryupstream-${input.port}`, canary: `${base}-canaryupstream-${input.port}` };
}

/**
 * getMatchers: every header of every match, then every method, in one matcher, so several match
 * entries are ANDed (Istio ORs them). Headers sorted by name: Flagger iterates a Go map.
 */
function glooMatchers(matches: readonly HttpMatch[]): Matcher[] | undefined {
  const headers: HeaderMatcher[] = matches.flatMap((m) =>
    Object.entries(m.headers ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, sm]): HeaderMatcher => (sm.regex ? { name, value: sm.regex, regex: true } : { name, ...(sm.exact ? { value: sm.exact } : {}) })),
  );
  const methods = matches.flatMap((m) => (m.method ? [m.method.exact ?? ''] : []));
  if (!headers.length && !methods.length) return undefined;
  return [{ ...(headers.length ? { headers } : {}), ...(methods.length ? { methods } : {}) }];
}

/** spec.upstreamRef: Flagger gets the Upstream by name in the ref's namespace. */
function upstreamRefProblems(spec: FlaggerCanarySpec): Unsupported[] {
  const ref = spec.upstreamRef;
  if (!ref) return [];
  const out: Unsupported[] = [];
  // Flagger's CRD holds kind to Upstream; the apiVersion is not read (getGlooConfigUpstream asks the
  // gloo.solo.io/v1 client), so neither is checked here.
  // getGlooConfigUpstream asks for namespace "" when none is set, which finds nothing and stops the canary.
  if (!ref.namespace) out.push({ segments: ['spec', 'upstreamRef', 'namespace'], message: "must be set: Flagger does not default it to the Canary's namespace and fails to find the Upstream" });
  return out;
}

/** Gloo Edge RouteTable and Upstreams; Flagger's gloo observer (Envoy cluster metrics). */
export const GLOO = {
  name: 'gloo',
  capabilities: {
    flaggerName: 'gloo',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: ['headers', 'method'],
    promotionSteps: true,
  },
  // observers/factory.go matches the gloo prefix, so `gloo:service` keeps this observer.
  observerMatchesServiceSuffix: true,
  observer: {
    name: 'gloo',
    // Query text of pkg/metrics/observers/gloo.go, trailing commas included (PromQL allows them).
    // Gloo names the Envoy cluster of an Upstream `<upstream>_<upstream namespace>`; Envoy's
    // upstream_rq_time is in milliseconds already: no `* 1000`.
    queries: envoyQueries(['envoy_cluster_name=~"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+"'], true),
  },
  flagger: {
    names: ['gloo'],
    namePrefix: 'gloo',
    fields: [['upstreamRef']],
    references: [{ field: 'upstreamRef', group: 'gloo.solo.io', kind: 'Upstream' }],
    unsupported: upstreamRefProblems,
    toOptions: (_spec, { references }): GlooOptions => (references.upstreamRef ? { upstreamRef: references.upstreamRef as GlooUpstreamManifest } : {}),
  },
  router: (o: GlooOptions) => new GlooRouter(o),
} as const satisfies ProviderModule<'gloo', GlooOptions>;
