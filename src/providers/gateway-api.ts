import { Duration } from 'cdk8s';
import { Problem } from '../errors';
import { HttpMatch, StringMatch } from '../constructs/match';
import { Json, nonEmpty } from '../constructs/workload/deployment-json';
import { canaryCookieHeader, cookieRegex } from './cookies';
import { formatDuration } from './durations';
import { PlannedRoute } from '../model/plan';
import type {
  HttpRouteSpec,
  HttpRouteSpecRules,
  HttpRouteSpecRulesBackendRefs,
  HttpRouteSpecRulesBackendRefsFilters,
  HttpRouteSpecRulesBackendRefsFiltersType,
  HttpRouteSpecRulesFilters,
  HttpRouteSpecRulesFiltersType,
  HttpRouteSpecRulesMatches,
  HttpRouteSpecRulesMatchesHeadersType,
  HttpRouteSpecRulesMatchesMethod,
  HttpRouteSpecRulesMatchesPathType,
} from '../../imports/gatewayapi-gateway.networking.k8s.io';

// The CRD's enums are TypeScript enums in the 31k-line generated module: imported as types only and
// spelled as their string values, so the router types its objects without loading that module.
type Rule = HttpRouteSpecRules;
type Match = HttpRouteSpecRulesMatches;
type BackendRef = HttpRouteSpecRulesBackendRefs;
type BackendFilter = HttpRouteSpecRulesBackendRefsFilters;
type RuleFilter = HttpRouteSpecRulesFilters;
type StringMatchOf = { name: string; type: HttpRouteSpecRulesMatchesHeadersType; value: string };
import { Router, RouterInput, RoutingObject } from './router';
import { adoptWith } from './adopt';
import { toMatch } from '../compile/flagger-match';
import { HTTP_OBSERVER } from './http-observer';
import type { FlaggerCanarySpec } from '../compile/flagger-types';
import { FlaggerContext, ProviderModule } from './module';
import type { HeaderOperations } from './header-operations';
import { filterProblems, GatewayApiCorsPolicy, GatewayApiMirror, GatewayApiRewrite, routeFilters } from './gateway-api-filters';

/** A Gateway API parentRef (the Gateway the HTTPRoute attaches to). */
export interface GatewayRef {
  /** Gateway name. */
  readonly name: string;
  /** Gateway namespace. @default - the route's namespace */
  readonly namespace?: string;
  /** Listener of the Gateway to attach to. @default - any listener */
  readonly sectionName?: string;
  /** Port of the Gateway to attach to. @default - any port */
  readonly port?: number;
  /** API group of the parent. @default 'gateway.networking.k8s.io' */
  readonly group?: string;
  /** Kind of the parent. @default 'Gateway' */
  readonly kind?: string;
}

/** Options of the Gateway API provider (`gateway.networking.k8s.io/v1` HTTPRoute). */
export interface GatewayApiOptions {
  /** Gateways the route attaches to (Flagger's `service.gatewayRefs`, required). */
  readonly gatewayRefs: GatewayRef[];
  /** Route hostnames. @default - none */
  readonly hosts?: string[];
  /** Matches applied to every rule. @default - PathPrefix `/` */
  readonly match?: HttpMatch[];
  /** `timeouts.request`. @default - none */
  readonly timeout?: Duration;
  /** `timeouts.backendRequest`. @default - none */
  readonly backendTimeout?: Duration;
  /** Request and response header changes on every rule (Flagger's `service.headers`). @default - none */
  readonly headers?: HeaderOperations;
  /** URL rewrite on every rule (Flagger's `service.rewrite`). @default - none */
  readonly rewrite?: GatewayApiRewrite;
  /** Services that get a copy of every request (Flagger's `service.mirror`). @default - none */
  readonly mirror?: GatewayApiMirror[];
  /** CORS filter on every rule, v1 only (Flagger's `service.corsPolicy`). @default - none */
  readonly corsPolicy?: GatewayApiCorsPolicy;
}

