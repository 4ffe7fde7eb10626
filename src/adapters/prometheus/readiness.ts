import { PrometheusError } from '../../errors';
import { MetricsClient, Sample } from './client';
import { Readiness } from '../../model/observations';

/**
 * A Deployment's state as kube-state-metrics reports it. A field is undefined when its series is
 * missing from Prometheus.
 */
export interface DeploymentSeries {
  /** kube_deployment_metadata_generation */
  generation?: number;
  /** kube_deployment_status_observed_generation */
  observedGeneration?: number;
  /** kube_deployment_spec_replicas */
  specReplicas?: number;
  /** kube_deployment_status_replicas */
  replicas?: number;
  /** kube_deployment_status_replicas_updated */
  updatedReplicas?: number;
  /** kube_deployment_status_replicas_available */
  availableReplicas?: number;
  /**
   * kube_deployment_status_condition{condition="Progressing",status="false"} == 1: the Deployment
   * controller gave up (ProgressDeadlineExceeded). Undefined when the condition series is absent.
   */
  progressDeadlineExceeded?: boolean;
}

/** What readiness is judged against. */
export interface ReadinessOptions {
  /**
   * The replicas canarykit committed for this Deployment at this step; readiness waits until the
   * cluster runs them. Omit when an autoscaler owns spec.replicas.
   */
  expectedReplicas?: number;
  /** analysis.canaryReadyThreshold / primaryReadyThreshold, percent of updated replicas available. */
  readyThresholdPercent: number;
  /**
   * The canary's progressDeadlineSeconds. When set (> 0) and a rollout is under way but not ready,
   * the observer also measures how long kube-state-metrics saw the Deployment unavailable within
   * that window (`unavailableForSeconds`), the evidence the machine's deadline needs.
   */
  progressDeadlineSeconds?: number;
}

// Readiness (observations.ts): not ready and `retriable` means wait without penalty; not
// retriable means the rollout is stuck and must be rolled back (Flagger §3.8).

// Series name -> field, in the order reasons list missing series.
const SERIES = {
  kube_deployment_metadata_generation: 'generation',
  kube_deployment_status_observed_generation: 'observedGeneration',
  kube_deployment_spec_replicas: 'specReplicas',
  kube_deployment_status_replicas: 'replicas',
  kube_deployment_status_replicas_updated: 'updatedReplicas',
  kube_deployment_status_replicas_available: 'availableReplicas',
} as const satisfies Record<string, keyof DeploymentSeries>;

const CONDITION_SERIES = 'kube_deployment_status_condition';

/**
 * Flagger's Deployment readiness, preceded by the git-ops check that the cluster already runs the
 * committed replicas (Flux applies commits asynchronously, so an old state must not be judged).
 */
export function evaluateReadiness(series: DeploymentSeries, options: ReadinessOptions): Readiness {
  return judge(series, options).readiness;
}

/**
 * evaluateReadiness, plus whether the answer came from Flagger's rollout branches (updated, old or
 * available replicas short) — the only ones a progress deadline governs (deployment_ready.go).
 */
function judge(series: DeploymentSeries, options: ReadinessOptions): { readiness: Readiness; rollingOut: boolean } {
  const early = preconditions(series, options);
  if (early) return { readiness: early, rollingOut: false };
  const s = series as Required<DeploymentSeries>;
  if (s.updatedReplicas < s.specReplicas) {
    return rolling(`waiting for rollout to finish: ${s.updatedReplicas} out of ${s.specReplicas} new replicas have been updated`);
  }
  if (s.replicas > s.updatedReplicas) {
    return rolling(`waiting for rollout to finish: ${s.replicas - s.updatedReplicas} old replicas are pending termination`);
  }
  const needed = readyThresholdReplicas(s.updatedReplicas, options.readyThresholdPercent);
  if (s.availableReplicas < needed) {
    return rolling(
      `waiting for rollout to finish: ${s.availableReplicas} of ${needed} ` +
        `(readyThreshold ${options.readyThresholdPercent}%) updated replicas are available`,
    );
  }
  return { readiness: { ready: true }, rollingOut: false };
}

function rolling(reason: string): { readiness: Readiness; rollingOut: boolean } {
  return { readiness: { ready: false, retriable: true, reason }, rollingOut: true };
}

/** Missing series, the committed step not applied yet, an unobserved generation, Progressing=False. */
function preconditions(series: DeploymentSeries, options: ReadinessOptions): Readiness | undefined {
  const missing = (Object.keys(SERIES) as Array<keyof typeof SERIES>).filter((name) => series[SERIES[name]] === undefined);
  if (missing.length > 0) {
    return {
      ready: false,
      retriable: true,
      reason: `kube-state-metrics series missing (${missing.join(', ')}): is kube-state-metrics running and scraped by this Prometheus?`,
    };
  }
  const s = series as Required<Omit<DeploymentSeries, 'progressDeadlineExceeded'>> & DeploymentSeries;
  if (options.expectedReplicas !== undefined && s.specReplicas !== options.expectedReplicas) {
    return {
      ready: false,
      retriable: true,
      reason: `waiting for the committed step to be applied (spec.replicas ${s.specReplicas}, want ${options.expectedReplicas})`,
    };
  }
  if (s.observedGeneration < s.generation) {
    return {
      ready: false,
      retriable: true,
      reason: 'waiting for rollout to finish: observed deployment generation less than desired generation',
    };
  }
  if (s.progressDeadlineExceeded === true) {
    return { ready: false, retriable: false, reason: 'deployment exceeded its progress deadline' };
  }
  return undefined;
}

