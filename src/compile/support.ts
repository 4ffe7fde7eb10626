import { ProviderName } from '../providers/registry';
import { ProviderModule, Unsupported } from '../providers/module';
import { PROVIDERS, providerModules } from '../providers/registry';
import { FLAGGER_SCHEMAS } from './flagger-schema.generated';
import { FlaggerCanarySpec, FlaggerMatch } from './flagger-types';

export type { Unsupported };

/** Flagger `spec.provider` values canarykit renders, and the provider module each maps to. */
export const SUPPORTED_PROVIDERS: Readonly<Record<string, ProviderName>> = Object.fromEntries(
  providerModules().flatMap((m) => m.flagger.names.map((n) => [n, m.name])),
);

/** Every provider value Flagger 1.44 accepts (its CRD enum). */
const FLAGGER_PROVIDERS: readonly string[] = FLAGGER_SCHEMAS.Canary.properties.spec.properties.provider.enum;

/** Flagger's default when `spec.provider` is absent (controller flag `-mesh-provider`). */
export const DEFAULT_PROVIDER = PROVIDERS.istio.flagger.names[0];

/**
 * The router for a Flagger provider value, or the reason there is none. Without `spec.provider` the
 * controller's `-mesh-provider` applies (`meshProvider`), as in Flagger's advanceCanary.
 */
export function providerFor(value: string | undefined, meshProvider: string = DEFAULT_PROVIDER): { provider: ProviderName } | { message: string } {
  const name = value ?? meshProvider;
  const provider = SUPPORTED_PROVIDERS[name];
  if (provider) return { provider };
  const valid = Object.keys(SUPPORTED_PROVIDERS).join(', ');
  if (value === undefined) return { message: `is not set, so the mesh provider "${name}" (--mesh-provider, controller.meshProvider of canarykit.yaml) applies, which canarykit does not support${FLAGGER_PROVIDERS.includes(name) ? ' yet' : ''}; set spec.provider or the mesh provider to one of: ${valid}` };
  // Flagger's older Gateway API version: name the one canarykit renders instead.
  if (name === 'gatewayapi:v1beta1') return { message: `"${name}" is not supported yet: canarykit renders gateway.networking.k8s.io/v1 HTTPRoutes; use gatewayapi:v1 (supported: ${valid})` };
  if (FLAGGER_PROVIDERS.includes(name)) return { message: `"${name}" is not supported yet (supported: ${valid})` };
  return { message: `unknown provider "${name}" (Flagger would fall back to istio with a warning; canarykit does not guess). Supported: ${valid}` };
}

/** The Flagger spelling of a provider (the first `spec.provider` value its module accepts). */
function flaggerName(provider: ProviderName): string {
  return PROVIDERS[provider].flagger.names[0];
}

/**
 * How messages name the provider in effect: `spec.provider` as written, or the mesh provider with
 * where it came from (a Canary without spec.provider is not necessarily Istio's).
 */
export function providerNamed(value: string | undefined, meshProvider: string = DEFAULT_PROVIDER): string {
  return value ?? `${meshProvider} (the mesh provider: spec.provider is not set; --mesh-provider, controller.meshProvider of canarykit.yaml)`;
}

/** Is the value set to something other than Flagger's empty default (false, "", [], {})? */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

// Fields Flagger reads but canarykit does not honour. Set to their empty default, they are accepted.
const NOT_SUPPORTED: ReadonlyArray<[string[], string]> = [
  [['revertOnDeletion'], 'is not supported: there is no controller to restore the target on deletion. To retire a canary, remove the Canary from the inputs and commit the plain Deployment'],
  [['routeRef'], 'is only used by the APISIX provider, which canarykit does not support'],
  [['upstreamRef'], 'is only used by the Gloo provider, which canarykit does not support'],
  [['autoscalerRef', 'primaryScalerQueries'], 'is only used with KEDA ScaledObjects, which are not supported yet'],
  [['service', 'trafficDistribution'], 'is not supported yet'],
  [['service', 'unmanagedMetadata'], 'is not supported: canarykit owns the generated Services entirely, so there are no foreign keys to preserve; put labels and annotations in service.apex, service.primary or service.canary'],
  [['service', 'meshName'], 'is only used by App Mesh, which canarykit does not support'],
  [['service', 'backends'], 'is only used by App Mesh, which canarykit does not support'],
  [['service', 'mirror'], 'is not supported yet (Gateway API RequestMirror filters); analysis.mirror is'],
  [['service', 'rewrite', 'type'], 'is not supported yet (Gateway API rewrite type); uri and authority are'],
];

