import { Problem } from '../errors';
import { Json, nonEmpty } from '../constructs/workload/deployment-json';
import { AppMeshRouterOptions, appMeshProblems, HeaderMatch, routeSettings, RouteSettings } from './appmesh-common';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptAsIs, adoptWith } from './adopt';

// VirtualNode, VirtualRouter and VirtualService (appmesh.k8s.aws/v1beta2) as Flagger's
// pkg/apis/appmesh/v1beta2 serializes them: only the fields its AppMeshv1beta2Router sets.

interface AppMeshDuration {
  unit: 'ms';
  value: number;
}
interface PortMapping {
  port: number;
  protocol: string;
}
interface WeightedTarget {
  virtualNodeRef: { name: string };
  weight: number;
}
interface HttpRoute {
  match: { prefix: string; headers?: HeaderMatch[] };
  action: { weightedTargets: WeightedTarget[] };
  retryPolicy?: { httpRetryEvents: string[]; maxRetries: number; perRetryTimeout: AppMeshDuration };
  timeout?: { perRequest: AppMeshDuration };
}
/** The spec of a v1beta2 VirtualRouter Flagger writes. */
export interface AppMeshVirtualRouterSpec {
  listeners: { portMapping: PortMapping }[];
  routes: { name: string; httpRoute: HttpRoute; priority?: number }[];
}
/** The spec of a v1beta2 VirtualNode Flagger writes. */
export interface AppMeshVirtualNodeSpec {
  podSelector: { matchLabels: Record<string, string> };
  listeners: { portMapping: PortMapping; timeout?: { http: { perRequest: AppMeshDuration } } }[];
  serviceDiscovery: { dns: { hostname: string } };
  backends?: { virtualService: { virtualServiceRef: { name: string } } | { virtualServiceARN: string } }[];
  logging?: { accessLog: { file: { path: string } } };
}
/** The spec of a v1beta2 VirtualService Flagger writes (provided by the VirtualRouter of its name). */
export interface AppMeshVirtualServiceSpec {
  provider: { virtualRouter: { virtualRouterRef: { name: string } } };
}

type V1beta2Object =
  | RoutingObject<'VirtualNode', AppMeshVirtualNodeSpec>
  | RoutingObject<'VirtualRouter', AppMeshVirtualRouterSpec>
  | RoutingObject<'VirtualService', AppMeshVirtualServiceSpec>;

const API_VERSION = 'appmesh.k8s.aws/v1beta2';

/**
 * Flagger's AppMeshv1beta2Router (src: pkg/router/appmesh_v1beta2.go): VirtualNodes
 * `<svc>-primary` and `<svc>-canary`, VirtualRouters `<svc>` (weighted) and `<svc>-canary` (all
 * traffic to the canary), and a VirtualService of the same name in front of each router.
 */
export class AppMeshV1beta2Router implements Router {
  readonly provider = 'appmeshv1beta2' as const;
  constructor(private readonly opts: AppMeshRouterOptions) {}

  validate(input: RouterInput): Problem[] {
    const problems = appMeshProblems(input, this.opts, 'appmesh:v1beta2', 'provider.appmesh');
    // The v1beta2 router never reads service.meshName: the Mesh selects namespaces by label.
    if (this.opts.meshName) problems.push({ path: 'provider.appmesh.meshName', message: 'is only used by App Mesh v1beta1 (on v1beta2 the Mesh selects namespaces by label, and Flagger ignores meshName); remove it' });
    const t = this.opts.timeout?.toMilliseconds();
    if (t !== undefined && (!Number.isInteger(t) || t < 0)) problems.push({ path: 'provider.appmesh.timeout', message: 'must be a whole number of milliseconds' });
    return problems;
  }

  /**
   * src: pkg/router/appmesh_v1beta2.go. reconcileVirtualNode sets spec, labels and annotations but
   * keeps the existing awsName and meshRef; reconcileVirtualRouter sets the spec (awsName and meshRef
   * kept) and nothing else; a VirtualService is only created with its VirtualRouter, never updated.
   */
  adopt(generated: RoutingObject, existing: Json): RoutingObject {
    if (generated.kind === 'VirtualService') return adoptAsIs(generated, existing);
    const node = generated.kind === 'VirtualNode';
    const out = adoptWith(generated, existing, node ? generated.metadata.labels : existing.metadata?.labels, node ? generated.metadata.annotations : existing.metadata?.annotations);
    const spec = { ...(out.spec as Json) };
    for (const k of ['awsName', 'meshRef']) if (existing.spec?.[k] !== undefined) spec[k] = existing.spec[k];
    return { ...out, spec };
  }

