import { PrometheusError } from '../../errors';
import { Readiness } from '../../model/observations';
import { MetricsClient, Sample } from './client';
import { ReadinessOptions, escapeLabelValue, readyThresholdReplicas, stepsObservedQuery, unavailableSeconds } from './readiness';

/** A DaemonSet's state as kube-state-metrics reports it; undefined when the series is missing. */
export interface DaemonSetSeries {
  /** kube_daemonset_metadata_generation */
  generation?: number;
  /** kube_daemonset_status_observed_generation */
  observedGeneration?: number;
  /** kube_daemonset_status_desired_number_scheduled */
  desired?: number;
  /** kube_daemonset_status_updated_number_scheduled */
  updated?: number;
  /** kube_daemonset_status_number_available */
  available?: number;
}

const SERIES = {
  kube_daemonset_metadata_generation: 'generation',
  kube_daemonset_status_observed_generation: 'observedGeneration',
  kube_daemonset_status_desired_number_scheduled: 'desired',
  kube_daemonset_status_updated_number_scheduled: 'updated',
  kube_daemonset_status_number_available: 'available',
} as const satisfies Record<string, keyof DaemonSetSeries>;

/**
 * Flagger's DaemonSet readiness (src: pkg/canary/daemonset_ready.go isDaemonSetReady), preceded
 * by the git-ops checks: every series present, and pods scheduled at all. A DaemonSet has no
 * replicas to compare with the commit; the canary scaled to zero (Flagger's node selector no node
 * matches) schedules none, so zero desired pods means the committed scale-up is not applied yet.
 */
export function evaluateDaemonSetReadiness(series: DaemonSetSeries, options: Pick<ReadinessOptions, 'readyThresholdPercent'>): Readiness {
  return judge(series, options).readiness;
}

function judge(series: DaemonSetSeries, options: Pick<ReadinessOptions, 'readyThresholdPercent'>): { readiness: Readiness; rollingOut: boolean } {
  const wait = (reason: string, rollingOut = false) => ({ readiness: { ready: false, retriable: true, reason } as Readiness, rollingOut });
  const missing = (Object.keys(SERIES) as Array<keyof typeof SERIES>).filter((n) => series[SERIES[n]] === undefined);
  if (missing.length > 0) return wait(`kube-state-metrics series missing (${missing.join(', ')}): is kube-state-metrics running and scraped by this Prometheus?`);
  const s = series as Required<DaemonSetSeries>;
  if (s.observedGeneration < s.generation) return wait('waiting for rollout to finish: observed daemonset generation less than desired generation');
  if (s.desired === 0) return wait('waiting for the committed step to be applied (the DaemonSet schedules no pods: desiredNumberScheduled 0)');
  if (s.updated < s.desired) return wait(`waiting for rollout to finish: ${s.updated} out of ${s.desired} new pods have been updated`, true);
  const needed = readyThresholdReplicas(s.desired, options.readyThresholdPercent);
  if (s.available < needed) {
    return wait(`waiting for rollout to finish: ${s.available} of ${needed} (readyThreshold ${options.readyThresholdPercent}%) updated pods are available`, true);
  }
  return { readiness: { ready: true }, rollingOut: false };
}

/** One PromQL query returning every kube-state-metrics series readiness needs for a DaemonSet. */
export function daemonSetReadinessQuery(namespace: string, daemonSet: string): string {
  const names = Object.keys(SERIES).map((n) => n.replace(/^kube_daemonset_/, '')).join('|');
  return `{__name__=~"kube_daemonset_(${names})", namespace="${escapeLabelValue(namespace)}", daemonset="${escapeLabelValue(daemonSet)}"}`;
}

/** Splits the answer of {@link daemonSetReadinessQuery} by metric name (the last duplicate wins). */
export function daemonSetSeriesFromSamples(samples: readonly Sample[]): DaemonSetSeries {
  const series: DaemonSetSeries = {};
  for (const sample of samples) {
    const name = sample.labels.__name__;
    if (name !== undefined && Object.prototype.hasOwnProperty.call(SERIES, name)) series[SERIES[name as keyof typeof SERIES]] = sample.value;
  }
  return series;
}

/**
 * Steps of the window at which the DaemonSet was observed mid-rollout (fewer updated or available
 * pods than desired). Flagger times its deadline from the canary's last transition; a DaemonSet
 * has no Available condition, so this measures the same stall from Prometheus' history.
 */
export function daemonSetUnavailableQuery(namespace: string, daemonSet: string, windowSeconds: number): string {
  const sel = `{namespace="${escapeLabelValue(namespace)}", daemonset="${escapeLabelValue(daemonSet)}"}`;
  const last = (metric: string, lookback: number) => `max by (namespace, daemonset) (last_over_time(kube_daemonset_status_${metric}${sel}[${lookback}s]))`;
  return stepsObservedQuery(
    (lb) => `(${last('updated_number_scheduled', lb)} < ${last('desired_number_scheduled', lb)}) or (${last('number_available', lb)} < ${last('desired_number_scheduled', lb)})`,
    windowSeconds,
  );
}

/** observeReadiness for a DaemonSet: one query, two when a rollout is not ready and a deadline is set. */
export async function observeDaemonSetReadiness(client: MetricsClient, namespace: string, daemonSet: string, options: ReadinessOptions, at?: Date): Promise<Readiness> {
  const samples = await client.querySeries(daemonSetReadinessQuery(namespace, daemonSet), at);
  const { readiness, rollingOut } = judge(daemonSetSeriesFromSamples(samples), options);
  const window = options.progressDeadlineSeconds ?? 0;
  if (readiness.ready || !rollingOut || window <= 0) return readiness;
  try {
    const seconds = unavailableSeconds(await client.querySeries(daemonSetUnavailableQuery(namespace, daemonSet, window), at), window);
    return { ...readiness, unavailableForSeconds: seconds };
  } catch (e) {
    if (e instanceof PrometheusError) return readiness;
    throw e;
  }
}
