import { Problem } from '../errors';
import { Json, nonEmpty } from '../constructs/workload/deployment-json';
import { AppMeshRouterOptions, appMeshProblems, HeaderMatch, routeSettings, RouteSettings } from './appmesh-common';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptReplace, adoptWith } from './adopt';

// VirtualNode and VirtualService (appmesh.k8s.aws/v1beta1) as Flagger's pkg/apis/appmesh/v1beta1
// serializes them: only the fields its AppMeshRouter sets. Weights and the prefix have no
// `omitempty`, so a zero weight is written.

interface PortMapping {
  port: number;
  protocol: string;
}
interface WeightedTarget {
  virtualNodeName: string;
  weight: number;
}
interface HttpRoute {
  match: { prefix: string; headers?: HeaderMatch[] };
  action: { weightedTargets: WeightedTarget[] };
  retryPolicy?: { perRetryTimeoutMillis: number; maxRetries: number; httpRetryEvents: string[] };
}
interface Route {
  name: string;
  http: HttpRoute;
  priority?: number;
}
/** The spec of a v1beta1 VirtualService Flagger writes (router embedded). */
export interface AppMeshV1beta1VirtualServiceSpec {
  meshName: string;
  virtualRouter: { name: string; listeners: { portMapping: PortMapping }[] };
  routes: Route[];
}
/** The spec of a v1beta1 VirtualNode Flagger writes. */
export interface AppMeshV1beta1VirtualNodeSpec {
  meshName: string;
  listeners: { portMapping: PortMapping }[];
  serviceDiscovery: { dns: { hostName: string } };
  backends?: { virtualService: { virtualServiceName: string } }[];
  logging?: { accessLog: { file: { path: string } } };
}

type V1beta1Object = RoutingObject<'VirtualNode', AppMeshV1beta1VirtualNodeSpec> | RoutingObject<'VirtualService', AppMeshV1beta1VirtualServiceSpec>;

const API_VERSION = 'appmesh.k8s.aws/v1beta1';

/**
 * Flagger's AppMeshRouter (src: pkg/router/appmesh.go): VirtualNodes `<svc>`, `<svc>-primary`,
 * `<svc>-canary` and VirtualServices `<svc>.<ns>` (the weighted one) and `<svc>-canary.<ns>`
 * (all traffic to the canary, for tests that call the canary directly).
 */
export class AppMeshV1beta1Router implements Router {
  readonly provider = 'appmesh' as const;
  constructor(private readonly opts: AppMeshRouterOptions) {}

  validate(input: RouterInput): Problem[] {
    const problems = appMeshProblems(input, this.opts, 'appmesh', 'provider.appmesh');
    // Reconcile: "mesh name cannot be empty".
    if (!this.opts.meshName) problems.push({ path: 'provider.appmesh.meshName', message: 'is required for App Mesh v1beta1 (Flagger refuses an empty service.meshName)' });
    // The v1beta1 router uses the timeout only in the gateway annotation, which needs hosts.
    if (this.opts.timeout && !this.opts.hosts?.length) {
      problems.push({ path: 'provider.appmesh.timeout', message: 'is only written as the App Mesh gateway annotation on v1beta1, which needs hosts (Flagger ignores it otherwise); set hosts or remove timeout' });
    }
    return problems;
  }

  /**
   * src: pkg/router/appmesh.go. reconcileVirtualNode sets spec, labels and annotations;
   * reconcileVirtualService sets the spec, and the gateway annotations on the apex VirtualService
   * when there are some: otherwise the existing metadata stays.
   */
  adopt(generated: RoutingObject, existing: Json): RoutingObject {
    if (generated.kind === 'VirtualNode') return adoptReplace(generated, existing);
    const gateway = generated.metadata.annotations && Object.keys(generated.metadata.annotations).length > 0;
    return adoptWith(generated, existing, existing.metadata?.labels, gateway ? generated.metadata.annotations : existing.metadata?.annotations);
  }

  render(input: RouterInput): V1beta1Object[] {
    const { names, namespace } = input;
    const s = routeSettings(input, this.opts);
    const primaryHost = `${names.primary}.${namespace}`;
    return [
      // reconcileVirtualNode: the apex node resolves to the primary's DNS name, as Flagger writes it.
      this.node(input, names.apex, primaryHost, s),
      this.node(input, names.primary, primaryHost, s),
      this.node(input, names.canary, `${names.canary}.${namespace}`, s),
      this.service(input, `${names.apex}.${namespace}`, false, s),
      this.service(input, `${names.canary}.${namespace}`, true, s),
    ];
  }

  private node(input: RouterInput, name: string, hostName: string, s: RouteSettings): V1beta1Object {
    const backends = this.opts.backends ?? [];
    return {
      apiVersion: API_VERSION,
      kind: 'VirtualNode',
      metadata: { name, namespace: input.namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
      spec: {
        meshName: this.opts.meshName ?? '',
        listeners: [{ portMapping: { port: input.port, protocol: s.protocol } }],
        serviceDiscovery: { dns: { hostName } },
        ...(backends.length ? { backends: backends.map((b) => ({ virtualService: { virtualServiceName: b } })) } : {}),
        ...(this.opts.accessLog ? { logging: { accessLog: { file: { path: '/dev/stdout' } } } } : {}),
      },
    };
  }

  /** reconcileVirtualService for the apex (`toCanary` false) or the canary (all traffic to it). */
  private service(input: RouterInput, name: string, toCanary: boolean, s: RouteSettings): V1beta1Object {
    const { names, weights } = input;
    const routerName = toCanary ? `${names.apex}-canary` : names.apex;
    const retryPolicy = s.retry && { perRetryTimeoutMillis: s.retry.perRetryTimeoutMs, maxRetries: s.retry.maxRetries, httpRetryEvents: s.retry.events };
    const targets = (canary: number, primary: number): WeightedTarget[] => [
      { virtualNodeName: names.canary, weight: canary },
      { virtualNodeName: names.primary, weight: primary },
    ];
    const http = (action: WeightedTarget[], headers?: HeaderMatch[]): HttpRoute => ({
      match: { prefix: s.prefix, ...(headers?.length ? { headers } : {}) },
      ...(retryPolicy ? { retryPolicy } : {}),
      action: { weightedTargets: action },
    });
    // SetRoutes rewrites the weights of the first route of `<svc>.<ns>` only.
    let routes: Route[];
    if (toCanary) routes = [{ name: routerName, http: http(targets(100, 0)) }];
    else if (input.analysis.match.length) {
      routes = [
        { name: `${names.apex}-a`, priority: 10, http: http(targets(weights.canary, weights.primary), s.headers) },
        { name: `${names.apex}-b`, priority: 20, http: http([{ virtualNodeName: names.primary, weight: 100 }]) },
      ];
    } else routes = [{ name: routerName, http: http(targets(weights.canary, weights.primary)) }];
    const annotations = toCanary ? undefined : s.gatewayAnnotations;
    return {
      apiVersion: API_VERSION,
      kind: 'VirtualService',
      metadata: { name, namespace: input.namespace, ...(annotations ? { annotations } : {}) },
      spec: {
        meshName: this.opts.meshName ?? '',
        virtualRouter: { name: routerName, listeners: [{ portMapping: { port: input.port, protocol: s.protocol } }] },
        routes,
      },
    };
  }
}
