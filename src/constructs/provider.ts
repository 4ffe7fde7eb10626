import { ValidationError } from '../errors';
import { AppMeshOptions } from '../providers/appmesh';
import { ApisixOptions } from '../providers/apisix';
import { ContourOptions } from '../providers/contour';
import { GatewayApiOptions, GatewayApiVersion } from '../providers/gateway-api';
import { GlooOptions } from '../providers/gloo';
import { IstioOptions } from '../providers/istio';
import { KumaOptions } from '../providers/kuma';
import { KnativeOptions } from '../providers/knative';
import { NginxOptions } from '../providers/nginx';
import { PROVIDERS, ProviderName, ProviderOptions } from '../providers/registry';
import { Router } from '../providers/router';
import { SkipperOptions } from '../providers/skipper';
import { SmiApiVersion, SmiOptions } from '../providers/smi';

/** Options of `Provider.gatewayApi()`. */
export interface GatewayApiProviderOptions extends GatewayApiOptions {
  /**
   * HTTPRoute API version: `v1beta1` is Flagger's `gatewayapi:v1beta1` (no timeouts, no primary
   * cookie, no wait for the route to be Accepted). @default 'v1'
   */
  readonly apiVersion?: GatewayApiVersion;
}

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
  /** Gateway API HTTPRoute with weighted backendRefs (`gateway.networking.k8s.io/v1` unless `apiVersion` says otherwise). */
  static gatewayApi(options: GatewayApiProviderOptions): Provider {
    const { apiVersion = 'v1', ...rest } = options;
    switch (apiVersion) {
      case 'v1':
        return Provider.of('gatewayapi', rest);
      case 'v1beta1':
        return Provider.of('gatewayapiv1beta1', rest);
    }
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
   * AWS App Mesh: VirtualNodes for primary and canary and a weighted virtual router behind the
   * `<svc>` VirtualService (`apiVersion` picks the controller API, v1beta2 unless set).
   */
  static appMesh(options: AppMeshOptions = {}): Provider {
    const { apiVersion, ...rest } = options;
    switch (apiVersion) {
      case 'v1beta1':
        return Provider.of('appmesh', rest);
      case undefined:
      case 'v1beta2':
        return Provider.of('appmeshv1beta2', rest);
      default:
        throw new ValidationError([{ path: 'provider.appmesh.apiVersion', message: `must be v1beta1 or v1beta2 (got ${JSON.stringify(apiVersion)})` }]);
    }
  }
  /**
   * Gloo Edge: a RouteTable `<svc>` (for your VirtualService to delegate to) with a weighted route to
   * the primary and canary Upstreams it also writes.
   */
  static gloo(options: GlooOptions = {}): Provider {
    return Provider.of('gloo', options);
  }
  /** Skipper: a `<ingress>-canary` clone of your Ingress whose backend-weights annotation splits primary and canary. */
  static skipper(options: SkipperOptions): Provider {
    return Provider.of('skipper', options);
  }
  /** Kuma: a cluster-scoped TrafficRoute `<svc>` splitting the apex service between primary and canary by weight. */
  static kuma(options: KumaOptions = {}): Provider {
    return Provider.of('kuma', options);
  }
  /** APISIX: a canary ApisixRoute `<route>-<svc>-canary`, cloned from your ApisixRoute, with weighted primary and canary backends. */
  static apisix(options: ApisixOptions): Provider {
    return Provider.of('apisix', options);
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
