import { Json } from '../constructs/workload/deployment-json';
import { parseGoDuration } from '../go-duration';

// What Flagger's APISIX router does to the user's ApisixRoute before it writes the canary copy: it
// decodes the object into its Go types (pkg/apis/apisix/v2/types.go) and encodes the copy again.
// Decoding drops every field those types lack; encoding writes fields without `omitempty` even
// when absent (a bool as false, a string as "", a struct as {}, a Duration as "0s") and leaves
// out zero values of fields with `omitempty`. JSON nulls (nil slices, pointers and maps) are
// pruned by the API server, so they are left out here. Fields Flagger would drop are reported,
// not dropped: canarykit never removes what the user wrote without saying so.

type IntOrString = number | string;

/** An APISIX plugin on a route (Go `ApisixRoutePlugin`). */
export interface ApisixPlugin {
  name: string;
  enable: boolean;
  config?: Json;
}
/** A backend of an HTTP route (Go `ApisixRouteHTTPBackend`; `weight` has no `omitempty`). */
export interface ApisixBackend {
  serviceName: string;
  servicePort: IntOrString;
  resolveGranularity?: string;
  weight?: number;
  subset?: string;
}
interface MatchExpr {
  subject: { scope: string; name: string };
  op: string;
  set?: string[];
  value?: string;
}
interface HttpMatch {
  paths?: string[];
  methods?: string[];
  hosts?: string[];
  remoteAddrs?: string[];
  exprs?: MatchExpr[];
}
/** One HTTP route of an ApisixRoute (Go `ApisixRouteHTTP`). */
export interface ApisixHttpRoute {
  name: string;
  priority?: number;
  timeout?: { connect: string; send: string; read: string };
  match: HttpMatch;
  backends?: ApisixBackend[];
  websocket: boolean;
  plugin_config_name?: string;
  plugins?: ApisixPlugin[];
  authentication?: { enable: boolean; type: string; keyAuth: Record<string, string>; jwtAuth: Record<string, string> };
}
/** One stream route (Go `ApisixRouteStream`), copied by Flagger along with the spec. */
export interface ApisixStreamRoute {
  name: string;
  protocol: string;
  match: { ingressPort: number };
  backend: { serviceName: string; servicePort: IntOrString; resolveGranularity?: string; subset?: string };
  plugins?: ApisixPlugin[];
}

/** Collects the fields Flagger's Go types do not have, as `at` paths. */
export class GoDecoder {
  readonly dropped: string[] = [];

  /** The value as Go decodes it: unknown keys of `obj` (an object at `at`) are recorded. */
  private known(obj: unknown, at: string, keys: readonly string[]): Json {
    const o = (obj && typeof obj === 'object' ? obj : {}) as Json;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.dropped.push(`${at}.${k}`);
    return o;
  }

  http(r: unknown, at: string): ApisixHttpRoute {
    const o = this.known(r, at, ['name', 'priority', 'timeout', 'match', 'backends', 'websocket', 'plugin_config_name', 'plugins', 'authentication']);
    const m = this.known(o.match, `${at}.match`, ['paths', 'methods', 'hosts', 'remoteAddrs', 'exprs']);
    const out: ApisixHttpRoute = {
      name: o.name ?? '',
      ...(o.priority ? { priority: o.priority } : {}),
      match: {
        ...(m.paths != null ? { paths: m.paths } : {}),
        ...many('methods', m.methods),
        ...many('hosts', m.hosts),
        ...many('remoteAddrs', m.remoteAddrs),
        ...(list(m.exprs).length ? { exprs: list(m.exprs).map((e: unknown, i: number) => this.expr(e, `${at}.match.exprs[${i}]`)) } : {}),
      },
      websocket: o.websocket ?? false,
    };
    if (o.timeout != null) out.timeout = this.timeout(o.timeout, `${at}.timeout`);
    if (list(o.backends).length) out.backends = list(o.backends).map((b: unknown, i: number) => this.backend(b, `${at}.backends[${i}]`));
    if (o.plugin_config_name) out.plugin_config_name = o.plugin_config_name;
    if (list(o.plugins).length) out.plugins = this.plugins(list(o.plugins), `${at}.plugins`);
    if (o.authentication != null) {
      const a = this.known(o.authentication, `${at}.authentication`, ['enable', 'type', 'keyAuth', 'jwtAuth']);
      out.authentication = {
        enable: a.enable ?? false,
        type: a.type ?? '',
        keyAuth: strings(this.known(a.keyAuth, `${at}.authentication.keyAuth`, ['header']), ['header']),
        jwtAuth: strings(this.known(a.jwtAuth, `${at}.authentication.jwtAuth`, ['header', 'query', 'cookie']), ['header', 'query', 'cookie']),
      };
    }
    return out;
  }

