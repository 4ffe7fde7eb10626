import { Problem } from '../errors';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptSpec } from './adopt';
import { ISTIO } from './istio';
import { Observer, ProviderModule, RoutingCapabilities } from './module';

/** The SMI TrafficSplit API versions Flagger writes (pkg/apis/smi/v1alpha{1,2,3}). */
export type SmiApiVersion = 'v1alpha1' | 'v1alpha2' | 'v1alpha3';

/** Options of the SMI-family providers (linkerd, osm, smi:v1alpha1/2/3). */
export interface SmiOptions {
  /**
   * Hosts of the service; Flagger writes the first as the TrafficSplit's root `spec.service`
   * (Flagger's `service.hosts`). @default - the apex Service name
   */
  readonly hosts?: string[];
  /**
   * The mesh behind the SMI API (the `<mesh>` of Flagger's `-mesh-provider=smi:v1alpha3:<mesh>`).
   * Only `istio` changes the output: with `gateways` it adds Istio's gateways annotation.
   * @default - none
   */
  readonly mesh?: string;
  /**
   * Istio gateways, written as the `VirtualService.v1alpha3.networking.istio.io/spec.gateways`
   * annotation when `mesh` is `istio` (Flagger's `service.gateways`). @default - none
   */
  readonly gateways?: string[];
}

/** TrafficSplit `spec` as Flagger writes it (pkg/apis/smi/v1alpha1..3 traffic_split.go). */
export interface TrafficSplitSpec {
  readonly service: string;
  readonly backends: { readonly service: string; readonly weight: number }[];
}

const GATEWAYS_ANNOTATION = 'VirtualService.v1alpha3.networking.istio.io/spec.gateways';

/**
 * Flagger's SmiRouter (smi.go, v1alpha1), Smiv1alpha2Router (smi_v1alpha2.go) and
 * Smiv1alpha3Router (smi_v1alpha3.go): the same code over three API versions. One TrafficSplit
 * named after the apex Service, canary backend first; SetRoutes ignores the mirror flag and
 * there are no request matches, so A/B, mirroring and session affinity are refused.
 */
export class SmiRouter implements Router {
  constructor(
    readonly provider: string,
    private readonly flaggerName: string,
    private readonly apiVersion: SmiApiVersion,
    private readonly opts: SmiOptions,
  ) {}

  validate(input: RouterInput): Problem[] {
    const a = input.analysis;
    const name = this.flaggerName;
    const problems: Problem[] = [];
    if (a.match.length) problems.push({ path: 'analysis.match', message: `provider ${name} cannot route by request (a TrafficSplit has no matches in Flagger); remove match or use istio, nginx or gatewayApi` });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: `provider ${name} cannot mirror traffic (Flagger's SMI router ignores it); remove mirror or use istio` });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: `provider ${name} has no session affinity; remove it or use istio or gatewayApi` });
    if (this.opts.gateways?.length && this.opts.mesh !== 'istio') {
      problems.push({ path: `provider.${this.provider}.gateways`, message: `gateways are only written for mesh istio (got ${this.opts.mesh === undefined ? 'no mesh' : `mesh "${this.opts.mesh}"`}); set mesh: 'istio' or remove gateways` });
    }
    return problems;
  }

  /** src: pkg/router/smi.go, smi_v1alpha2.go, smi_v1alpha3.go Reconcile update the spec of an existing TrafficSplit only. */
  readonly adopt = adoptSpec;

  render(input: RouterInput): RoutingObject<'TrafficSplit', TrafficSplitSpec>[] {
    const { names, weights } = input;
    const gateways = this.opts.mesh === 'istio' && this.opts.gateways?.length ? JSON.stringify(this.opts.gateways) : undefined;
    return [
      {
        apiVersion: `split.smi-spec.io/${this.apiVersion}`,
        kind: 'TrafficSplit',
        metadata: {
          name: names.apex,
          namespace: input.namespace,
          ...(gateways === undefined ? {} : { annotations: { [GATEWAYS_ANNOTATION]: gateways } }),
        },
        spec: {
          service: this.opts.hosts?.[0] ?? names.apex,
          // Flagger's order: canary, then primary. v1alpha1 weights are Quantities; a plain
          // integer is one (and the only form the TrafficSplit CRD schema accepts).
          backends: [
            { service: names.canary, weight: weights.canary },
            { service: names.primary, weight: weights.primary },
          ],
        },
      },
    ];
  }
}

