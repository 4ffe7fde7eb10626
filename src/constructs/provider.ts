import { ContourOptions } from '../providers/contour';
import { GatewayApiOptions } from '../providers/gateway-api';
import { IstioOptions } from '../providers/istio';
import { NginxOptions } from '../providers/nginx';
import { PROVIDERS, ProviderName, ProviderOptions } from '../providers/registry';
import { Router } from '../providers/router';
import { TraefikOptions } from '../providers/traefik';

/** The traffic provider of a Canary. Create one with a static factory. */
export class Provider {
  /** Istio DestinationRules and a weighted VirtualService. */
  static istio(options: IstioOptions = {}): Provider {
    return Provider.of('istio', options);
  }
  /** NGINX ingress controller canary annotations on a clone of your Ingress. */
  static nginx(options: NginxOptions): Provider {
    return Provider.of('nginx', options);
  }
  /** Gateway API HTTPRoute with weighted backendRefs. */
  static gatewayApi(options: GatewayApiOptions): Provider {
    return Provider.of('gatewayapi', options);
  }
  /** Contour: an HTTPProxy `<svc>` with weighted primary/canary services, for your root HTTPProxy to include. */
  static contour(options: ContourOptions = {}): Provider {
    return Provider.of('contour', options);
  }
  /** Traefik: a TraefikService `<svc>` (weighted round robin) for your IngressRoute to send traffic to. */
  static traefik(options: TraefikOptions = {}): Provider {
    return Provider.of('traefik', options);
  }
  /** Blue/green with plain Kubernetes Services (no traffic shifting). */
  static kubernetes(): Provider {
    return Provider.of('kubernetes', {});
  }

  /**
   * The provider `name` built from its module's options (the compiler maps Flagger YAML this way).
   * @internal
   */
  static of<N extends ProviderName>(name: N, options: ProviderOptions<N>): Provider {
    const module = PROVIDERS[name] as { router(o: ProviderOptions<N>): Router };
    return new Provider(name, module.router(options));
  }

  private constructor(
    /** The provider's name in the registry. */
    readonly name: ProviderName,
    /** @internal */
    readonly router: Router,
  ) {}
}
