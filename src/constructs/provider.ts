import { ContourOptions } from '../providers/contour';
import { GatewayApiOptions } from '../providers/gateway-api';
import { IstioOptions } from '../providers/istio';
import { KnativeOptions } from '../providers/knative';
import { NginxOptions } from '../providers/nginx';
import { PROVIDERS, ProviderName, ProviderOptions } from '../providers/registry';
import { Router } from '../providers/router';
import { SmiApiVersion, SmiOptions } from '../providers/smi';

/** Options of `Provider.smi()`. */
export interface SmiProviderOptions extends SmiOptions {
  /** TrafficSplit API version (`split.smi-spec.io/<apiVersion>`), the one your mesh serves. */
  readonly apiVersion: SmiApiVersion;
}
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
  /**
   * Knative Serving: the target is your Knative Service, whose `spec.traffic` is split between its
   * latest revision (the canary) and the promoted one, named from template hashes.
   */
  static knative(options: KnativeOptions = {}): Provider {
    return Provider.of('knative', options);
  }
  /** Blue/green with plain Kubernetes Services (no traffic shifting). */
  static kubernetes(): Provider {
    return Provider.of('kubernetes', {});
  }
  /** Linkerd: an SMI `split.smi-spec.io/v1alpha1` TrafficSplit, Linkerd's proxy metrics. */
  static linkerd(options: Pick<SmiOptions, 'hosts'> = {}): Provider {
    return Provider.of('linkerd', options);
  }
  /** Open Service Mesh: an SMI `split.smi-spec.io/v1alpha2` TrafficSplit, OSM's metrics. */
  static osm(options: Pick<SmiOptions, 'hosts'> = {}): Provider {
    return Provider.of('osm', options);
  }
  /**
   * Any SMI mesh (Flagger's `smi:<apiVersion>:<mesh>`): a TrafficSplit of that API version; the
   * built-in metrics are Flagger's default (Istio's) queries.
   */
  static smi(options: SmiProviderOptions): Provider {
    const { apiVersion, ...rest } = options;
    switch (apiVersion) {
      case 'v1alpha1':
        return Provider.of('smiv1alpha1', rest);
      case 'v1alpha2':
        return Provider.of('smiv1alpha2', rest);
      case 'v1alpha3':
        return Provider.of('smiv1alpha3', rest);
    }
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
