import { Problem } from '../errors';
import type { HttpRouteSpecRulesFilters, HttpRouteSpecRulesFiltersType } from '../../imports/gatewayapi-gateway.networking.k8s.io';
import type { Duration } from 'cdk8s';
import type { HeaderOperations } from './header-operations';

// The route filters Flagger's Gateway API routers add to every rule they write
// (pkg/router/gateway_api.go and gateway_api_v1beta1.go makeFilters), from `service.headers`,
// `service.rewrite`, `service.mirror` and (v1 only) `service.corsPolicy`.

type RuleFilter = HttpRouteSpecRulesFilters;
const type = (t: string): HttpRouteSpecRulesFiltersType => t as HttpRouteSpecRulesFiltersType;

/** How `service.rewrite.uri` replaces the path (Gateway API HTTPPathModifier type). */
export type RewriteType = 'ReplaceFullPath' | 'ReplacePrefixMatch';

/** A URL rewrite before forwarding (Gateway API URLRewrite filter). */
export interface GatewayApiRewrite {
  /** New path, or new prefix for the matched one (see `type`). @default - path unchanged */
  readonly uri?: string;
  /** New Host header. @default - Host unchanged */
  readonly authority?: string;
  /** `ReplacePrefixMatch` swaps the matched prefix; anything else replaces the whole path. @default 'ReplaceFullPath' */
  readonly type?: string;
}

/** A Service that receives a copy of every request (Gateway API RequestMirror filter). */
export interface GatewayApiMirror {
  /** The mirror's backend. */
  readonly backendRef: { group?: string; kind?: string; namespace?: string; name: string; port?: number };
}

/** CORS settings, in Flagger's (Istio-shaped) `service.corsPolicy` form. */
export interface GatewayApiCorsPolicy {
  /** Allowed origins, as plain strings. @default - none */
  readonly allowOrigin?: string[];
  /** Istio origin patterns: Gateway API cannot express them (an error). @default - none */
  readonly allowOrigins?: unknown[];
  /** Allowed methods. @default - none */
  readonly allowMethods?: string[];
  /** Allowed request headers. @default - none */
  readonly allowHeaders?: string[];
  /** Response headers the browser may read. @default - none */
  readonly exposeHeaders?: string[];
  /** How long a preflight may be cached (whole seconds are written). @default - Gateway API's default */
  readonly maxAge?: Duration;
  /** Allow credentials. @default false */
  readonly allowCredentials?: boolean;
}

/** The filter inputs of a Gateway API route. */
export interface FilterOptions {
  readonly headers?: HeaderOperations;
  readonly rewrite?: GatewayApiRewrite;
  readonly mirror?: readonly GatewayApiMirror[];
  readonly corsPolicy?: GatewayApiCorsPolicy;
}

/** sortFiltersV1: by name, then value, so the map order of the input does not matter. */
function headerList(map: Record<string, string> | undefined): { name: string; value: string }[] | undefined {
  if (!map) return undefined;
  const list = Object.entries(map).map(([name, value]) => ({ name, value }));
  list.sort((a, b) => (a.name === b.name ? cmp(a.value, b.value) : cmp(a.name, b.name)));
  return list.length ? list : undefined;
}
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function modifier(ops: { add?: Record<string, string>; set?: Record<string, string>; remove?: string[] }) {
  return { add: headerList(ops.add), set: headerList(ops.set), remove: ops.remove?.length ? [...ops.remove] : undefined };
}

/** Problems with filter options this Gateway API version cannot express. */
export function filterProblems(o: FilterOptions, flaggerName: string, cors: boolean): Problem[] {
  const problems: Problem[] = [];
  const at = 'provider.gatewayApi';
  if (o.corsPolicy && !cors) {
    problems.push({ path: `${at}.corsPolicy`, message: `provider ${flaggerName} has no CORS filter (Flagger's v1beta1 router ignores corsPolicy); remove it or use gatewayapi:v1` });
  }
  if (o.corsPolicy?.allowOrigins?.length) {
    problems.push({ path: `${at}.corsPolicy.allowOrigins`, message: 'Gateway API CORS origins are plain strings, not Istio match patterns (Flagger ignores allowOrigins); use allowOrigin' });
  }
  const t = o.rewrite?.type;
  if (t !== undefined && t !== '' && t !== 'ReplaceFullPath' && t !== 'ReplacePrefixMatch') {
    problems.push({ path: `${at}.rewrite.type`, message: `"${t}" is not a path modifier type; use ReplaceFullPath or ReplacePrefixMatch (Flagger would replace the full path)` });
  }
  return problems;
}

/** makeFilters: header modifiers, URL rewrite, service mirrors, then CORS (v1), in Flagger's order. */
export function routeFilters(o: FilterOptions, cors: boolean): RuleFilter[] {
  const filters: RuleFilter[] = [];
  if (o.headers?.request) filters.push({ type: type('RequestHeaderModifier'), requestHeaderModifier: modifier(o.headers.request) });
  if (o.headers?.response) filters.push({ type: type('ResponseHeaderModifier'), responseHeaderModifier: modifier(o.headers.response) });
  if (o.rewrite) {
    // HTTPRewrite.GetType: only ReplacePrefixMatch keeps the prefix; every other value replaces the full path.
    const prefix = o.rewrite.type === 'ReplacePrefixMatch';
    filters.push({
      type: type('URLRewrite'),
      urlRewrite: {
        hostname: o.rewrite.authority || undefined,
        path: o.rewrite.uri
          ? prefix
            ? { type: 'ReplacePrefixMatch', replacePrefixMatch: o.rewrite.uri }
            : { type: 'ReplaceFullPath', replaceFullPath: o.rewrite.uri }
          : undefined,
      } as RuleFilter['urlRewrite'],
    });
  }
  for (const m of o.mirror ?? []) {
    const r = m.backendRef;
    filters.push({ type: type('RequestMirror'), requestMirror: { backendRef: { group: r.group, kind: r.kind, namespace: r.namespace, name: r.name, port: r.port } } });
  }
  if (o.corsPolicy && cors) {
    const c = o.corsPolicy;
    const seconds = c.maxAge === undefined ? undefined : Math.trunc(c.maxAge.toMilliseconds() / 1000);
    filters.push({
      type: type('CORS'),
      cors: {
        allowOrigins: c.allowOrigin?.length ? [...c.allowOrigin] : undefined,
        allowMethods: c.allowMethods?.length ? [...c.allowMethods] : undefined,
        allowHeaders: c.allowHeaders?.length ? [...c.allowHeaders] : undefined,
        exposeHeaders: c.exposeHeaders?.length ? [...c.exposeHeaders] : undefined,
        allowCredentials: c.allowCredentials ? true : undefined,
        // int32(duration.Seconds()): whole seconds, truncated; an unset or zero maxAge is left out.
        maxAge: seconds || undefined,
      } as RuleFilter['cors'],
    });
  }
  return filters;
}