/**
 * The HTTPRoute version Flagger writes: `gatewayapi:v1` (pkg/router/gateway_api.go) or
 * `gatewayapi:v1beta1` (pkg/router/gateway_api_v1beta1.go, e.g. Linkerd's Gateway API mode).
 */
export type GatewayApiVersion = 'v1' | 'v1beta1';

/**
 * What the v1beta1 router lacks next to v1 (gateway_api_v1beta1.go): it writes no `timeouts`, has no
 * sticky primary cookie, and its GetRoutes does not wait for the route to be Accepted.
 */
const FEATURES: Readonly<Record<GatewayApiVersion, { provider: 'gatewayapi' | 'gatewayapiv1beta1'; flaggerName: string; timeouts: boolean; primaryCookie: boolean; acceptance: boolean; cors: boolean }>> = {
  v1: { provider: 'gatewayapi', flaggerName: 'gatewayapi:v1', timeouts: true, primaryCookie: true, acceptance: true, cors: true },
  v1beta1: { provider: 'gatewayapiv1beta1', flaggerName: 'gatewayapi:v1beta1', timeouts: false, primaryCookie: false, acceptance: false, cors: false },
};

/** Gateway API: one HTTPRoute `<svc>` with weighted backendRefs (reference §2.9). */
export class GatewayApiRouter implements Router {
  readonly provider: 'gatewayapi' | 'gatewayapiv1beta1';
  private readonly apiVersion: string;
  private readonly features: (typeof FEATURES)[GatewayApiVersion];
  /** gateway_api.go GetRoutes: the HTTPRoute `<apex>` must be Accepted by each parent at its generation (v1 only). */
  readonly routeStatus?: (input: RouterInput) => PlannedRoute;

  constructor(private readonly opts: GatewayApiOptions, version: GatewayApiVersion = 'v1') {
    this.features = FEATURES[version];
    this.provider = this.features.provider;
    this.apiVersion = `gateway.networking.k8s.io/${version}`;
    if (this.features.acceptance) this.routeStatus = (input) => this.acceptance(input);
  }

  validate(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    const name = this.features.flaggerName;
    if (!this.features.timeouts) {
      for (const key of ['timeout', 'backendTimeout'] as const) {
        if (this.opts[key]) problems.push({ path: `provider.gatewayApi.${key}`, message: `provider ${name} writes no HTTPRoute timeouts (Flagger's v1beta1 router ignores ${key}); remove it or use gatewayapi:v1` });
      }
    }
    problems.push(...filterProblems(this.opts, name, this.features.cors));
    if (!this.features.primaryCookie && input.analysis.sessionAffinity?.primaryCookieName) {
      problems.push({ path: 'analysis.sessionAffinity.primaryCookieName', message: `provider ${name} has no sticky primary cookie (Flagger's v1beta1 router ignores primaryCookieName); remove it or use gatewayapi:v1` });
    }
    if (!this.opts.gatewayRefs?.length) problems.push({ path: 'provider.gatewayApi.gatewayRefs', message: 'at least one Gateway reference is required' });
    const check = (matches: readonly HttpMatch[], path: string): void =>
      matches.forEach((m, i) => {
        const bad = Object.keys(m).filter((k) => !['uri', 'method', 'headers', 'queryParams'].includes(k));
        if (bad.length) problems.push({ path: `${path}[${i}]`, message: `Gateway API cannot match on ${bad.join(', ')}; use uri, method, headers or queryParams` });
        for (const [k, sm] of [...Object.entries(m.headers ?? {}), ...Object.entries(m.queryParams ?? {})]) {
          if (sm.prefix !== undefined) problems.push({ path: `${path}[${i}].${k}`, message: 'Gateway API header and query matches are exact or regex only' });
        }
      });
    check(input.analysis.match, 'analysis.match');
    check(this.opts.match ?? [], 'provider.gatewayApi.match');
    if (input.analysis.mirror && input.analysis.iterations === 0) {
      problems.push({ path: 'analysis.mirror', message: 'Gateway API mirrors only during blue/green (iterations > 0); remove mirror or set iterations' });
    }
    return problems;
  }

