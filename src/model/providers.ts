/**
 * The provider facts that the driver needs, kept in the model so the pure machine can read them.
 * The plan file names its provider only (its format is fixed); this table turns the name into
 * facts, so nothing outside the provider modules ever compares provider names. A provider's full
 * module (routing objects, metric queries, Flagger mapping) is src/providers/<name>.ts.
 */

/** Traffic providers canarykit can render. */
export type ProviderName = 'istio' | 'nginx' | 'gatewayapi' | 'kubernetes';

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

const HTTP_MATCH: readonly MatchKind[] = ['uri', 'method', 'headers', 'queryParams', 'scheme', 'authority'];

/** Every provider's capabilities; `satisfies` makes a provider without an entry a compile error. */
export const CAPABILITIES = {
  istio: {
    flaggerName: 'istio',
    shiftsWeights: true,
    mirroring: true,
    sessionAffinity: true,
    matchKinds: [...HTTP_MATCH, 'sourceLabels', 'port'],
    promotionSteps: true,
  },
  nginx: {
    flaggerName: 'nginx',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: ['headers', 'cookies'],
    promotionSteps: true,
  },
  gatewayapi: {
    flaggerName: 'gatewayapi:v1',
    shiftsWeights: true,
    // HTTPRoute RequestMirror filters, during blue/green only (the router checks the strategy).
    mirroring: true,
    sessionAffinity: true,
    matchKinds: ['uri', 'method', 'headers', 'queryParams'],
    promotionSteps: true,
  },
  kubernetes: {
    flaggerName: 'kubernetes',
    shiftsWeights: false,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: false,
    forcedBlueGreenIterations: 10,
  },
} as const satisfies Record<ProviderName, RoutingCapabilities>;

/** Every provider name, in registry order. */
export const PROVIDER_NAMES = Object.keys(CAPABILITIES) as ProviderName[];

/** The capabilities of a plan's provider. */
export function routingOf(plan: { readonly provider: ProviderName }): RoutingCapabilities {
  return CAPABILITIES[plan.provider];
}
