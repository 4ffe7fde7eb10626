import { Duration } from 'cdk8s';
import { Problem } from '../errors';
import { StringMatch } from '../constructs/match';
import { nonEmpty } from '../constructs/workload/deployment-json';
import { formatDuration } from './durations';
import { Router, RouterInput, RoutingObject } from './router';
import { ProviderModule, Unsupported } from './module';
import { envoyQueries } from './envoy-observer';
import type { FlaggerCanarySpec } from '../compile/flagger-types';

// HTTPProxy (projectcontour.io/v1) as Flagger's pkg/apis/projectcontour/v1 serializes it: only the
// fields Flagger's Contour router sets. Go's `omitempty` drops a zero weight and an empty string.

interface HeaderCondition {
  name: string;
  exact?: string;
  contains?: string;
}
interface MatchCondition {
  prefix?: string;
  header?: HeaderCondition;
}
interface ProxyService {
  name: string;
  port: number;
  weight?: number;
  requestHeadersPolicy: { set: { name: string; value: string }[] };
}
interface ProxyRoute {
  conditions: MatchCondition[];
  timeoutPolicy?: { response?: string; idle: string };
  retryPolicy?: { count: number; perTryTimeout?: string; retryOn?: string[] };
  services: ProxyService[];
}
/** The spec of the HTTPProxy Flagger's Contour router writes. */
export interface HttpProxySpec {
  routes: ProxyRoute[];
  ingressClassName?: string;
}

/** Retry policy of the HTTPProxy routes (Flagger's `service.retries`). */
export interface ContourRetryOptions {
  /** Retries per request (Contour `count`). @default 0, as Flagger writes an unset `attempts` */
  readonly attempts?: number;
  /** Timeout of each attempt. @default - Contour's default */
  readonly perTryTimeout?: Duration;
  /** Comma-separated Envoy retry conditions, e.g. `5xx,gateway-error`. @default - Contour's default (5xx) */
  readonly retryOn?: string;
}

/** Options of the Contour provider (an HTTPProxy `<svc>` your root HTTPProxy includes). */
export interface ContourOptions {
  /**
   * Path prefix of every route (Flagger reads `service.match[0].uri.prefix` for it).
   * @default '/'
   */
  readonly pathPrefix?: string;
  /** Response timeout of the routes; the idle timeout is then 5m, as Flagger sets it. @default - none */
  readonly timeout?: Duration;
  /** Retry policy of the routes. @default - none */
  readonly retries?: ContourRetryOptions;
  /**
   * `spec.ingressClassName` of the HTTPProxy (Flagger sets it from its `-ingress-class` controller flag).
   * @default - the CanaryApp's `controller.ingressClass`, which is none by default (every Contour instance serves it)
   */
  readonly ingressClass?: string;
}

const API_VERSION = 'projectcontour.io/v1' as const;

/** Values Contour's CRD accepts in `retryPolicy.retryOn`. */
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded', 'internal',
  'resource-exhausted', 'unavailable',
]);

/** Contour: one HTTPProxy `<svc>` with weighted primary/canary services (src: pkg/router/contour.go). */
export class ContourRouter implements Router {
  readonly provider = 'contour' as const;
  constructor(private readonly opts: ContourOptions = {}) {}

  validate(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    const a = input.analysis;
    // contour.go SetRoutes ignores the mirror flag and has no cookie handling.
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider contour cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider contour has no session affinity; remove it or use provider istio or gatewayApi' });
    a.match.forEach((m, i) => {
      const other = Object.keys(m).filter((k) => k !== 'headers');
      if (other.length) problems.push({ path: `analysis.match[${i}]`, message: `provider contour matches headers only (Flagger's makeConditions reads nothing else); remove ${other.join(', ')}` });
      for (const [h, sm] of Object.entries(m.headers ?? {})) {
        if (sm.regex !== undefined || (sm.exact === undefined && sm.prefix === undefined)) {
          problems.push({ path: `analysis.match[${i}].headers.${h}`, message: 'provider contour matches headers with exact or prefix (rendered as Contour `contains`, as Flagger does); regex is not supported' });
        }
      }
    });
    // Flagger writes the path prefix into every header condition; Contour rejects a route with more
    // than one prefix condition, so more than one header would give an invalid HTTPProxy.
    if (a.match.flatMap((m) => Object.keys(m.headers ?? {})).length > 1) {
      problems.push({ path: 'analysis.match', message: 'provider contour supports one header match per canary (each becomes a condition with the path prefix, and Contour rejects two prefixes in a route); keep a single header' });
    }
    const prefix = this.opts.pathPrefix;
    if (prefix !== undefined && !prefix.startsWith('/')) problems.push({ path: 'provider.contour.pathPrefix', message: `must start with "/" (got "${prefix}")` });
    for (const v of retryOn(this.opts.retries?.retryOn) ?? []) {
      if (!RETRY_ON.has(v)) problems.push({ path: 'provider.contour.retries.retryOn', message: `"${v}" is not a Contour retry condition (one of ${[...RETRY_ON].join(', ')})` });
    }
    return problems;
  }