  render(input: RouterInput): V1beta2Object[] {
    const { names, namespace } = input;
    const s = routeSettings(input, this.opts);
    const host = (name: string): string => `${name}.${namespace}.svc.cluster.local.`;
    // Flagger selects the pods by the target's name, not the selector label's value.
    const target = input.target?.name ?? names.apex;
    return [
      this.node(input, names.primary, `${target}-primary`, host(names.primary), s),
      this.node(input, names.canary, target, host(names.canary), s),
      this.router(input, names.apex, false, s),
      this.service(input, names.apex, s.gatewayAnnotations),
      this.router(input, names.canary, true, s),
      this.service(input, names.canary, undefined),
    ];
  }

  /** getContainerPort: a numeric targetPort wins over the Service port. */
  private containerPort(input: RouterInput): number {
    return typeof input.targetPort === 'number' && input.targetPort > 0 ? input.targetPort : input.port;
  }

  /** makeRouteTimeout: `service.timeout` in milliseconds. */
  private perRequest(): { perRequest: AppMeshDuration } | undefined {
    return this.opts.timeout ? { perRequest: { unit: 'ms', value: this.opts.timeout.toMilliseconds() } } : undefined;
  }

  private node(input: RouterInput, name: string, podValue: string, hostname: string, s: RouteSettings): V1beta2Object {
    const timeout = this.perRequest();
    const backends = (this.opts.backends ?? []).map((b) => ({
      virtualService: b.startsWith('arn:aws') ? { virtualServiceARN: b } : { virtualServiceRef: { name: b } },
    }));
    return {
      apiVersion: API_VERSION,
      kind: 'VirtualNode',
      metadata: { name, namespace: input.namespace, labels: nonEmpty(input.apex?.labels), annotations: nonEmpty(input.apex?.annotations) },
      spec: {
        podSelector: { matchLabels: { [input.selector?.key ?? 'app']: podValue } },
        listeners: [{ portMapping: { port: this.containerPort(input), protocol: s.protocol }, ...(timeout ? { timeout: { http: timeout } } : {}) }],
        serviceDiscovery: { dns: { hostname } },
        ...(backends.length ? { backends } : {}),
        ...(this.opts.accessLog ? { logging: { accessLog: { file: { path: '/dev/stdout' } } } } : {}),
      },
    };
  }

  /** reconcileVirtualRouter for the apex (`toCanary` false) or the canary (all traffic to it). */
  private router(input: RouterInput, name: string, toCanary: boolean, s: RouteSettings): V1beta2Object {
    const { names, weights } = input;
    const timeout = this.perRequest();
    const retryPolicy = s.retry && { httpRetryEvents: s.retry.events, maxRetries: s.retry.maxRetries, perRetryTimeout: { unit: 'ms' as const, value: s.retry.perRetryTimeoutMs } };
    const targets = (canary: number, primary: number): WeightedTarget[] => [
      { virtualNodeRef: { name: names.canary }, weight: canary },
      { virtualNodeRef: { name: names.primary }, weight: primary },
    ];
    const http = (action: WeightedTarget[], headers?: HeaderMatch[]): HttpRoute => ({
      match: { prefix: s.prefix, ...(headers?.length ? { headers } : {}) },
      ...(timeout ? { timeout } : {}),
      ...(retryPolicy ? { retryPolicy } : {}),
      action: { weightedTargets: action },
    });
    const routeName = toCanary ? `${names.apex}-canary` : names.apex;
    // SetRoutes rewrites the weights of the first route of VirtualRouter `<svc>` only.
    let routes: AppMeshVirtualRouterSpec['routes'];
    if (toCanary) routes = [{ name: routeName, httpRoute: http(targets(100, 0)) }];
    else if (input.analysis.match.length) {
      routes = [
        { name: `${names.apex}-a`, priority: 10, httpRoute: http(targets(weights.canary, weights.primary), s.headers) },
        { name: `${names.apex}-b`, priority: 20, httpRoute: http([{ virtualNodeRef: { name: names.primary }, weight: 100 }]) },
      ];
    } else routes = [{ name: routeName, httpRoute: http(targets(weights.canary, weights.primary)) }];
    return {
      apiVersion: API_VERSION,
      kind: 'VirtualRouter',
      metadata: { name, namespace: input.namespace },
      spec: { listeners: [{ portMapping: { port: this.containerPort(input), protocol: s.protocol } }], routes },
    };
  }

  private service(input: RouterInput, name: string, annotations: Record<string, string> | undefined): V1beta2Object {
    return {
      apiVersion: API_VERSION,
      kind: 'VirtualService',
      metadata: { name, namespace: input.namespace, ...(annotations ? { annotations } : {}) },
      spec: { provider: { virtualRouter: { virtualRouterRef: { name } } } },
    };
  }
}