// Provider-specific fields in the order they are reported (Flagger's CanaryService field order).
const PROVIDER_FIELD_ORDER = [
  'service.hosts', 'service.gateways', 'service.gatewayRefs', 'service.delegation', 'service.trafficPolicy', 'service.match',
  'service.retries', 'service.timeout', 'service.backendTimeout', 'service.headers', 'service.corsPolicy', 'service.rewrite', 'ingressRef',
];

/**
 * Fields that only mean something to some providers, with the providers that read them (from
 * each module's Flagger mapping). Flagger ignores them elsewhere; canarykit says so.
 */
const PROVIDER_FIELDS: ReadonlyArray<[string[], ProviderName[]]> = (() => {
  const readers = new Map<string, ProviderName[]>();
  for (const m of providerModules()) {
    for (const keys of m.flagger.fields) readers.set(keys.join('.'), [...(readers.get(keys.join('.')) ?? []), m.name]);
  }
  const rank = (k: string): number => (PROVIDER_FIELD_ORDER.indexOf(k) + 1 || PROVIDER_FIELD_ORDER.length + 1);
  return [...readers.entries()].sort(([a], [b]) => rank(a) - rank(b)).map(([k, providers]) => [k.split('.'), providers]);
})();

const MATCH_FIELDS = new Set(['uri', 'method', 'scheme', 'authority', 'headers', 'queryParams', 'sourceLabels', 'port']);
const SESSION_AFFINITY_FIELDS = new Set(['cookieName', 'primaryCookieName', 'maxAge']);

function get(spec: FlaggerCanarySpec, keys: string[]): unknown {
  return keys.reduce<any>((v, k) => v?.[k], spec);
}

function checkMatches(matches: FlaggerMatch[] | undefined, base: (string | number)[], out: Unsupported[]): void {
  (matches ?? []).forEach((m, i) => {
    for (const key of Object.keys(m)) {
      if (!MATCH_FIELDS.has(key)) out.push({ segments: [...base, i, key], message: `is not supported yet in matches (supported: ${[...MATCH_FIELDS].join(', ')})` });
    }
    for (const [name, sm] of Object.entries(m.headers ?? {})) {
      if (sm.suffix !== undefined) out.push({ segments: [...base, i, 'headers', name, 'suffix'], message: 'suffix matches are not supported yet; use regex (e.g. ".*value$")' });
    }
  });
}

/**
 * Every field of a Canary spec that canarykit would otherwise ignore: Flagger fields it does not
 * implement, fields the chosen provider does not use, and unsupported kinds. Never silent.
 */
export function unsupportedFields(spec: FlaggerCanarySpec, provider: ProviderName, meshProvider: string = DEFAULT_PROVIDER): Unsupported[] {
  const out: Unsupported[] = [];
  const module: ProviderModule<ProviderName, unknown> = PROVIDERS[provider];
  const at = (keys: (string | number)[], message: string): void => {
    out.push({ segments: ['spec', ...keys], message });
  };
  for (const [keys, message] of NOT_SUPPORTED) if (isSet(get(spec, keys))) at(keys, message);
  for (const [keys, providers] of PROVIDER_FIELDS) {
    if (!isSet(get(spec, keys))) continue;
    const field = keys[keys.length - 1];
    const notYet = module.flagger.notYet;
    if (notYet?.fields.some((f) => f.join('.') === keys.join('.'))) {
      at(keys, notYet.message);
    } else if (!providers.includes(provider)) {
      const used = providers.map(flaggerName).join(' or ');
      at(keys, field === 'ingressRef'
        ? `is only used with provider ${used} (Flagger also takes its name for {{ ingress }} in metric queries; canarykit uses the target name there for other providers); remove it`
        : `is only used with provider ${used}, not ${providerNamed(spec.provider, meshProvider)} (Flagger ignores it); remove it${spec.provider === undefined ? ' or set spec.provider' : ''}`);
    }
  }
  if (spec.targetRef.kind !== 'Deployment') at(['targetRef', 'kind'], `${spec.targetRef.kind} targets are not supported yet; canarykit handles Deployments`);
  if (spec.autoscalerRef && spec.autoscalerRef.kind !== 'HorizontalPodAutoscaler') {
    at(['autoscalerRef', 'kind'], `${spec.autoscalerRef.kind} is not supported yet; canarykit handles HorizontalPodAutoscaler`);
  }
  out.push(...(module.flagger.unsupported?.(spec) ?? []));
  checkMatches(spec.service.match, ['spec', 'service', 'match'], out);
  checkMatches(spec.analysis.match, ['spec', 'analysis', 'match'], out);
  for (const [key, value] of Object.entries(spec.analysis.sessionAffinity ?? {})) {
    if (!SESSION_AFFINITY_FIELDS.has(key) && isSet(value)) {
      at(['analysis', 'sessionAffinity', key], 'cookie attributes are not supported yet (cookieName, primaryCookieName and maxAge are)');
    }
  }
  return out;
}
