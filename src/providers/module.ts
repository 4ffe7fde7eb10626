import type { Duration } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { FlaggerCanarySpec } from '../compile/flagger-types';
import type { BuiltinMetricName } from '../model/builtin-metrics';
import type { ProviderName, RoutingCapabilities } from '../model/providers';
import type { Router } from './router';

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
export interface ProviderModule<N extends ProviderName, O> {
  readonly name: N;
  readonly capabilities: RoutingCapabilities;
  readonly observer: Observer;
  readonly flagger: FlaggerMapping<O>;
  /** The router rendering this provider's objects for each stage. */
  router(options: O): Router;
}
