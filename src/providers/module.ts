import type { Duration } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { FlaggerCanarySpec } from '../compile/flagger-types';
import type { BuiltinMetricName } from '../model/builtin-metrics';
import type { RoutingFacts } from '../model/plan';
import type { Router } from './router';

/** The parts of a request an A/B `match` can select on. */
export type MatchKind = 'uri' | 'method' | 'headers' | 'cookies' | 'queryParams' | 'sourceLabels' | 'port' | 'scheme' | 'authority';

/** What a provider can do with traffic (Flagger keeps these as branches in its scheduler). */
export interface RoutingCapabilities {
  /** Flagger's `spec.provider` spelling, used where Flagger prints the provider (events). */
  readonly flaggerName: string;
  /** Routes a share of traffic to the canary (false: blue/green by Service switch only). */
  readonly shiftsWeights: boolean;
  /** Can mirror traffic to the canary (`analysis.mirror`). */
  readonly mirroring: boolean;
  /** Can pin users to the canary with a cookie (`analysis.sessionAffinity`). */
  readonly sessionAffinity: boolean;
  /** Request attributes an A/B `analysis.match` can select on (empty: no A/B testing). */
  readonly matchKinds: readonly MatchKind[];
  /** Honours `stepWeightPromotion` (promotes in steps instead of at once). */
  readonly promotionSteps: boolean;
  /**
   * Blue/green iterations this provider is forced into when none are set (Flagger's provider
   * kubernetes override); absent when the strategy follows the analysis fields.
   */
  readonly forcedBlueGreenIterations?: number;
}

/**
 * A target the provider rolls out in place (Flagger's canary factory picks a controller by the
 * target's apiVersion and kind): no `<name>-primary` copy and no apex/primary/canary Services.
 */
export interface RolledOutTarget {
  readonly apiVersion: string;
  readonly kind: string;
}

/** A field canarykit does not honour, and why. Segments are relative to the Canary object. */
export interface Unsupported {
  readonly segments: (string | number)[];
  readonly message: string;
}

/** What a provider's Flagger mapping gets from the compiler while translating one Canary. */
export interface FlaggerContext {
  /** Parses a Go duration at `spec...` segments, reporting a problem there when it is not one. */
  duration(text: string | undefined, segments: (string | number)[]): Duration | undefined;
  /** `spec.ingressRef`, loaded into the canary's chart (only for providers that ask for it). */
  readonly ingress?: IConstruct;
}

/** How a Flagger Canary with this provider becomes construct props. */
export interface FlaggerMapping<O> {
  /** `spec.provider` values this provider accepts; the first is the one canarykit prints. */
  readonly names: readonly string[];
  /** Canary fields (segments under `spec`) only this provider, among the supported ones, reads. */
  readonly fields: readonly (readonly string[])[];
  /** Needs `spec.ingressRef` resolved to an Ingress among the inputs. */
  readonly ingressRef?: boolean;
  /** Fields Flagger reads for this provider that canarykit cannot render yet, and why. */
  readonly notYet?: { readonly fields: readonly (readonly string[])[]; readonly message: string };
  /** Problems with values of fields this provider reads (checked after the generic ones). */
  unsupported?(spec: FlaggerCanarySpec): Unsupported[];
  /** The provider options for a validated spec. */
  toOptions(spec: FlaggerCanarySpec, ctx: FlaggerContext): O;
}

/** Flagger's metrics observer for a provider (src: pkg/metrics/observers/<provider>.go). */
export interface Observer {
  /** The observer's name, printed in query-render errors. */
  readonly name: string;
  /** PromQL of each built-in metric, with template variables. */
  readonly queries: Readonly<Record<BuiltinMetricName, string>>;
}

/**
 * Everything canarykit knows about one traffic provider. A new provider is one module exporting
 * one of these plus one line in registry.ts; the registry's `satisfies` clause checks both.
 */
export interface ProviderModule<N extends string, O> {
  readonly name: N;
  readonly capabilities: RoutingCapabilities;
  readonly observer: Observer;
  readonly flagger: FlaggerMapping<O>;
  /** The target this provider rolls out in place; absent: an apps/v1 Deployment copied to `-primary`. */
  readonly rollsOut?: RolledOutTarget;
  /** The router rendering this provider's objects for each stage. */
  router(options: O): Router;
}

/** The capabilities the driver's machine reads, as written into each plan (`plan.routing`). */
export function routingFacts(c: RoutingCapabilities): RoutingFacts {
  return { flaggerName: c.flaggerName, shiftsWeights: c.shiftsWeights, promotionSteps: c.promotionSteps };
}
