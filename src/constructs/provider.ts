import { ProviderName } from '../stages/plan';
import { GatewayApiOptions, GatewayApiRouter } from './routers/gateway-api';
import { IstioOptions, IstioRouter } from './routers/istio';
import { KubernetesRouter } from './routers/kubernetes';
import { NginxOptions, NginxRouter } from './routers/nginx';
import { Router } from './routers/router';

/** Builds the router of one provider from that provider's options. */
type RouterFactory<O> = (options: O) => Router;

/**
 * Every provider and its router. A new provider is one file in routers/ plus one line here; the
 * `satisfies` clause makes a missing provider a compile error.
 */
export const ROUTERS = {
  istio: (o: IstioOptions) => new IstioRouter(o),
  nginx: (o: NginxOptions) => new NginxRouter(o),
  gatewayapi: (o: GatewayApiOptions) => new GatewayApiRouter(o),
  kubernetes: (_o: Record<string, never>) => new KubernetesRouter(),
} satisfies Record<ProviderName, RouterFactory<never>>;

/** The traffic provider of a Canary. Create one with a static factory. */
export class Provider {
  /** Istio DestinationRules and a weighted VirtualService. */
  static istio(options: IstioOptions = {}): Provider {
    return new Provider(ROUTERS.istio(options));
  }
  /** NGINX ingress controller canary annotations on a clone of your Ingress. */
  static nginx(options: NginxOptions): Provider {
    return new Provider(ROUTERS.nginx(options));
  }
  /** Gateway API HTTPRoute with weighted backendRefs. */
  static gatewayApi(options: GatewayApiOptions): Provider {
    return new Provider(ROUTERS.gatewayapi(options));
  }
  /** Blue/green with plain Kubernetes Services (no traffic shifting). */
  static kubernetes(): Provider {
    return new Provider(ROUTERS.kubernetes({}));
  }

  /** Names accepted where a provider is given as text (Flagger YAML). */
  static readonly NAMES = Object.keys(ROUTERS) as ProviderName[];

  private constructor(readonly router: Router) {}

  get name(): ProviderName {
    return this.router.provider;
  }
}
