import { PrometheusError } from '../errors';
import { CheckResult, checkMetric } from '../adapters/prometheus/metric-check';
import { MetricResult, ObservationStep, Observations, ProviderAvailability, Readiness, WebhookResult, emptyObservations } from '../model/observations';
import { AnalysisPlan, MetricProviderPlan, PlannedMetric, PlannedWebhook, workloadDeployment } from '../model/plan';
import { MetricsClient } from '../adapters/prometheus/client';
import { ReadinessOptions, observeReadiness } from '../adapters/prometheus/readiness';
import { observeDaemonSetReadiness } from '../adapters/prometheus/daemonset-readiness';
import { observeRouteAcceptance } from '../adapters/prometheus/route-acceptance';
import { CanaryState } from '../model/state';
import { endsTick } from '../machine/tick';
import { hookContext } from '../adapters/webhooks/hook-context';
import { WebhookContext, WebhookCallResult as HookCallResult } from '../adapters/webhooks/call';

/** The I/O a tick's observations need, built once by the driver and passed in. */
export interface ObserverDeps {
  /**
   * Prometheus client for a metric provider (address override and credentials applied).
   * `driverServer` is the canary's metricsServer: readiness and built-in metrics go there, and it
   * gets the driver's credentials (CANARYKIT_PROMETHEUS_*) like providers naming a secretRef.
   */
  metricsClient(provider: MetricProviderPlan, driverServer: string): MetricsClient;
  /** Calls one webhook; never throws. */
  callWebhook(hook: PlannedWebhook, ctx: WebhookContext): Promise<HookCallResult>;
}

/** Replicas the committed manifests ask for, so readiness can tell "applied" from "not yet applied". */
export interface CommittedReplicas {
  canary?: number;
  primary?: number;
}

/** What was observed, plus the full check results for the commit body. */
export interface ObservedTick {
  observations: Observations;
  checks: CheckResult[];
  hooks: { hook: PlannedWebhook; result: HookCallResult }[];
}

/**
 * Performs the observation steps in order, stopping as soon as the gathered results decide the
 * tick (a failed hook, a failed metric, a workload not ready), as Flagger's tick does.
 */
export async function observe(
  plan: AnalysisPlan,
  state: CanaryState | undefined,
  steps: readonly ObservationStep[],
  committed: CommittedReplicas,
  deps: ObserverDeps,
  now: Date,
): Promise<ObservedTick> {
  const observations = emptyObservations();
  const checks: CheckResult[] = [];
  const hooks: ObservedTick['hooks'] = [];
  const readinessClient = deps.metricsClient({ type: 'prometheus', address: plan.metricsServer }, plan.metricsServer);
  for (const step of steps) {
    switch (step.kind) {
      case 'readiness': {
        const name = workloadDeployment(plan, step.workload);
        observations[step.workload] = await readiness(readinessClient, plan.workloadKind, plan.namespace, name, {
          expectedReplicas: committed[step.workload],
          readyThresholdPercent: step.workload === 'primary' ? plan.analysis.primaryReadyThreshold : plan.analysis.canaryReadyThreshold,
          progressDeadlineSeconds: plan.progressDeadlineSeconds,
        }, now);
        break;
      }
      case 'providers':
        observations.providers = await providersOnline(plan, step.metrics, deps, now);
        break;
      case 'route':
        observations.route = await observeRouteAcceptance(readinessClient, step.route, now);
        break;
      case 'webhook': {
        const result = await deps.callWebhook(step.webhook, hookContext(plan, state, step.webhook.type));
        hooks.push({ hook: step.webhook, result });
        const w: WebhookResult = { name: step.webhook.name, type: step.webhook.type, ok: result.ok, message: result.message };
        observations.webhooks.push(w);
        break;
      }
      case 'metric': {
        let client: MetricsClient;
        let result: CheckResult;
        try {
          client = deps.metricsClient(step.metric.provider, plan.metricsServer);
          result = await checkMetric(step.metric, client, now);
        } catch (e) {
          result = { metric: step.metric.name, outcome: 'error', message: (e as Error).message, thresholdRange: step.metric.thresholdRange } as CheckResult;
        }
        checks.push(result);
        const m: MetricResult = { metric: result.metric, outcome: result.outcome, message: result.message, ...('value' in result ? { value: result.value } : {}) };
        observations.metrics.push(m);
        break;
      }
    }
    if (endsTick(steps, observations)) break;
  }
  return { observations, checks, hooks };
}

/** Readiness; a Prometheus that cannot answer is reported as an observation error, not thrown. */
async function readiness(
  client: MetricsClient,
  kind: AnalysisPlan['workloadKind'],
  namespace: string,
  workload: string,
  opts: ReadinessOptions,
  now: Date,
): Promise<Readiness> {
  try {
    // A DaemonSet target's workloads are read from kube_daemonset_* series (daemonset_ready.go).
    if (kind === 'DaemonSet') return await observeDaemonSetReadiness(client, namespace, workload, opts, now);
    return await observeReadiness(client, namespace, workload, opts, now);
  } catch (e) {
    if (e instanceof PrometheusError) {
      return { ready: false, retriable: true, reason: `readiness unknown: ${e.message}`, observationError: true };
    }
    throw e;
  }
}

/** Flagger's IsOnline query (pkg/metrics/providers/prometheus.go). */
const ONLINE_QUERY = 'vector(1)';

/**
 * scheduler_metrics.go checkMetricProviderAvailability: each built-in metric's metricsServer and
 * each MetricTemplate's provider must answer `vector(1)` with 1; the first that does not ends the
 * check with Flagger's error text (a template is named by its metric: the plan keeps no template
 * name).
 */
async function providersOnline(plan: AnalysisPlan, metrics: readonly PlannedMetric[], deps: ObserverDeps, now: Date): Promise<ProviderAvailability> {
  for (const metric of metrics) {
    let problem: string | undefined;
    try {
      const answer = await deps.metricsClient(metric.provider, plan.metricsServer).query(ONLINE_QUERY, now);
      if (answer.kind !== 'value' || answer.value !== 1) problem = `value is not 1 for query: ${ONLINE_QUERY}`;
    } catch (e) {
      problem = `running query failed: ${(e as Error).message}`;
    }
    if (problem !== undefined) {
      const where = metric.builtin ? 'prometheus not avaiable' : `prometheus in metric template of metric ${metric.name} not avaiable`;
      return { available: false, message: `${where}: ${problem}` };
    }
  }
  return { available: true };
}
