import { Duration } from 'cdk8s';
import { Problem } from '../errors';
import { StringMatch } from '../constructs/match';
import { formatDuration } from './durations';
import { RouterInput } from './router';

/** The App Mesh controller APIs Flagger writes (pkg/apis/appmesh/v1beta1, v1beta2). */
export type AppMeshApiVersion = 'v1beta1' | 'v1beta2';

/** Retry policy of the App Mesh routes (Flagger's `service.retries`). */
export interface AppMeshRetryOptions {
  /**
   * Retries per request (`maxRetries`); also the gateway's `gateway.appmesh.k8s.aws/retries`
   * annotation when `hosts` are set. @default 1, as Flagger writes an unset `attempts`
   */
  readonly attempts?: number;
  /** Timeout of each retry. @default Duration.millis(250), Flagger's default */
  readonly perTryTimeout?: Duration;
  /**
   * Comma-separated HTTP retry events (`server-error`, `gateway-error`, `client-error`, `stream-error`).
   * @default 'gateway-error', Flagger's default
   */
  readonly retryOn?: string;
}

/** Options of the App Mesh provider (Flagger's `appmesh` and `appmesh:v1beta2`). */
export interface AppMeshOptions {
  /**
   * The App Mesh controller API: `v1beta2` (controller 1.x: VirtualNodes, VirtualRouters and
   * VirtualServices) or `v1beta1` (controller 0.x: VirtualNodes and VirtualServices with
   * embedded routers, Flagger's plain `appmesh`). @default 'v1beta2'
   */
  readonly apiVersion?: AppMeshApiVersion;
  /**
   * The mesh the objects join (Flagger's `service.meshName`); v1beta1 only, where it is required.
   * v1beta2 objects join the mesh that selects their namespace. @default - none
   */
  readonly meshName?: string;
  /**
   * Virtual services the primary and canary may call (Flagger's `service.backends`). On v1beta2
   * an `arn:aws...` value is a virtual service ARN, anything else the name of a VirtualService.
   * @default - none (App Mesh then blocks egress to other mesh services)
   */
  readonly backends?: string[];
  /**
   * Domains the App Mesh gateway exposes the service on (Flagger's `service.hosts`); any host
   * adds the `gateway.appmesh.k8s.aws/*` annotations to the apex VirtualService. @default - none
   */
  readonly hosts?: string[];
  /** Path prefix of the routes (Flagger's `service.match[0].uri.prefix`). @default '/' */
  readonly pathPrefix?: string;
  /**
   * Request timeout: on v1beta2 the listener and route `perRequest` timeout; with `hosts`, also the
   * `gateway.appmesh.k8s.aws/timeout` annotation (Flagger's `service.timeout`). @default - none
   */
  readonly timeout?: Duration;
  /** Retry policy of the routes. @default - none */
  readonly retries?: AppMeshRetryOptions;
  /**
   * Envoy access logs to `/dev/stdout` on every VirtualNode (Flagger reads the Canary annotation
   * `appmesh.flagger.app/accesslog: enabled` for it). @default false
   */
  readonly accessLog?: boolean;
}

/** What the routers get: the options plus the timeout text a Flagger Canary spelt. */
export interface AppMeshRouterOptions extends AppMeshOptions {
  /**
   * `service.timeout` as written in the Flagger Canary: Flagger copies that text into the gateway
   * annotation, so `1m` stays `1m`. @default - the timeout formatted (`60s`)
   */
  readonly timeoutText?: string;
}

/** The Canary annotation Flagger reads to turn on access logs (pkg/apis/appmesh/register.go). */
export const ACCESS_LOG_ANNOTATION = 'appmesh.flagger.app/accesslog';

/** HTTP retry events both App Mesh CRDs accept (httpRetryEvents enum). */
const RETRY_EVENTS = new Set(['server-error', 'gateway-error', 'client-error', 'stream-error']);

/** An App Mesh header match: Flagger's makeHeaders copies each non-empty matcher. */
export interface HeaderMatch {
  name: string;
  match: { exact?: string; prefix?: string; regex?: string };
}

/** The settings both routers derive from the Canary in the same way. */
export interface RouteSettings {
  readonly prefix: string;
  readonly protocol: 'http' | 'grpc';
  readonly headers: HeaderMatch[];
  /** makeRetryPolicy: undefined without `service.retries`. */
  readonly retry?: { maxRetries: number; perRetryTimeoutMs: number; events: string[] };
  readonly gatewayAnnotations?: Record<string, string>;
}

