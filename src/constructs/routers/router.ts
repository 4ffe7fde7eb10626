import { Problem } from '../../errors';
import { PlannedRoute, ProviderName, Strategy } from '../../stages/plan';
import { SessionAffinityState } from '../../stages/state';
import { HttpMatch } from '../match';
import { ObjectMetadataOptions } from '../service-options';
import { Json } from '../workload/deployment-json';
import { ServiceNames } from '../workload/services';

/** Route weights at the committed stage. */
export interface RouteWeights {
  readonly primary: number;
  readonly canary: number;
  readonly mirror: boolean;
}

/** Analysis settings that shape the routing objects. */
export interface RoutingAnalysis {
  readonly strategy: Strategy;
  readonly match: readonly HttpMatch[];
  readonly mirror: boolean;
  readonly mirrorWeight: number;
  readonly iterations: number;
  readonly intervalSeconds: number;
  readonly sessionAffinity?: { cookieName: string; primaryCookieName?: string; maxAge: number };
}

/** Everything a router needs to render one stage. */
export interface RouterInput {
  readonly namespace: string;
  readonly names: ServiceNames;
  readonly port: number;
  readonly portDiscovery: boolean;
  readonly apex?: ObjectMetadataOptions;
  readonly analysis: RoutingAnalysis;
  readonly weights: RouteWeights;
  readonly cookies?: SessionAffinityState;
}

/**
 * One traffic provider. Like Flagger's router seam, but pure: it renders objects for a stage
 * instead of mutating a cluster, and it says up front which requested features it cannot express.
 */
export interface Router {
  readonly provider: ProviderName;
  /** Problems with features this provider cannot express (paths relative to the Canary props). */
  validate(input: RouterInput): Problem[];
  /** The routing objects for this stage, as plain manifests. */
  render(input: RouterInput): Json[];
  /**
   * The routing object whose status the driver must see accepted before a tick goes on (Flagger's
   * GetRoutes readiness check), for providers that have one. @default - none
   */
  routeStatus?(input: RouterInput): PlannedRoute;
  /** Name used by the `{{ ingress }}` template variable. @default - target name */
  readonly ingressName?: string;
}
