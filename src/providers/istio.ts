import { Duration } from 'cdk8s';
import { Problem } from '../errors';
import { HttpMatch } from '../constructs/match';
import { nonEmpty } from '../constructs/workload/deployment-json';
import { canaryCookieHeader, cookieRegex } from './cookies';
import { formatDuration } from './durations';
import type {
  DestinationRuleSpec,
  VirtualServiceSpec,
  VirtualServiceSpecTcp,
  VirtualServiceSpecHttp,
  VirtualServiceSpecHttpCorsPolicy,
  VirtualServiceSpecHttpRoute,
  VirtualServiceSpecHttpRouteDestination,
} from '../../imports/istio-networking.istio.io';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptReplace, adoptSpec, adoptWith } from './adopt';
import { Json } from '../constructs/workload/deployment-json';

type IstioObject = RoutingObject<'DestinationRule', DestinationRuleSpec> | RoutingObject<'VirtualService', VirtualServiceSpec>;
import { toMatch } from '../compile/flagger-match';
import { ProviderModule } from './module';

import type { HeaderOperations } from './header-operations';
export type { HeaderOperations };

/** Istio retry policy. */
export interface RetryOptions {
  /** Retries per request. @default - Istio's default */
  readonly attempts?: number;
  /** Timeout of each attempt. @default - Istio's default */
  readonly perTryTimeout?: Duration;
  /** Conditions that trigger a retry, e.g. `gateway-error,connect-failure,refused-stream`. @default - Istio's default */
  readonly retryOn?: string;
}

/** Options of the Istio provider (Flagger's `service.*` fields that Istio uses). */
export interface IstioOptions {
  /** Gateways the VirtualService binds to; `mesh` means in-mesh callers. @default ['mesh'] */
  readonly gateways?: string[];
  /** Hosts; the apex Service name is always added unless `*` is present. @default - apex name only */
  readonly hosts?: string[];
  /** Copied into both DestinationRules. @default - none */
  readonly trafficPolicy?: Record<string, unknown>;
  /** Matches applied to every generated route. @default - all requests */
  readonly match?: HttpMatch[];
  /** Rewrite of the path (`uri`) or Host (`authority`) before forwarding. @default - none */
  readonly rewrite?: { uri?: string; authority?: string };
  /** Retry policy of every route. @default - none */
  readonly retries?: RetryOptions;
  /** Route timeout. @default - none */
  readonly timeout?: Duration;
  /** Header changes of every route. @default - none */
  readonly headers?: HeaderOperations;
  /** Istio CorsPolicy, passed through. @default - none */
  readonly corsPolicy?: Record<string, unknown>;
  /** Render a delegate VirtualService (no hosts, no gateways). @default false */
  readonly delegation?: boolean;
}

const API_VERSION = 'networking.istio.io/v1beta1';

/** istio.go isTcp: the Service's appProtocol is tcp (any case). */
const isTcp = (input: RouterInput): boolean => input.appProtocol?.toLowerCase() === 'tcp';