  render(input: RouterInput): RoutingObject<'HTTPProxy', HttpProxySpec>[] {
    const { names, weights, analysis, port, namespace } = input;
    const prefix = this.opts.pathPrefix ?? '/';
    const ingressClass = this.opts.ingressClass ?? input.controller.ingressClass;
    const service = (name: string, weight: number): ProxyService => ({
      name,
      port,
      ...(weight ? { weight } : {}),
      // Flagger always sets Linkerd's destination override, so Contour works in front of a Linkerd mesh.
      requestHeadersPolicy: { set: [{ name: 'l5d-dst-override', value: `${name}.${namespace}.svc.cluster.local:${port}` }] },
    });
    const route = (conditions: MatchCondition[], primary: number, canary: number): ProxyRoute => ({
      conditions,
      ...this.policies(),
      services: [service(names.primary, primary), service(names.canary, canary)],
    });
    const routes = analysis.match.length > 0
      ? [route(headerConditions(analysis.match.flatMap((m) => Object.entries(m.headers ?? {})), prefix), weights.primary, weights.canary), route([{ prefix }], 100, 0)]
      : [route([{ prefix }], weights.primary, weights.canary)];
    return [
      {
        apiVersion: API_VERSION,
        kind: 'HTTPProxy',
        metadata: { name: names.apex, namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
        // src: pkg/router/contour.go Reconcile: the class only when set.
        spec: { routes, ...(ingressClass ? { ingressClassName: ingressClass } : {}) },
      },
    ];
  }

  /** makeTimeoutPolicy / makeRetryPolicy. */
  private policies(): Pick<ProxyRoute, 'timeoutPolicy' | 'retryPolicy'> {
    const { timeout, retries } = this.opts;
    return {
      ...(timeout ? { timeoutPolicy: { response: formatDuration(timeout), idle: '5m' } } : {}),
      ...(retries
        ? { retryPolicy: { count: retries.attempts ?? 0, perTryTimeout: formatDuration(retries.perTryTimeout), retryOn: retryOn(retries.retryOn) } }
        : {}),
    };
  }
}

/** makeRetryOn; an unset value stays unset (Flagger's `[""]` is not a value Contour's CRD accepts). */
function retryOn(text: string | undefined): string[] | undefined {
  return text ? text.split(',') : undefined;
}

/** makeConditions: each header a condition carrying the prefix; prefix (and suffix) become `contains`. */
function headerConditions(headers: [string, StringMatch][], prefix: string): MatchCondition[] {
  return headers
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // Flagger iterates a Go map; sorted for stable output
    .map(([name, sm]) => ({ prefix, header: sm.prefix !== undefined ? { name, contains: sm.prefix } : { name, exact: sm.exact } }));
}

/** service.match: Flagger's Contour router reads `match[0].uri.prefix` and nothing else. */
function serviceMatchProblems(spec: FlaggerCanarySpec): Unsupported[] {
  const out: Unsupported[] = [];
  (spec.service.match ?? []).forEach((m, i) => {
    for (const [key, value] of Object.entries(m)) {
      const uriPrefixOnly = i === 0 && key === 'uri' && Object.keys(value ?? {}).every((k) => k === 'prefix');
      if (!uriPrefixOnly) {
        out.push({ segments: ['spec', 'service', 'match', i, key], message: 'is ignored by provider contour (Flagger reads only service.match[0].uri.prefix, the route prefix); remove it' });
      }
    }
  });
  return out;
}

/** Contour HTTPProxy; Flagger's contour observer (envoy cluster metrics). */
export const CONTOUR = {
  name: 'contour',
  capabilities: {
    flaggerName: 'contour',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: ['headers'],
    promotionSteps: true,
  },
  observer: {
    name: 'contour',
    // Query text of pkg/metrics/observers/contour.go, trailing commas included (PromQL allows them).
    // Envoy's upstream_rq_time is in milliseconds already: no `* 1000`.
    queries: envoyQueries(['envoy_cluster_name=~"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+"'], true),
  },
  flagger: {
    names: ['contour'],
    fields: [['service', 'match'], ['service', 'retries'], ['service', 'timeout']],
    unsupported: serviceMatchProblems,
    toOptions: (spec, { duration }): ContourOptions => {
      const s = spec.service;
      const prefix = s.match?.[0]?.uri?.prefix;
      return {
        pathPrefix: prefix || undefined,
        timeout: duration(s.timeout, ['spec', 'service', 'timeout']),
        retries: s.retries && {
          attempts: s.retries.attempts,
          perTryTimeout: duration(s.retries.perTryTimeout, ['spec', 'service', 'retries', 'perTryTimeout']),
          retryOn: s.retries.retryOn,
        },
      };
    },
  },
  router: (o: ContourOptions) => new ContourRouter(o),
} as const satisfies ProviderModule<'contour', ContourOptions>;
