import { MetricsClient, Sample } from './prometheus';

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
}

/**
 * Whether a Deployment is ready. Not ready and `retriable` means wait without penalty; not
 * retriable means the rollout is stuck and must be rolled back (Flagger §3.8).
 */
export type Readiness = { ready: true } | { ready: false; retriable: boolean; reason: string };

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
  if (s.updatedReplicas < s.specReplicas) {
    return {
      ready: false,
      retriable: true,
      reason: `waiting for rollout to finish: ${s.updatedReplicas} out of ${s.specReplicas} new replicas have been updated`,
    };
  }
  if (s.replicas > s.updatedReplicas) {
    return {
      ready: false,
      retriable: true,
      reason: `waiting for rollout to finish: ${s.replicas - s.updatedReplicas} old replicas are pending termination`,
    };
  }
  const needed = readyThresholdReplicas(s.updatedReplicas, options.readyThresholdPercent);
  if (s.availableReplicas < needed) {
    return {
      ready: false,
      retriable: true,
      reason:
        `waiting for rollout to finish: ${s.availableReplicas} of ${needed} ` +
        `(readyThreshold ${options.readyThresholdPercent}%) updated replicas are available`,
    };
  }
  return { ready: true };
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
 * Observes a Deployment's readiness through kube-state-metrics in Prometheus, with one query.
 * Query failures propagate as PrometheusError: without data the driver cannot judge the tick.
 */
export async function observeReadiness(
  client: MetricsClient,
  namespace: string,
  deployment: string,
  options: ReadinessOptions,
  at?: Date,
): Promise<Readiness> {
  const samples = await client.querySeries(readinessQuery(namespace, deployment), at);
  return evaluateReadiness(seriesFromSamples(samples), options);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