const KUBECTL_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Cross product of analysis and service matches (Flagger's merge rule, reference §2.6). */
export function mergeMatches(analysis: readonly HttpMatch[], service: readonly HttpMatch[]): HttpMatch[] {
  if (service.length === 0) return [...analysis];
  const out: HttpMatch[] = [];
  for (const a of analysis) {
    for (const s of service) {
      // istio.go mergeMatchConditions: the service match, with the analysis headers and sourceLabels where set.
      out.push({ ...s, ...(a.headers ? { headers: a.headers } : {}), ...(a.sourceLabels ? { sourceLabels: a.sourceLabels } : {}) });
    }
  }
  return out;
}

/** Istio: `<svc>-primary`/`<svc>-canary` DestinationRules and the weighted `<svc>` VirtualService. */
export class IstioRouter implements Router {
  readonly provider = 'istio' as const;
  constructor(private readonly opts: IstioOptions = {}) {}

  validate(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    if (this.opts.delegation && (this.opts.hosts?.length || this.opts.gateways?.length)) {
      problems.push({ path: 'provider.istio.delegation', message: 'a delegate VirtualService cannot set hosts or gateways; remove them or set delegation: false' });
    }
    if (isTcp(input)) problems.push(...this.tcpProblems(input));
    return problems;
  }

  /**
   * istio.go with `appProtocol: tcp` writes one weighted TCP route and reads nothing HTTP: an A/B
   * match there would send everyone to the canary at the A/B weight of 100, so what Flagger would
   * ignore is refused instead.
   */
  private tcpProblems(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    const why = 'with service.appProtocol tcp Istio routes TCP by weight only (Flagger ignores it)';
    const a = input.analysis;
    if (a.match.length) problems.push({ path: 'analysis.match', message: `cannot route by request attributes ${why}; remove match` });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: `cannot mirror ${why}; remove mirror` });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: `has no cookies ${why}; remove it` });
    for (const key of ['rewrite', 'retries', 'timeout', 'headers', 'corsPolicy'] as const) {
      if (this.opts[key] !== undefined) problems.push({ path: `provider.istio.${key}`, message: `is an HTTP setting; ${why}; remove it` });
    }
    (this.opts.match ?? []).forEach((m, i) => {
      const other = Object.keys(m).filter((k) => k !== 'port');
      if (other.length) problems.push({ path: `provider.istio.match[${i}]`, message: `a TCP route matches on port only (canaryToL4Match); remove ${other.join(', ')}` });
    });
    return problems;
  }

  render(input: RouterInput): IstioObject[] {
    const { names, namespace } = input;
    const dr = (name: string): IstioObject => ({
      apiVersion: API_VERSION,
      kind: 'DestinationRule',
      metadata: { name, namespace },
      spec: { host: name, trafficPolicy: this.opts.trafficPolicy },
    });
    const vs: RoutingObject<'VirtualService', VirtualServiceSpec> = {
      apiVersion: API_VERSION,
      kind: 'VirtualService',
      metadata: { name: names.apex, namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
      spec: {
        hosts: this.opts.delegation ? [] : this.hosts(names.apex),
        gateways: this.opts.delegation ? [] : this.gateways(),
        ...(isTcp(input) ? { tcp: [this.tcpRoute(input)] } : { http: this.httpRoutes(input) }),
      },
    };
    return [dr(names.canary), dr(names.primary), vs];
  }

  /**
   * src: pkg/router/istio.go reconcileDestinationRule updates the spec alone; reconcileVirtualService
   * sets spec, labels and annotations but carries kubectl's last-applied-configuration annotation over.
   * (Flagger also records the replaced spec in flagger.kubernetes.io/original-configuration, for
   * Finalize to restore; in git the original is the input itself, so that annotation is not written.)
   */
  adopt(generated: RoutingObject, existing: Json): RoutingObject {
    if (generated.kind === 'DestinationRule') return adoptSpec(generated, existing);
    const kept = existing.metadata?.annotations?.[KUBECTL_LAST_APPLIED];
    if (kept === undefined) return adoptReplace(generated, existing);
    return adoptWith(generated, existing, generated.metadata.labels, { ...generated.metadata.annotations, [KUBECTL_LAST_APPLIED]: kept });
  }

  /** reconcileVirtualService / SetRoutes for TCP: the service matches' ports, then the weighted route. */
  private tcpRoute(input: RouterInput): VirtualServiceSpecTcp {
    const { names, weights } = input;
    // canaryToL4Match: one L4 match per service match, with only its port (omitempty).
    const match = (this.opts.match ?? []).map((m) => (m.port ? { port: m.port } : {}));
    return {
      match: match.length ? match : undefined,
      route: [
        { destination: this.destination(names.primary, input), weight: weights.primary },
        { destination: this.destination(names.canary, input), weight: weights.canary },
      ],
    };
  }

  private hosts(apex: string): string[] {
    const hosts = [...(this.opts.hosts ?? [])];
    if (!hosts.includes(apex) && !hosts.includes('*')) hosts.push(apex);
    return hosts;
  }

  private gateways(): string[] {
    return this.opts.gateways?.length ? [...this.opts.gateways] : ['mesh'];
  }

  private destination(host: string, input: RouterInput): VirtualServiceSpecHttpRouteDestination {
    const pinPort = input.portDiscovery && (this.gateways()[0] !== 'mesh' || this.opts.delegation);
    return { host, port: pinPort ? { number: input.port } : undefined };
  }

  /** Fields every generated http route shares. */
  private base(match: readonly HttpMatch[] | undefined): VirtualServiceSpecHttp {
    const o = this.opts;
    return {
      match: match && match.length > 0 ? [...match] : undefined,
      rewrite: o.rewrite,
      timeout: formatDuration(o.timeout),
      retries: o.retries && {
        attempts: o.retries.attempts,
        perTryTimeout: formatDuration(o.retries.perTryTimeout),
        retryOn: o.retries.retryOn,
      },
      // Passed through as the user wrote it (Istio's CorsPolicy).
      corsPolicy: o.corsPolicy as VirtualServiceSpecHttpCorsPolicy | undefined,
      headers: o.headers,
    };
  }

  private httpRoutes(input: RouterInput): VirtualServiceSpecHttp[] {
    const { names, weights, analysis } = input;
    const serviceMatch = this.opts.match ?? [];
    type Extra = Partial<VirtualServiceSpecHttpRoute>;
    const primary = (weight: number, extra?: Extra): VirtualServiceSpecHttpRoute => ({ destination: this.destination(names.primary, input), weight, ...extra });
    const canary = (weight: number, extra?: Extra): VirtualServiceSpecHttpRoute => ({ destination: this.destination(names.canary, input), weight, ...extra });

    if (analysis.match.length > 0) {
      return [
        { ...this.base(mergeMatches(analysis.match, serviceMatch)), route: [primary(weights.primary), canary(weights.canary)] },
        { ...this.base(serviceMatch), route: [primary(weights.primary)] },
      ];
    }

    let weighted: VirtualServiceSpecHttp = { ...this.base(serviceMatch), route: [primary(weights.primary), canary(weights.canary)] };
    if (weights.mirror) {
      weighted = { ...weighted, mirror: { host: names.canary }, ...(analysis.mirrorWeight > 0 ? { mirrorPercentage: { value: analysis.mirrorWeight } } : {}) };
    }

    const affinity = analysis.sessionAffinity;
    const cookies = input.cookies;
    if (!affinity || !cookies) return [weighted];
    const sticky = (cookie: string): HttpMatch[] => mergeMatches([{ headers: { Cookie: { regex: cookieRegex(cookie) } } }], serviceMatch);
    if (weights.canary > 0 && cookies.cookie) {
      const routes: VirtualServiceSpecHttp[] = [{ ...this.base(sticky(cookies.cookie)), route: [primary(0), canary(100)] }];
      if (affinity.primaryCookieName && cookies.primaryCookie) {
        routes.push({ ...this.base(sticky(cookies.primaryCookie)), route: [primary(100), canary(0)] });
      }
      const setCookie = (value: string, maxAge: number): Extra => ({ headers: { response: { add: { 'Set-Cookie': canaryCookieHeader(value, maxAge, affinity) } } } });
      weighted = {
        ...weighted,
        route: [
          primary(weights.primary, affinity.primaryCookieName && cookies.primaryCookie ? setCookie(cookies.primaryCookie, analysis.intervalSeconds) : undefined),
          canary(weights.canary, setCookie(cookies.cookie, affinity.maxAge)),
        ],
      };
      routes.push(weighted);
      return routes;
    }
    if (cookies.previousCookie) {
      return [
        {
          ...this.base(sticky(cookies.previousCookie)),
          headers: { ...this.opts.headers, response: { ...this.opts.headers?.response, add: { ...this.opts.headers?.response?.add, 'Set-Cookie': `${cookies.previousCookie}; Max-Age=-1` } } },
          route: [primary(100), canary(0)],
        },
        weighted,
      ];
    }
    return [weighted];
  }
}