export function routeSettings(input: RouterInput, opts: AppMeshRouterOptions): RouteSettings {
  const r = opts.retries;
  return {
    prefix: opts.pathPrefix || '/',
    // getProtocol: a port name containing "grpc" makes the listeners gRPC.
    protocol: (input.portName ?? '').includes('grpc') ? 'grpc' : 'http',
    headers: headerMatches(input),
    retry: r && {
      maxRetries: r.attempts && r.attempts > 0 ? r.attempts : 1,
      perRetryTimeoutMs: r.perTryTimeout ? r.perTryTimeout.toMilliseconds() : 250,
      events: r.retryOn ? r.retryOn.split(',') : ['gateway-error'],
    },
    gatewayAnnotations: gatewayAnnotations(opts),
  };
}

/** makeHeaders over every analysis match; sorted by name (Flagger iterates a Go map). */
function headerMatches(input: RouterInput): HeaderMatch[] {
  return input.analysis.match.flatMap((m) =>
    Object.entries(m.headers ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, sm]): HeaderMatch => ({ name, match: nonEmptyMatch(sm) })),
  );
}

function nonEmptyMatch(sm: StringMatch): HeaderMatch['match'] {
  return {
    ...(sm.exact ? { exact: sm.exact } : {}),
    ...(sm.prefix ? { prefix: sm.prefix } : {}),
    ...(sm.regex ? { regex: sm.regex } : {}),
  };
}

/** gatewayAnnotations: only with hosts; each host followed by a comma, as Flagger joins them. */
function gatewayAnnotations(opts: AppMeshRouterOptions): Record<string, string> | undefined {
  const domains = (opts.hosts ?? []).map((h) => `${h},`).join('');
  if (!domains) return undefined;
  const timeout = opts.timeoutText ?? formatDuration(opts.timeout);
  return {
    'gateway.appmesh.k8s.aws/expose': 'true',
    'gateway.appmesh.k8s.aws/domain': domains,
    ...(timeout ? { 'gateway.appmesh.k8s.aws/timeout': timeout } : {}),
    ...(opts.retries?.attempts && opts.retries.attempts > 0 ? { 'gateway.appmesh.k8s.aws/retries': String(opts.retries.attempts) } : {}),
  };
}

/** What neither App Mesh router can express, and option values its CRDs refuse. */
export function appMeshProblems(input: RouterInput, opts: AppMeshRouterOptions, flaggerName: string, optionPath: string): Problem[] {
  const a = input.analysis;
  const problems: Problem[] = [];
  // appmesh.go / appmesh_v1beta2.go SetRoutes ignore the mirror flag; there is no cookie handling.
  if (a.mirror) problems.push({ path: 'analysis.mirror', message: `provider ${flaggerName} cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio` });
  if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: `provider ${flaggerName} has no session affinity; remove it or use provider istio or gatewayApi` });
  a.match.forEach((m, i) => {
    const other = Object.keys(m).filter((k) => k !== 'headers');
    if (other.length) problems.push({ path: `analysis.match[${i}]`, message: `provider ${flaggerName} matches headers only (Flagger's makeHeaders reads nothing else); remove ${other.join(', ')}` });
    for (const [h, sm] of Object.entries(m.headers ?? {})) {
      if (!sm.exact && !sm.prefix && !sm.regex) problems.push({ path: `analysis.match[${i}].headers.${h}`, message: 'needs a non-empty exact, prefix or regex (App Mesh rejects an empty header match)' });
    }
  });
  const prefix = opts.pathPrefix;
  if (prefix !== undefined && prefix !== '' && !prefix.startsWith('/')) problems.push({ path: `${optionPath}.pathPrefix`, message: `must start with "/" (got "${prefix}")` });
  for (const v of opts.retries?.retryOn ? opts.retries.retryOn.split(',') : []) {
    if (!RETRY_EVENTS.has(v)) problems.push({ path: `${optionPath}.retries.retryOn`, message: `"${v}" is not an App Mesh HTTP retry event (one of ${[...RETRY_EVENTS].join(', ')})` });
  }
  const perTry = opts.retries?.perTryTimeout?.toMilliseconds();
  if (perTry !== undefined && (!Number.isInteger(perTry) || perTry < 0)) problems.push({ path: `${optionPath}.retries.perTryTimeout`, message: 'must be a whole number of milliseconds' });
  return problems;
}
