import { PlannedMetric, PlannedRoute, PlannedWebhook, WebhookType } from './plan';

/**
 * What the step driver observed during one tick, and what it is asked to observe. The machine
 * never performs I/O: the driver gathers these, then hands them to `decide`.
 */

/** Readiness of the primary or canary Deployment (reference §3.8). */
export type Readiness =
  | { ready: true }
  | {
      ready: false;
      /** False when Flagger would give up (deadline exceeded); true means "wait, no penalty". */
      retriable: boolean;
      /** What is missing, e.g. `2 of 3 updated replicas available`. */
      reason: string;
      /**
       * Seconds of the last progressDeadlineSeconds during which the cluster's own observers
       * (kube-state-metrics, scraped by Prometheus) saw the Deployment unavailable, when the
       * observer measured it. Gaps nobody observed (Prometheus or kube-state-metrics down) do not
       * count, nor does time the driver did not run. The machine's progress deadline reads this.
       */
      unavailableForSeconds?: number;
      /**
       * The observer could not ask (Prometheus down, query error, 401) rather than saw "not ready".
       * During the analysis this counts as an errored check; elsewhere it is a wait. It never
       * expires a deadline and never fails a promotion.
       */
      observationError?: boolean;
    };

/**
 * Whether the provider's routing object is accepted at its current generation (Flagger's
 * gateway_api.go GetRoutes). Not accepted: the tick stops with `message`, committing nothing.
 */
export type RouteAcceptance =
  | { accepted: true }
  | {
      accepted: false;
      /** Flagger's GetRoutes error, or why the status could not be seen. */
      message: string;
      /** The observer could not see the status (series absent, Prometheus down) rather than saw it not accepted. */
      observationError?: boolean;
    };

/**
 * Flagger's checkMetricProviderAvailability while initializing: whether every metric provider
 * answered `vector(1)`. Informational: it only decides which event is recorded.
 */
export type ProviderAvailability = { available: true } | { available: false; message: string };

/** Outcome of one blocking webhook call; `ok` = HTTP status <= 202. */
export interface WebhookResult {
  name: string;
  type: WebhookType;
  ok: boolean;
  /** Response body or error text, for events. */
  message: string;
}

/** How a metric check ended; only `pass` lets the run advance. */
export type MetricOutcome = 'pass' | 'fail' | 'no-data' | 'error';

/** One metric check, structurally compatible with metric-check.ts's CheckResult. */
export interface MetricResult {
  metric: string;
  outcome: MetricOutcome;
  message: string;
  /** The measured value, for pass and fail (Flagger's "Halt ... advancement" events print it). */
  value?: number;
}

/** Everything the driver observed in one tick; absent/empty when not asked for. */
export interface Observations {
  primary?: Readiness;
  canary?: Readiness;
  route?: RouteAcceptance;
  providers?: ProviderAvailability;
  /** Results of the webhook steps, in the order the steps were run (one per step). */
  webhooks: WebhookResult[];
  /** Results of the metric steps, in the order the steps were run (one per step). */
  metrics: MetricResult[];
}

/** One thing to observe. Steps run in order; see `endsTick` for when to stop early. */
export type ObservationStep =
  | { kind: 'readiness'; workload: 'primary' | 'canary' }
  | { kind: 'route'; route: PlannedRoute }
  /** The providers Flagger checks, in spec order: built-in metrics' metricsServer and MetricTemplates' providers. */
  | { kind: 'providers'; metrics: PlannedMetric[] }
  | { kind: 'webhook'; webhook: PlannedWebhook }
  | { kind: 'metric'; metric: PlannedMetric };

/** Which part of Flagger's tick (reference §3.2) this tick runs. */
export type TickStage =
  | 'bootstrap'
  | 'idle'
  /** spec.suspend: nothing is observed or changed; Flagger records one event per interval. */
  | 'suspended'
  | 'initializing'
  | 'start'
  | 'restart'
  | 'skip'
  | 'promoting'
  | 'finalising'
  | 'threshold'
  | 'analysis';

/** The observations one tick needs, in Flagger's order. */
export interface ObservationRequest {
  /** False: nothing to observe or decide now (see `why`). */
  dueNow: boolean;
  /** RFC 3339 time the next tick is due, when the state waits for the interval to pass. */
  dueAt?: string;
  stage: TickStage;
  /** Human summary of why the tick is (not) due and what it does. */
  why: string;
  /** Observations to make, in order; stop after a step for which `endsTick` is true. */
  steps: ObservationStep[];
  /** Convenience views of `steps`. */
  primaryReadiness: boolean;
  canaryReadiness: boolean;
  /** Webhook types in call order, each listed once. */
  webhookTypes: WebhookType[];
  metrics: boolean;
}

/** Observations with nothing observed yet. */
export function emptyObservations(): Observations {
  return { webhooks: [], metrics: [] };
}
