import { ProviderName } from '../providers/registry';
import { ProviderModule, Unsupported } from '../providers/module';
import { PROVIDERS, providerModules } from '../providers/registry';
import { FlaggerCanarySpec, FlaggerMatch } from './flagger-types';

export type { Unsupported };

/** Flagger `spec.provider` values canarykit renders, and the provider module each maps to. */
export const SUPPORTED_PROVIDERS: Readonly<Record<string, ProviderName>> = Object.fromEntries(
  providerModules().flatMap((m) => m.flagger.names.map((n) => [n, m.name])),
);


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
  // Flagger's router factory selects some providers by prefix (any `gloo*`); its CRD enum keeps
  // spec.provider to the exact names, so only the controller flag can carry another spelling.
  const byPrefix = providerModules().find((m) => m.flagger.namePrefix !== undefined && name.startsWith(m.flagger.namePrefix));
  if (byPrefix && value === undefined) return { provider: byPrefix.name };
  if (byPrefix) return { message: `"${name}" is rejected by Flagger's Canary CRD (its enum allows ${byPrefix.flagger.names.join(', ')}; other ${byPrefix.flagger.namePrefix}* spellings work only as --mesh-provider); use ${byPrefix.flagger.names[0]}` };
  const valid = Object.keys(SUPPORTED_PROVIDERS).join(', ');
  // Every value of Flagger's provider enum has a module, so anything else is unknown to Flagger too.
  if (value === undefined) return { message: `is not set, so the mesh provider "${name}" (--mesh-provider, controller.meshProvider of canarykit.yaml) applies, which is not a Flagger provider; set spec.provider or the mesh provider to one of: ${valid}` };
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


/*
 * Fields Flagger reads that are accepted and have nothing to do in git (README "What differs"):
 * - `revertOnDeletion`: Flagger's finalizer restores the target and the apex Service when the
 *   Canary is deleted. In git, deleting means removing the Canary from the inputs: the next compile
 *   writes the target unchanged (its replicas as written) to _unreferenced/ and no generated
 *   objects, so pruning them leaves the target serving through the user's own Service.
 * - `service.unmanagedMetadata`: Flagger keeps the listed labels/annotations that others set on
 *   the Services it updates. canarykit writes only its own keys, and kubectl/Flux/Argo CD apply
 *   leaves keys set by other field managers alone, so the listed keys survive as Flagger keeps them.
 * `service.trafficDistribution` is honoured (the three Services carry it).
 */

