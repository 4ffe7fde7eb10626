import type { Duration } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { FlaggerCanarySpec } from '../compile/flagger-types';
import type { BuiltinMetricName } from '../model/builtin-metrics';
import type { TemplateVars } from '../constructs/metrics/template';
import type { RoutingFacts } from '../model/plan';
import type { Json } from '../constructs/workload/deployment-json';
import type { Router } from './router';

/** The parts of a request an A/B `match` can select on. */
export type MatchKind =
  | 'uri' | 'method' | 'headers' | 'cookies' | 'queryParams' | 'sourceLabels' | 'port' | 'scheme' | 'authority'
  | 'name' | 'ignoreUriCase' | 'withoutHeaders' | 'sourceNamespace' | 'gateways';

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
  /** The object the mapping's `ref` field names, loaded into the canary's chart (only for providers with a `ref`). */
  readonly ref?: IConstruct;
  /** The Canary's `metadata.annotations` (Flagger's Kuma router reads the mesh from one). */
  readonly annotations: Readonly<Record<string, string>>;
  /**
   * The objects of the module's `references` found among the inputs, by Canary field: read only,
   * they stay in the output where they are (several canaries may share one).
   */
  readonly references: Readonly<Record<string, Json>>;
}

/** A user object a Canary field names, which the compiler must find among the inputs. */
export interface ReferencedObject {
  /** The field under `spec` holding `{ apiVersion, kind, name }`. */
  readonly field: 'ingressRef' | 'routeRef';
  /** API group and kind searched for, in the Canary's namespace. */
  readonly group: string;
  readonly kind: string;
  /** What the object must be, for the error when the field is missing. */
  readonly purpose: string;
}

/**
 * A Canary field naming an object among the inputs that the provider reads but does not own
 * (Gloo's `upstreamRef`): compile finds it by group, kind, namespace and name and hands it to
 * `toOptions` as JSON. Its namespace is the ref's, else the Canary's.
 */
export interface FlaggerReference {
  /** Field under `spec` holding `{ apiVersion, kind, name, namespace? }`. */
  readonly field: string;
  /** API group of the object, e.g. `gloo.solo.io`. */
  readonly group: string;
  readonly kind: string;
}

/** How a Flagger Canary with this provider becomes construct props. */
export interface FlaggerMapping<O> {
  /** `spec.provider` values this provider accepts; the first is the one canarykit prints. */
  readonly names: readonly string[];
  /** Canary fields (segments under `spec`) only this provider, among the supported ones, reads. */
  readonly fields: readonly (readonly string[])[];
  /**
   * `-mesh-provider` values starting with this also select the provider (Flagger's HasPrefix in
   * its router factory); `spec.provider` is held to `names` by Flagger's CRD enum. @default - none
   */
  readonly namePrefix?: string;
  /** Needs a Canary field (`spec.ingressRef`, `spec.routeRef`) resolved to an object among the inputs. */
  readonly ref?: ReferencedObject;
  /** Optional references to objects among the inputs, resolved when the field is set. @default - none */
  readonly references?: readonly FlaggerReference[];
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
  /**
   * Rewrites the template variables before the built-in queries are rendered (Skipper's observer
   * spells names the way Skipper writes route IDs). @default - the variables as they are
   */
  encodeVars?(vars: TemplateVars): TemplateVars;
}

/**
 * Everything canarykit knows about one traffic provider. A new provider is one module exporting
 * one of these plus one line in registry.ts; the registry's `satisfies` clause checks both.
 */
export interface ProviderModule<N extends string, O> {
  readonly name: N;
  readonly capabilities: RoutingCapabilities;
  readonly observer: Observer;
  /**
   * For a Service target Flagger asks its observer factory for `<provider>:service`
   * (scheduler_metrics.go runBuiltinMetricChecks); only the names factory.go matches by prefix
   * (appmesh, gloo, gatewayapi) keep their own observer, every other one gets the default, Istio's.
   * @default false - Istio's queries answer the built-in metrics of a Service target
   */
  readonly observerMatchesServiceSuffix?: boolean;
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