/** What an SMI router can do: weights only (Flagger's scheduler steps the promotion for it). */
function capabilities(flaggerName: string): RoutingCapabilities {
  return { flaggerName, shiftsWeights: true, mirroring: false, sessionAffinity: false, matchKinds: [], promotionSteps: true };
}

/** One SMI-family provider: a registry key, its Flagger spelling, the TrafficSplit version and observer. */
function smiModule<N extends string>(name: N, flaggerName: string, apiVersion: SmiApiVersion, observer: Observer): ProviderModule<N, SmiOptions> {
  return {
    name,
    capabilities: capabilities(flaggerName),
    observer,
    flagger: {
      names: [flaggerName],
      fields: [['service', 'hosts']],
      // factory.go: the mesh is what follows `smi:<version>:`; Flagger's CRD only admits the bare
      // `smi:<version>` in spec.provider, so a Canary never names one (no gateways annotation).
      toOptions: (spec) => ({ hosts: spec.service.hosts }),
    },
    router: (o) => new SmiRouter(name, flaggerName, apiVersion, o),
  };
}

/** Flagger's linkerd observer (observers/linkerd.go): the proxy's inbound response metrics. */
const LINKERD_OBSERVER: Observer = {
  name: 'linkerd',
  // Query text kept as Flagger's (plans carry it; the Prometheus client collapses whitespace).
  queries: {
    'request-success-rate': `
      sum(
        rate(
          response_total{
            namespace="{{ namespace }}",
            deployment=~"{{ target }}",
            classification!="failure",
            direction="inbound"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          response_total{
            namespace="{{ namespace }}",
            deployment=~"{{ target }}",
            direction="inbound"
          }[{{ interval }}]
        )
      )
      * 100`,
    // Already milliseconds: Flagger truncates the value to whole ms without scaling.
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            response_latency_ms_bucket{
              namespace="{{ namespace }}",
              deployment=~"{{ target }}",
              direction="inbound"
            }[{{ interval }}]
          )
        ) by (le)
      )`,
  },
};

/** Flagger's osm observer (observers/osm.go): Open Service Mesh's Envoy metrics by destination. */
const OSM_OBSERVER: Observer = {
  name: 'osm',
  queries: {
    'request-success-rate': `
      sum(
        rate(
          osm_request_total{
            destination_namespace="{{ namespace }}",
            destination_kind="Deployment",
            destination_name="{{ target }}",
            response_code!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          osm_request_total{
            destination_namespace="{{ namespace }}",
            destination_kind="Deployment",
            destination_name="{{ target }}"
          }[{{ interval }}]
        )
      )
      * 100`,
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            osm_request_duration_ms_bucket{
              destination_namespace="{{ namespace }}",
              destination_kind="Deployment",
              destination_name="{{ target }}"
            }[{{ interval }}]
          )
        ) by (le)
      )`,
  },
};

// router/factory.go: linkerd gets SmiRouter (v1alpha1), osm gets Smiv1alpha2Router.
/** Linkerd: an SMI v1alpha1 TrafficSplit; Flagger's linkerd observer. */
export const LINKERD = smiModule('linkerd', 'linkerd', 'v1alpha1', LINKERD_OBSERVER);
/** Open Service Mesh: an SMI v1alpha2 TrafficSplit; Flagger's osm observer. */
export const OSM = smiModule('osm', 'osm', 'v1alpha2', OSM_OBSERVER);
// observers/factory.go has no case for smi:*, so its default, the Istio observer, answers.
/** Any SMI mesh, TrafficSplit split.smi-spec.io/v1alpha1; the Istio observer (Flagger's default). */
export const SMI_V1ALPHA1 = smiModule('smiv1alpha1', 'smi:v1alpha1', 'v1alpha1', ISTIO.observer);
/** Any SMI mesh, TrafficSplit split.smi-spec.io/v1alpha2; the Istio observer (Flagger's default). */
export const SMI_V1ALPHA2 = smiModule('smiv1alpha2', 'smi:v1alpha2', 'v1alpha2', ISTIO.observer);
/** Any SMI mesh, TrafficSplit split.smi-spec.io/v1alpha3; the Istio observer (Flagger's default). */
export const SMI_V1ALPHA3 = smiModule('smiv1alpha3', 'smi:v1alpha3', 'v1alpha3', ISTIO.observer);