  stream(r: unknown, at: string): ApisixStreamRoute {
    const o = this.known(r, at, ['name', 'protocol', 'match', 'backend', 'plugins']);
    const m = this.known(o.match, `${at}.match`, ['ingressPort']);
    const b = this.known(o.backend, `${at}.backend`, ['serviceName', 'servicePort', 'resolveGranularity', 'subset']);
    return {
      name: o.name ?? '',
      protocol: o.protocol ?? '',
      match: { ingressPort: m.ingressPort ?? 0 },
      backend: { serviceName: b.serviceName ?? '', servicePort: b.servicePort ?? 0, ...str('resolveGranularity', b.resolveGranularity), ...str('subset', b.subset) },
      ...(list(o.plugins).length ? { plugins: this.plugins(list(o.plugins), `${at}.plugins`) } : {}),
    };
  }

  private backend(b: unknown, at: string): ApisixBackend {
    const o = this.known(b, at, ['serviceName', 'servicePort', 'resolveGranularity', 'weight', 'subset']);
    return {
      serviceName: o.serviceName ?? '',
      servicePort: o.servicePort ?? 0,
      ...str('resolveGranularity', o.resolveGranularity),
      ...(o.weight != null ? { weight: o.weight } : {}),
      ...str('subset', o.subset),
    };
  }

  private plugins(list: unknown[], at: string): ApisixPlugin[] {
    return list.map((p, i) => {
      const o = this.known(p, `${at}[${i}]`, ['name', 'enable', 'config']);
      // `enable` defaults to true in the CRD, so the object Flagger reads has it set.
      return { name: o.name ?? '', enable: o.enable ?? true, ...(o.config != null ? { config: o.config } : {}) };
    });
  }

  private expr(e: unknown, at: string): MatchExpr {
    const o = this.known(e, at, ['subject', 'op', 'set', 'value']);
    const s = this.known(o.subject, `${at}.subject`, ['scope', 'name']);
    return { subject: { scope: s.scope ?? '', name: s.name ?? '' }, op: o.op ?? '', ...(o.set != null ? { set: o.set } : {}), ...(o.value != null ? { value: o.value } : {}) };
  }

  private timeout(t: unknown, at: string): { connect: string; send: string; read: string } {
    const o = this.known(t, at, ['connect', 'send', 'read']);
    const d = (k: string): string => {
      const text = o[k];
      if (text === undefined || text === null) return '0s';
      const ns = parseGoDuration(String(text));
      if (ns === undefined) {
        this.dropped.push(`${at}.${k} (not a Go duration: ${JSON.stringify(text)})`);
        return String(text);
      }
      return formatGoDuration(ns);
    };
    return { connect: d('connect'), send: d('send'), read: d('read') };
  }
}

/** A JSON array, or none (Go would fail to decode anything else; the API server's schema check rejects it first). */
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const many = (key: string, v: unknown): Json => (list(v).length ? { [key]: v } : {});
const str = (key: string, v: string | undefined): Json => (v ? { [key]: v } : {});
const strings = (o: Json, keys: string[]): Record<string, string> => Object.fromEntries(keys.filter((k) => o[k]).map((k) => [k, o[k]]));

/** Go's time.ParseDuration, in nanoseconds (src/go-duration.ts owns it; re-exported for this module's callers). */
export { parseGoDuration };

/** Go's time.Duration.String of a nanosecond count (`1m0s`, `1.5s`, `250ms`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const u = Math.abs(ns);
  const frac = (v: number, digits: number): string => {
    const whole = Math.floor(v / 10 ** digits);
    const rest = String(v % 10 ** digits).padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : String(whole);
  };
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${frac(u, 3)}µs`;
  if (u < 1e9) return `${sign}${frac(u, 6)}ms`;
  const seconds = Math.floor(u / 1e9);
  let out = `${frac((seconds % 60) * 1e9 + (u % 1e9), 9)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes > 0) {
    out = `${minutes % 60}m${out}`;
    const hours = Math.floor(minutes / 60);
    if (hours > 0) out = `${hours}h${out}`;
  }
  return sign + out;
}
