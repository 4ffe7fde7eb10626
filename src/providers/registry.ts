import { APPMESH, APPMESH_V1BETA2 } from './appmesh';
import { APISIX } from './apisix';
import { CONTOUR } from './contour';
import { GATEWAY_API, GATEWAY_API_V1BETA1 } from './gateway-api';
import { GLOO } from './gloo';
import { ISTIO } from './istio';
import { KNATIVE } from './knative';
import { KUBERNETES } from './kubernetes';
import { KUMA } from './kuma';
import { ProviderModule } from './module';
import { NGINX } from './nginx';
import { LINKERD, OSM, SMI_V1ALPHA1, SMI_V1ALPHA2, SMI_V1ALPHA3 } from './smi';
import { SKIPPER } from './skipper';
import { TRAEFIK } from './traefik';

/**
 * A registry whose every key is the name of the module it holds: `{ istio: NGINX }` does not
 * type-check, so the name a plan records always finds its own module.
 */
function registry<T extends { [K in keyof T]: ProviderModule<K & string, any> }>(modules: T): T {
  return modules;
}

/**
 * Every traffic provider canarykit renders. A new provider is one module in this folder plus one
 * line here: its routing objects, capabilities, metric queries and Flagger mapping all live in the
 * module, and the construct writes the facts the driver needs into each plan (`plan.routing`).
 */
export const PROVIDERS = registry({
  istio: ISTIO,
  nginx: NGINX,
  gatewayapi: GATEWAY_API,
  gatewayapiv1beta1: GATEWAY_API_V1BETA1,
  kubernetes: KUBERNETES,
  linkerd: LINKERD,
  osm: OSM,
  smiv1alpha1: SMI_V1ALPHA1,
  smiv1alpha2: SMI_V1ALPHA2,
  smiv1alpha3: SMI_V1ALPHA3,
  contour: CONTOUR,
  traefik: TRAEFIK,
  appmesh: APPMESH,
  appmeshv1beta2: APPMESH_V1BETA2,
  gloo: GLOO,
  skipper: SKIPPER,
  kuma: KUMA,
  apisix: APISIX,
  knative: KNATIVE,
});

/** Traffic providers canarykit can render. */
export type ProviderName = keyof typeof PROVIDERS;

/** Every provider name, in registry order. */
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

/** The options a provider's factory takes. */
export type ProviderOptions<N extends ProviderName> = Parameters<(typeof PROVIDERS)[N]['router']>[0];

/**
 * The provider whose observer answers the built-in metrics when it is not the canary's own
 * (scheduler_metrics.go runBuiltinMetricChecks): Flagger keeps Linkerd's queries for every Canary
 * that names its provider while the controller's -mesh-provider is a Linkerd one.
 */
export function builtinMetricsProvider(specProvider: string | undefined, meshProvider: string | undefined): ProviderName | undefined {
  return specProvider !== undefined && meshProvider?.includes('linkerd') ? 'linkerd' : undefined;
}

/** The provider modules in registry order. */
export function providerModules(): ProviderModule<ProviderName, unknown>[] {
  return Object.values(PROVIDERS) as ProviderModule<ProviderName, unknown>[];
}

/**
 * The provider whose observer answers the built-in metrics of a Canary: a core/v1 Service target
 * makes Flagger look up `<provider>:service` (scheduler_metrics.go), which observers/factory.go
 * matches by prefix for a few providers and otherwise answers with the Istio observer.
 */
export function builtinObserverProvider(provider: ProviderName, serviceTarget: boolean): ProviderName {
  if (!serviceTarget) return provider;
  return (PROVIDERS[provider] as ProviderModule<ProviderName, unknown>).observerMatchesServiceSuffix ? provider : 'istio';
}