  private acceptance(input: RouterInput): PlannedRoute {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      namespace: input.namespace,
      name: input.names.apex,
      parents: this.opts.gatewayRefs.map((g) => ({
        name: g.name,
        namespace: g.namespace ?? input.namespace,
        ...(g.sectionName === undefined ? {} : { sectionName: g.sectionName }),
      })),
    };
  }

  /**
   * src: pkg/router/gateway_api.go (and gateway_api_v1beta1.go) Reconcile: spec and labels from the
   * Canary; annotations of other controllers on the existing HTTPRoute are kept beside the Canary's.
   */
  adopt(generated: RoutingObject, existing: Json): RoutingObject {
    return adoptWith(generated, existing, generated.metadata.labels, { ...existing.metadata?.annotations, ...generated.metadata.annotations });
  }

  render(input: RouterInput): RoutingObject<'HTTPRoute', HttpRouteSpec>[] {
    const { names, weights, analysis, port } = input;
    const serviceMatches = (this.opts.match ?? []).map(toRouteMatch);
    const defaultMatches: Match[] = serviceMatches.length ? serviceMatches : [{ path: { type: 'PathPrefix' as HttpRouteSpecRulesMatchesPathType, value: '/' } }];
    const timeouts = this.features.timeouts && (this.opts.timeout || this.opts.backendTimeout)
      ? { request: formatDuration(this.opts.timeout), backendRequest: formatDuration(this.opts.backendTimeout) }
      : undefined;
    const backend = (name: string, weight: number, filters?: BackendFilter[]): BackendRef => ({ group: '', kind: 'Service', name, port, weight, filters });
    // makeFilters: every rule Flagger writes starts with the service's filters.
    const base = routeFilters(this.opts, this.features.cors);
    const rule = (matches: Match[], backendRefs: BackendRef[], extra: RuleFilter[] = []): Rule => {
      const filters = [...base, ...extra];
      return { matches, filters: filters.length ? filters : undefined, backendRefs, timeouts };
    };

    let rules: Rule[];
    if (analysis.match.length > 0) {
      // SetRoutes merges the A/B matches with the rule's own (the default PathPrefix / included).
      const abMatches = mergeRouteMatches(analysis.match.map(toRouteMatch), defaultMatches);
      rules = [
        rule(abMatches, [backend(names.primary, weights.primary), backend(names.canary, weights.canary)]),
        rule(defaultMatches, [backend(names.primary, 100)]),
      ];
    } else {
      const mirror: RuleFilter[] = weights.mirror && analysis.iterations > 0
        ? [{ type: 'RequestMirror' as HttpRouteSpecRulesFiltersType, requestMirror: { backendRef: { group: '', kind: 'Service', name: names.canary, port } } }]
        : [];
      const affinity = analysis.sessionAffinity;
      const cookies = input.cookies;
      const weighted = (primaryFilters?: BackendFilter[], canaryFilters?: BackendFilter[]): Rule =>
        rule(defaultMatches, [backend(names.primary, weights.primary, primaryFilters), backend(names.canary, weights.canary, canaryFilters)], mirror);
      const sticky = (cookie: string): Match[] =>
        mergeRouteMatches([{ headers: [{ type: 'RegularExpression' as HttpRouteSpecRulesMatchesHeadersType, name: 'Cookie', value: cookieRegex(cookie) }] }], serviceMatches);
      const setCookie = (value: string): BackendFilter[] => [{ type: 'ResponseHeaderModifier' as HttpRouteSpecRulesBackendRefsFiltersType, responseHeaderModifier: { add: [{ name: 'Set-Cookie', value }] } }];
      // The same header filter on a whole rule (the CRD types rule and backend filters apart).
      const setCookieOnRule = (value: string): RuleFilter[] => [{ type: 'ResponseHeaderModifier' as HttpRouteSpecRulesFiltersType, responseHeaderModifier: { add: [{ name: 'Set-Cookie', value }] } }];
      if (affinity && cookies?.cookie && weights.canary > 0) {
        // Same layout as Istio: sticky canary, optional sticky primary, then the weighted rule.
        // Sticky rules are copies of the weighted rule (filters included) with their own matches and backends.
        rules = [rule(sticky(cookies.cookie), [backend(names.primary, 0), backend(names.canary, 100)], mirror)];
        const primaryCookie = this.features.primaryCookie && affinity.primaryCookieName ? cookies.primaryCookie : undefined;
        if (primaryCookie) rules.push(rule(sticky(primaryCookie), [backend(names.primary, 100), backend(names.canary, 0)], mirror));
        rules.push(weighted(
          primaryCookie ? setCookie(canaryCookieHeader(primaryCookie, analysis.intervalSeconds, affinity)) : undefined,
          setCookie(canaryCookieHeader(cookies.cookie, affinity.maxAge, affinity)),
        ));
      } else if (affinity && cookies?.previousCookie) {
        // After the run, expire the canary cookie of sessions that still carry it.
        rules = [
          rule(sticky(cookies.previousCookie), [backend(names.primary, 100), backend(names.canary, 0)], [...mirror, ...setCookieOnRule(`${cookies.previousCookie}; Max-Age=-1`)]),
          weighted(),
        ];
      } else {
        rules = [weighted()];
      }
    }
    return [
      {
        apiVersion: this.apiVersion,
        kind: 'HTTPRoute',
        metadata: { name: names.apex, namespace: input.namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
        spec: {
          parentRefs: this.opts.gatewayRefs.map((g) => ({ group: g.group, kind: g.kind, namespace: g.namespace, name: g.name, sectionName: g.sectionName, port: g.port })),
          hostnames: this.opts.hosts?.length ? [...this.opts.hosts] : undefined,
          rules,
        },
      },
    ];
  }
}