/** Istio: DestinationRules and a weighted VirtualService; Flagger's istio observer (istio.go). */
export const ISTIO = {
  name: 'istio',
  capabilities: {
    flaggerName: 'istio',
    shiftsWeights: true,
    mirroring: true,
    sessionAffinity: true,
    matchKinds: ['uri', 'method', 'headers', 'queryParams', 'scheme', 'authority', 'sourceLabels', 'port', 'name', 'ignoreUriCase', 'withoutHeaders', 'sourceNamespace', 'gateways'],
    promotionSteps: true,
  },
  observer: {
    name: 'istio',
    // Query text kept byte for byte (plans carry it; the Prometheus client collapses whitespace).
    queries: {
    'request-success-rate': `
      sum(
        rate(
          istio_requests_total{
            reporter="destination",
            destination_workload_namespace="{{ namespace }}",
            destination_workload=~"{{ target }}",
            response_code!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          istio_requests_total{
            reporter="destination",
            destination_workload_namespace="{{ namespace }}",
            destination_workload=~"{{ target }}"
          }[{{ interval }}]
        )
      )
      * 100`,
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            istio_request_duration_milliseconds_bucket{
              reporter="destination",
              destination_workload_namespace="{{ namespace }}",
              destination_workload=~"{{ target }}"
            }[{{ interval }}]
          )
        ) by (le)
      )`,
    },
  },
  flagger: {
    names: ['istio'],
    fields: [
      ['service', 'hosts'], ['service', 'gateways'], ['service', 'delegation'], ['service', 'trafficPolicy'], ['service', 'match'],
      ['service', 'retries'], ['service', 'timeout'], ['service', 'headers'], ['service', 'corsPolicy'], ['service', 'rewrite'],
    ],
    toOptions: (spec, { duration }) => {
      const s = spec.service;
      return {
        gateways: s.gateways,
        hosts: s.hosts,
        trafficPolicy: s.trafficPolicy,
        match: s.match?.map(toMatch),
        rewrite: s.rewrite && { uri: s.rewrite.uri, authority: s.rewrite.authority },
        retries: s.retries && {
          attempts: s.retries.attempts,
          perTryTimeout: duration(s.retries.perTryTimeout, ['spec', 'service', 'retries', 'perTryTimeout']),
          retryOn: s.retries.retryOn,
        },
        timeout: duration(s.timeout, ['spec', 'service', 'timeout']),
        headers: s.headers,
        corsPolicy: s.corsPolicy,
        delegation: s.delegation,
      };
    },
  },
  router: (o: IstioOptions) => new IstioRouter(o),
} as const satisfies ProviderModule<'istio', IstioOptions>;
