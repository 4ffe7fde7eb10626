import { ProviderName } from '../model/providers';
import { GATEWAY_API } from './gateway-api';
import { ISTIO } from './istio';
import { KUBERNETES } from './kubernetes';
import { ProviderModule } from './module';
import { NGINX } from './nginx';

/**
 * Every traffic provider canarykit renders. A new provider is one module in this folder plus one
 * line here (and its capabilities in model/providers.ts); `satisfies` makes a missing or
 * mismatched entry a compile error.
 */
export const PROVIDERS = {
  istio: ISTIO,
  nginx: NGINX,
  gatewayapi: GATEWAY_API,
  kubernetes: KUBERNETES,
} as const satisfies { [N in ProviderName]: ProviderModule<N, any> };

/** The options a provider's factory takes. */
export type ProviderOptions<N extends ProviderName> = Parameters<(typeof PROVIDERS)[N]['router']>[0];

/** The provider modules in registry order. */
export function providerModules(): ProviderModule<ProviderName, unknown>[] {
  return Object.values(PROVIDERS) as ProviderModule<ProviderName, unknown>[];
}