function stringMatchType(sm: StringMatch): { type: HttpRouteSpecRulesMatchesHeadersType; value: string } {
  if (sm.regex !== undefined) return { type: 'RegularExpression' as HttpRouteSpecRulesMatchesHeadersType, value: sm.regex };
  return { type: 'Exact' as HttpRouteSpecRulesMatchesHeadersType, value: sm.exact ?? '' };
}

/** Istio-shaped match -> HTTPRouteMatch. */
function toRouteMatch(m: HttpMatch): Match {
  const pathType = (t: string): HttpRouteSpecRulesMatchesPathType => t as HttpRouteSpecRulesMatchesPathType;
  let path: Match['path'];
  if (m.uri?.regex !== undefined) path = { type: pathType('RegularExpression'), value: m.uri.regex };
  else if (m.uri?.exact !== undefined) path = { type: pathType('Exact'), value: m.uri.exact };
  else if (m.uri?.prefix !== undefined) path = { type: pathType('PathPrefix'), value: m.uri.prefix };
  const list = (map?: Record<string, StringMatch>): StringMatchOf[] | undefined =>
    map ? Object.keys(map).sort().map((name) => ({ name, ...stringMatchType(map[name]) })) : undefined;
  const queryParams = list(m.queryParams) as Match['queryParams'];
  return { path, method: m.method?.exact as HttpRouteSpecRulesMatchesMethod | undefined, headers: list(m.headers), queryParams };
}

/** Cross product: analysis headers/queryParams replace the service match's (reference §2.9). */
function mergeRouteMatches(analysis: Match[], service: Match[]): Match[] {
  if (service.length === 0) return analysis;
  return analysis.flatMap((a) => service.map((s) => ({ ...s, headers: a.headers ?? s.headers, queryParams: a.queryParams ?? s.queryParams })));
}

