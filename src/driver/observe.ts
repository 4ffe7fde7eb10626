import { PrometheusError } from '../errors';
import { CheckResult, checkMetric } from '../adapters/prometheus/metric-check';
import { MetricResult, ObservationStep, Observations, ProviderAvailability, Readiness, WebhookResult, emptyObservations } from '../model/observations';
import { AnalysisPlan, MetricProviderPlan, PlannedMetric, PlannedWebhook, workloadDeployment } from '../model/plan';
import { MetricsClient } from '../adapters/prometheus/client';
import { MetricSource } from '../adapters/metrics/source';
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
   * Prometheus client for readiness and route acceptance (address override and credentials
   * applied). `driverServer` is the canary's metricsServer: it gets the driver's credentials
   * (CANARYKIT_PROMETHEUS_*) like Prometheus providers naming a secretRef.
   */
  metricsClient(provider: MetricProviderPlan & { address: string }, driverServer: string): MetricsClient;
  /**
   * The client of a metric's provider (Prometheus, Datadog, CloudWatch…), credentials read from
   * the environment. @throws ConfigError when they are missing.
   */
  metricSource(metric: PlannedMetric, driverServer: string): Promise<MetricSource>;
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
        let result: CheckResult;
        try {
          const source = await deps.metricSource(step.metric, plan.metricsServer);
          result = await checkMetric(step.metric, source, now);
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

/**
 * scheduler_metrics.go checkMetricProviderAvailability: each built-in metric's metricsServer and
 * each MetricTemplate's provider must pass its IsOnline; the first that does not ends the check
 * with Flagger's error text.
 */
async function providersOnline(plan: AnalysisPlan, metrics: readonly PlannedMetric[], deps: ObserverDeps, now: Date): Promise<ProviderAvailability> {
  for (const metric of metrics) {
    try {
      await (await deps.metricSource(metric, plan.metricsServer)).isOnline(now);
    } catch (e) {
      const problem = (e as Error).message;
      const t = metric.templateRef;
      const where = metric.builtin || !t ? 'prometheus not avaiable' : `${metric.provider.type} in metric template ${t.name}.${t.namespace} not avaiable`;
      return { available: false, message: `${where}: ${problem}` };
    }
  }
  return { available: true };
}