// Provider-specific fields in the order they are reported (Flagger's CanaryService field order).
const PROVIDER_FIELD_ORDER = [
  'service.hosts', 'service.gateways', 'service.gatewayRefs', 'service.delegation', 'service.trafficPolicy', 'service.match',
  'service.retries', 'service.timeout', 'service.backendTimeout', 'service.headers', 'service.corsPolicy', 'service.rewrite', 'service.meshName', 'service.backends', 'ingressRef', 'upstreamRef', 'routeRef',
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

/** Reference fields whose name Flagger also puts in a metric template variable for every provider (scheduler_metrics.go). */
const TEMPLATE_REFS: Readonly<Record<string, string>> = { ingressRef: 'ingress', routeRef: 'route' };

const MATCH_FIELDS = new Set(['uri', 'method', 'scheme', 'authority', 'headers', 'queryParams', 'sourceLabels', 'port', 'name', 'ignoreUriCase', 'withoutHeaders', 'sourceNamespace', 'gateways']);
const STRING_MATCH_FIELDS = ['uri', 'method', 'scheme', 'authority'] as const;
const STRING_MATCH_MAPS = ['headers', 'queryParams', 'withoutHeaders'] as const;
// Flagger's StringMatch has `suffix`, Istio's VirtualService CRD does not: the API server prunes it,
// and a match left empty selects every request (it would send all traffic to the canary).
const SUFFIX_MESSAGE = 'suffix matches are not rendered by canarykit for any provider (with Istio the API server would drop the field, as its VirtualService has none, and the match would select every request); use regex, e.g. ".*value$"';

function get(spec: FlaggerCanarySpec, keys: string[]): unknown {
  return keys.reduce<any>((v, k) => v?.[k], spec);
}

function checkMatches(matches: FlaggerMatch[] | undefined, base: (string | number)[], out: Unsupported[]): void {
  (matches ?? []).forEach((m, i) => {
    for (const key of Object.keys(m)) {
      if (!MATCH_FIELDS.has(key)) out.push({ segments: [...base, i, key], message: `is not supported yet in matches (supported: ${[...MATCH_FIELDS].join(', ')})` });
    }
    for (const key of STRING_MATCH_FIELDS) {
      if (m[key]?.suffix !== undefined) out.push({ segments: [...base, i, key, 'suffix'], message: SUFFIX_MESSAGE });
    }
    for (const key of STRING_MATCH_MAPS) {
      for (const [name, sm] of Object.entries(m[key] ?? {})) {
        if (sm.suffix !== undefined) out.push({ segments: [...base, i, key, name, 'suffix'], message: SUFFIX_MESSAGE });
      }
    }
  });
}

/**
 * A target the provider cannot roll out: a Knative Service needs provider knative and that
 * provider needs one (controller.go verifyKnativeCanary); otherwise Deployments, DaemonSets and core Services are handled.
 */
export function targetProblem(spec: FlaggerCanarySpec, provider: ProviderName): Unsupported | undefined {
  const inPlace = (PROVIDERS[provider] as ProviderModule<ProviderName, unknown>).rollsOut;
  const ref = spec.targetRef;
  const at = (keys: string[], message: string): Unsupported => ({ segments: ['spec', ...keys], message });
  if (inPlace) {
    if (ref.kind === inPlace.kind && ref.apiVersion === inPlace.apiVersion) return undefined;
    return at(['targetRef'], `must be a ${inPlace.apiVersion} ${inPlace.kind} with provider ${flaggerName(provider)} (got ${ref.apiVersion} ${ref.kind})`);
  }
  const owner = providerModules().find((m) => m.rollsOut?.kind === ref.kind && m.rollsOut.apiVersion === ref.apiVersion);
  if (owner) return at(['targetRef'], `a ${ref.apiVersion} ${ref.kind} target needs provider ${owner.flagger.names[0]} (Flagger: can't use ${flaggerName(provider)} provider with that target)`);
  // src: pkg/canary/factory.go Controller: any other Service is a core Service (the ServiceController reads it with CoreV1).
  if (ref.kind === 'Service') return undefined;
  if (ref.kind !== 'Deployment' && ref.kind !== 'DaemonSet') return at(['targetRef', 'kind'], `${ref.kind} targets are not supported yet; canarykit handles Deployments, DaemonSets and Services`);
  return undefined;
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
  for (const [keys, providers] of PROVIDER_FIELDS) {
    if (!isSet(get(spec, keys))) continue;
    const field = keys[keys.length - 1];
    const notYet = module.flagger.notYet;
    if (notYet?.fields.some((f) => f.join('.') === keys.join('.'))) {
      at(keys, notYet.message);
    } else if (!providers.includes(provider)) {
      const used = providers.map(flaggerName).join(' or ');
      const variable = TEMPLATE_REFS[field];
      at(keys, variable
        ? `is only used with provider ${used} (Flagger also takes its name for {{ ${variable} }} in metric queries; canarykit uses the target name there for other providers); remove it`
        : `is only used with provider ${used}, not ${providerNamed(spec.provider, meshProvider)} (Flagger ignores it); remove it${spec.provider === undefined ? ' or set spec.provider' : ''}`);
    }
  }
  const target = targetProblem(spec, provider);
  if (target) out.push(target);
  const scaler = spec.autoscalerRef;
  if (scaler && scaler.kind !== 'HorizontalPodAutoscaler' && scaler.kind !== 'ScaledObject') {
    at(['autoscalerRef', 'kind'], `${scaler.kind} is not supported; canarykit handles HorizontalPodAutoscaler and ScaledObject (KEDA), as Flagger does`);
  }
  // src: scaled_object_reconciler.go setPrimaryScaledObjectQueries reads it; the HPA reconciler does not.
  if (scaler?.primaryScalerQueries && scaler.kind !== 'ScaledObject') {
    at(['autoscalerRef', 'primaryScalerQueries'], 'is only used with a KEDA ScaledObject (Flagger ignores it for a HorizontalPodAutoscaler); remove it');
  }
  out.push(...(module.flagger.unsupported?.(spec) ?? []));
  checkMatches((spec.service as FlaggerCanarySpec['service'] | undefined)?.match, ['spec', 'service', 'match'], out);
  checkMatches(spec.analysis.match, ['spec', 'analysis', 'match'], out);
  return out;
}