const CAPABILITIES = {
  shiftsWeights: true,
  // HTTPRoute RequestMirror filters, during blue/green only (the router checks the strategy).
  mirroring: true,
  sessionAffinity: true,
  matchKinds: ['uri', 'method', 'headers', 'queryParams'],
  promotionSteps: true,
} as const;

/** Fields both routers read (makeFilters: headers, rewrite and its type, mirror). */
const COMMON_FIELDS = [
  ['service', 'hosts'], ['service', 'gatewayRefs'], ['service', 'match'],
  ['service', 'headers'], ['service', 'rewrite'], ['service', 'rewrite', 'type'], ['service', 'mirror'],
] as const;

function toOptions(spec: FlaggerCanarySpec, duration: FlaggerContext['duration']): GatewayApiOptions {
  const s = spec.service;
  const cors = s.corsPolicy as (Omit<GatewayApiCorsPolicy, 'maxAge'> & { maxAge?: string }) | undefined;
  return {
    gatewayRefs: s.gatewayRefs ?? [],
    hosts: s.hosts,
    match: s.match?.map(toMatch),
    timeout: duration(s.timeout, ['spec', 'service', 'timeout']),
    backendTimeout: duration(s.backendTimeout, ['spec', 'service', 'backendTimeout']),
    headers: s.headers,
    rewrite: s.rewrite,
    mirror: s.mirror as GatewayApiMirror[] | undefined,
    corsPolicy: cors && { ...cors, maxAge: duration(cors.maxAge, ['spec', 'service', 'corsPolicy', 'maxAge']) },
  };
}

/** Gateway API HTTPRoute with weighted backendRefs; no mesh telemetry, so the HTTP observer. */
export const GATEWAY_API = {
  name: 'gatewayapi',
  capabilities: { flaggerName: 'gatewayapi:v1', ...CAPABILITIES },
  observer: HTTP_OBSERVER,
  // observers/factory.go matches the gatewayapi prefix, so `gatewayapi:service` keeps this observer.
  observerMatchesServiceSuffix: true,
  flagger: {
    names: ['gatewayapi:v1'],
    fields: [...COMMON_FIELDS, ['service', 'timeout'], ['service', 'backendTimeout'], ['service', 'corsPolicy']],
    toOptions: (spec, { duration }) => toOptions(spec, duration),
  },
  router: (o: GatewayApiOptions) => new GatewayApiRouter(o, 'v1'),
} as const satisfies ProviderModule<'gatewayapi', GatewayApiOptions>;

/**
 * Flagger's `gatewayapi:v1beta1` (pkg/router/gateway_api_v1beta1.go): the same HTTPRoute as
 * `gateway.networking.k8s.io/v1beta1`, without timeouts, primary cookie or acceptance check; the
 * HTTP observer as for every `gatewayapi*` provider (observers/factory.go).
 */
export const GATEWAY_API_V1BETA1 = {
  name: 'gatewayapiv1beta1',
  capabilities: { flaggerName: 'gatewayapi:v1beta1', ...CAPABILITIES },
  observer: HTTP_OBSERVER,
  // observers/factory.go matches the gatewayapi prefix, so `gatewayapi:service` keeps this observer.
  observerMatchesServiceSuffix: true,
  flagger: {
    names: ['gatewayapi:v1beta1'],
    // timeouts and corsPolicy are left out: the v1beta1 router never reads them.
    fields: COMMON_FIELDS,
    toOptions: (spec, { duration }) => ({ ...toOptions(spec, duration), timeout: undefined, backendTimeout: undefined, corsPolicy: undefined }),
  },
  router: (o: GatewayApiOptions) => new GatewayApiRouter(o, 'v1beta1'),
} as const satisfies ProviderModule<'gatewayapiv1beta1', GatewayApiOptions>;
