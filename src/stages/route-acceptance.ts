import { PrometheusError } from '../errors';
import { RouteAcceptance } from './observations';
import { PlannedRoute } from './plan';
import { MetricsClient, Sample } from './prometheus';

/**
 * Gateway API route acceptance as Flagger's gateway_api.go GetRoutes checks it, observed through
 * kube-state-metrics custom-resource-state metrics (deploy/kube-state-metrics/
 * httproute-crs-config.yaml) because canarykit has no cluster API:
 *
 * - `canarykit_httproute_metadata_generation{namespace, name}`: metadata.generation;
 * - `canarykit_httproute_parent_accepted_observed_generation{namespace, name, parent_name,
 *   parent_namespace, parent_section_name, controller_name, status}`: one series per
 *   status.parents[] entry, valued with its Accepted condition's observedGeneration (0 when unset,
 *   as Go's zero value), `status` the condition's status (absent when the entry has no Accepted
 *   condition).
 */
export const ROUTE_GENERATION_SERIES = 'canarykit_httproute_metadata_generation';
export const ROUTE_PARENT_SERIES = 'canarykit_httproute_parent_accepted_observed_generation';

/** The config file users deploy; named in "cannot observe" reasons. */
export const ROUTE_CRS_CONFIG = 'deploy/kube-state-metrics/httproute-crs-config.yaml';

/** One PromQL query returning both series of one HTTPRoute. */
export function routeAcceptanceQuery(route: PlannedRoute): string {
  const names = [ROUTE_GENERATION_SERIES, ROUTE_PARENT_SERIES].map((n) => n.replace(/^canarykit_httproute_/, '')).join('|');
  return `{__name__=~"canarykit_httproute_(${names})", namespace="${escapeLabelValue(route.namespace)}", name="${escapeLabelValue(route.name)}"}`;
}

/**
 * GetRoutes' readiness loop over the observed series: for each spec parentRef in order, every
 * status entry of that parent whose Accepted condition is not `True` or was observed at an older
 * generation stops the tick with Flagger's error. A parent without a status entry, or an entry
 * without an Accepted condition, is not checked (Flagger loops over what is there). Entries are
 * matched on name, namespace and sectionName (Flagger compares the whole parentRef).
 */
export function judgeRouteAcceptance(route: PlannedRoute, samples: readonly Sample[]): RouteAcceptance {
  const id = `${route.name}.${route.namespace}`;
  const generation = lastValue(samples.filter((s) => s.labels.__name__ === ROUTE_GENERATION_SERIES));
  if (generation === undefined) {
    return {
      accepted: false,
      observationError: true,
      message:
        `HTTPRoute ${id} status cannot be observed: series ${ROUTE_GENERATION_SERIES} missing ` +
        `(is the HTTPRoute applied, and kube-state-metrics running with ${ROUTE_CRS_CONFIG} and scraped by this Prometheus?)`,
    };
  }
  const entries = samples.filter((s) => s.labels.__name__ === ROUTE_PARENT_SERIES);
  for (const parent of route.parents) {
    const matching = entries.filter(
      (s) =>
        s.labels.parent_name === parent.name &&
        (s.labels.parent_namespace || route.namespace) === parent.namespace &&
        (s.labels.parent_section_name ?? '') === (parent.sectionName ?? ''),
    );
    for (const entry of matching) {
      const status = entry.labels.status;
      if (status === undefined || status === '') continue;
      if (status !== 'True' || entry.value < generation) {
        return {
          accepted: false,
          message: `HTTPRoute ${id} parent ${parent.name} is not ready (status: ${status}, observed generation: ${entry.value}, current generation: ${generation})`,
        };
      }
    }
  }
  return { accepted: true };
}

/**
 * Observes one HTTPRoute's acceptance. Never throws for Prometheus trouble: an unreachable or
 * failing Prometheus is an observation error (the tick holds, it never advances on it).
 */
export async function observeRouteAcceptance(client: MetricsClient, route: PlannedRoute, at?: Date): Promise<RouteAcceptance> {
  try {
    return judgeRouteAcceptance(route, await client.querySeries(routeAcceptanceQuery(route), at));
  } catch (e) {
    if (!(e instanceof PrometheusError)) throw e;
    return {
      accepted: false,
      observationError: true,
      message: `HTTPRoute ${route.name}.${route.namespace} status cannot be observed: ${e.message}`,
    };
  }
}

/** Several kube-state-metrics replicas may export the same series: the last one wins (readiness.ts does the same). */
function lastValue(samples: readonly Sample[]): number | undefined {
  const last = samples[samples.length - 1];
  return last === undefined || Number.isNaN(last.value) ? undefined : last.value;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