/** Available replicas needed: Flagger computes updated × threshold/100 in float32 and truncates. */
export function readyThresholdReplicas(updatedReplicas: number, thresholdPercent: number): number {
  const f = Math.fround;
  return Math.trunc(f(f(updatedReplicas) * f(f(thresholdPercent) / f(100))));
}

/** One PromQL query returning every kube-state-metrics series readiness needs for a Deployment. */
export function readinessQuery(namespace: string, deployment: string): string {
  const names = [...Object.keys(SERIES), CONDITION_SERIES].map((n) => n.replace(/^kube_deployment_/, '')).join('|');
  return (
    `{__name__=~"kube_deployment_(${names})", ` +
    `namespace="${escapeLabelValue(namespace)}", deployment="${escapeLabelValue(deployment)}"}`
  );
}

/**
 * Splits the answer of {@link readinessQuery} by metric name. When a series appears more than once
 * (several kube-state-metrics replicas), the last one wins, as in Flagger's single-value queries.
 */
export function seriesFromSamples(samples: readonly Sample[]): DeploymentSeries {
  const series: DeploymentSeries = {};
  for (const sample of samples) {
    const name = sample.labels.__name__;
    if (name === CONDITION_SERIES) {
      if (sample.labels.condition === 'Progressing' && sample.labels.status === 'false') {
        series.progressDeadlineExceeded = sample.value === 1;
      }
    } else if (name !== undefined && Object.prototype.hasOwnProperty.call(SERIES, name)) {
      series[SERIES[name as keyof typeof SERIES]] = sample.value;
    }
  }
  return series;
}

/**
 * Observes a Deployment's readiness through kube-state-metrics in Prometheus, with one query (two
 * when a rollout is not ready and a deadline is set: see {@link unavailableQuery}).
 * Query failures of the first query propagate as PrometheusError: without data the driver cannot
 * judge the tick. When only the measurement fails, the deadline is simply not measured (a wait).
 */
export async function observeReadiness(
  client: MetricsClient,
  namespace: string,
  deployment: string,
  options: ReadinessOptions,
  at?: Date,
): Promise<Readiness> {
  const samples = await client.querySeries(readinessQuery(namespace, deployment), at);
  const { readiness, rollingOut } = judge(seriesFromSamples(samples), options);
  const window = options.progressDeadlineSeconds ?? 0;
  if (readiness.ready || !rollingOut || window <= 0) return readiness;
  try {
    const seconds = unavailableSeconds(await client.querySeries(unavailableQuery(namespace, deployment, window), at), window);
    return { ...readiness, unavailableForSeconds: seconds };
  } catch (e) {
    if (e instanceof PrometheusError) return readiness;
    throw e;
  }
}

/** Subquery resolution of the unavailability measurement (at most 30 s, at least 20 steps per window). */
export function unavailableStepSeconds(windowSeconds: number): number {
  return Math.max(1, Math.min(30, Math.floor(windowSeconds / 20)));
}

/**
 * How long an observed sample vouches for the Deployment's state: a step of the window counts only
 * when kube-state-metrics reported Available=False within this long before it (not Prometheus'
 * 5-minute staleness), so a gap in the data (Prometheus or kube-state-metrics down) is not counted
 * as time the Deployment was seen unavailable.
 */
export const OBSERVATION_LOOKBACK_SECONDS = 120;

/** Label marking the series that counts the steps the server evaluated in the window. */
const WINDOW_LABEL = 'canarykit_window_steps';

/**
 * PromQL counting the steps of the last `windowSeconds` at which the Deployment's Available
 * condition was observed False, next to a series counting all steps of the window (so the answer
 * does not depend on whether this Prometheus closes the range at both ends). This is Flagger's
 * "Available=False (MinimumReplicasUnavailable) for longer than the deadline"
 * (deployment_ready.go), measured from Prometheus' history because kube-state-metrics does not
 * export the condition's lastUpdateTime. The history is what the cluster's observers saw, so
 * driver downtime neither adds nor removes time.
 */
export function unavailableQuery(namespace: string, deployment: string, windowSeconds: number): string {
  const condition =
    `${CONDITION_SERIES}{namespace="${escapeLabelValue(namespace)}", deployment="${escapeLabelValue(deployment)}", ` +
    `condition="Available", status="false"}`;
  return stepsObservedQuery((lookback) => `last_over_time(${condition}[${lookback}s]) == 1`, windowSeconds);
}

/**
 * PromQL counting the steps of the last `windowSeconds` at which `expr(lookback)` returned a
 * series, next to the series counting all steps (read with {@link unavailableSeconds}).
 */
export function stepsObservedQuery(expr: (lookbackSeconds: number) => string, windowSeconds: number): string {
  const step = unavailableStepSeconds(windowSeconds);
  const lookback = Math.max(OBSERVATION_LOOKBACK_SECONDS, step);
  const range = `[${windowSeconds}s:${step}s]`;
  return (
    `count_over_time((${expr(lookback)})${range}) ` +
    `or label_replace(count_over_time(vector(1)${range}), "${WINDOW_LABEL}", "all", "", "")`
  );
}

/**
 * Seconds observed unavailable from {@link unavailableQuery}'s answer: the window times the share
 * of its steps observed unavailable. Equals the window only when every step was.
 */
export function unavailableSeconds(samples: readonly Sample[], windowSeconds: number): number {
  const all = samples.find((s) => s.labels[WINDOW_LABEL] === 'all')?.value ?? 0;
  const seen = samples.reduce((most, s) => (s.labels[WINDOW_LABEL] === undefined && Number.isFinite(s.value) ? Math.max(most, s.value) : most), 0);
  if (!(all > 0)) return 0;
  return Math.min(windowSeconds, Math.floor((windowSeconds * seen) / all));
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
