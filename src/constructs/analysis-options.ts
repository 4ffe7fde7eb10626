import { Duration } from 'cdk8s';
import { AlertProviderType, AlertSeverity, MetricProviderType, WebhookType } from '../model/plan';
import { HttpMatch } from './match';

/** Inclusive bounds a metric value must stay within. */
export interface ThresholdRange {
  /** Lowest passing value. @default - no lower bound */
  readonly min?: number;
  /** Highest passing value. @default - no upper bound */
  readonly max?: number;
}

/** Where a MetricTemplate's query goes (Flagger's MetricTemplate `spec.provider`). */
export interface MetricProviderOptions {
  /** Flagger's provider type: prometheus, datadog, cloudwatch, newrelic… @default 'prometheus' */
  readonly type?: MetricProviderType;
  /**
   * The provider's base URL, e.g. `http://prometheus.monitoring:9090`.
   * @default - the canary's `metricsServer` for Prometheus; the provider's public endpoint for the others
   */
  readonly address?: string;
  /** Region of the provider (CloudWatch: `us-west-2`). @default - none */
  readonly region?: string;
  /** Extra HTTP headers, e.g. `{ 'X-Scope-OrgID': ['tenant'] }`. @default - none */
  readonly headers?: Record<string, string[]>;
  /**
   * Name of the cluster Secret with credentials, in the template's namespace. Its data never
   * enters git: the step driver reads each key from its environment (Prometheus:
   * CANARYKIT_PROMETHEUS_TOKEN, or _USERNAME and _PASSWORD; every other provider:
   * CANARYKIT_SECRET_<NAMESPACE>_<SECRET>_<KEY>, see README).
   * @default - no credentials
   */
  readonly secretRef?: string;
  /** Skip TLS certificate verification (only for a trusted endpoint). @default false */
  readonly insecureSkipVerify?: boolean;
}

/** A Flagger MetricTemplate: a query with `{{ namespace }}`, `{{ target }}`, `{{ interval }}`… */
export interface MetricTemplateSpec {
  /** MetricTemplate name, as `templateRef.name` refers to it. */
  readonly name: string;
  /** MetricTemplate namespace. @default - the canary's namespace */
  readonly namespace?: string;
  /** Where the query is sent. @default - Prometheus at the canary's `metricsServer` */
  readonly provider?: MetricProviderOptions;
  /** PromQL with Flagger's template variables, rendered at synth. */
  readonly query: string;
}

/** One metric check of the analysis (Flagger's `analysis.metrics[]`). */
export interface MetricOptions {
  /** `request-success-rate` and `request-duration` are built in; other names need `template` or `query`. */
  readonly name: string;
  /** Range of the query (`{{ interval }}`). @default Duration.minutes(1) */
  readonly interval?: Duration;
  /**
   * Inclusive bounds of the value.
   * @default - none: the value is compared against `threshold`, as Flagger does
   */
  readonly thresholdRange?: ThresholdRange;
  /**
   * Flagger's deprecated single bound, used only without `thresholdRange`: request-success-rate
   * fails below it, request-duration (milliseconds) and custom queries fail above it.
   * @default 0
   */
  readonly threshold?: number;
  /** The MetricTemplate whose query this metric runs. @default - built-in metric or inline `query` */
  readonly template?: MetricTemplateSpec;
  /** Values for `{{ variables.KEY }}`. @default - none */
  readonly templateVariables?: Record<string, string>;
  /** Inline PromQL sent to `metricsServer` (Flagger's deprecated `query`). @default - none */
  readonly query?: string;
}

/** A Flagger webhook (`analysis.webhooks[]`). */
export interface WebhookOptions {
  /** Webhook name, shown in events, commits and pull requests. */
  readonly name: string;
  /** When the hook is called (Flagger's webhook types). @default 'rollout' */
  readonly type?: WebhookType;
  /** URL the hook is POSTed to. */
  readonly url: string;
  /** Timeout of each attempt. @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Extra attempts on connection errors, 5xx and 429. @default 0 */
  readonly retries?: number;
  /** Key-value pairs sent in the payload's `metadata`. @default - none */
  readonly metadata?: Record<string, string>;
  /** Do not alert when this hook fails or holds a gate. @default false */
  readonly muteAlert?: boolean;
  /** Skip TLS certificate verification (only for a trusted endpoint). @default false */
  readonly disableTLS?: boolean;
}

/** Where alerts are posted (Flagger's AlertProvider). */
export interface AlertProviderOptions {
  /** Provider name, recorded in the plan. */
  readonly name: string;
  /** AlertProvider namespace. @default - the canary's namespace */
  readonly namespace?: string;
  /** Chat service the alerts are posted to. */
  readonly type: AlertProviderType;
  /** Channel the message goes to (Slack, Rocket.Chat). @default 'general' */
  readonly channel?: string;
  /** Name the message is posted as. @default 'flagger' */
  readonly username?: string;
  /** Webhook URL; set this or `secretRef`. @default - read from `secretRef` at run time */
  readonly address?: string;
  /** HTTP(S) proxy URL for the POST. @default - no proxy */
  readonly proxy?: string;
  /**
   * Name of the cluster Secret with `address` (and `token`). Its data never enters git: the step
   * driver reads the address from its environment. @default - none
   */
  readonly secretRef?: string;
}

/** An alert of the analysis (Flagger's `analysis.alerts[]`). */
export interface AlertOptions {
  /** Alert name, shown in driver output. */
  readonly name: string;
  /** info receives every event, warn receives warn and error, error only errors. */
  readonly severity: AlertSeverity;
  /** Where the alert is posted. */
  readonly provider: AlertProviderOptions;
}

/** Sticky sessions during the analysis (Istio and Gateway API). */
export interface SessionAffinityOptions {
  /** Cookie that pins a session to the canary once it has been routed there. */
  readonly cookieName: string;
  /** Cookie that pins a session to the primary. @default - no primary cookie */
  readonly primaryCookieName?: string;
  /** Lifetime of the canary cookie. @default Duration.days(1) */
  readonly maxAge?: Duration;
  /** `Domain` attribute: the host the cookie is sent to. @default - the request's host */
  readonly domain?: string;
  /** `HttpOnly` attribute: scripts cannot read the cookie. @default false */
  readonly httpOnly?: boolean;
  /** `Partitioned` attribute: the browser keeps the cookie in partitioned storage. @default false */
  readonly partitioned?: boolean;
  /** `Path` attribute: the path a request must have for the cookie to be sent. @default - the request's path */
  readonly path?: string;
  /** `SameSite` attribute. @default - none (the browser's default, Lax) */
  readonly sameSite?: 'Strict' | 'Lax' | 'None';
  /** `Secure` attribute: sent over HTTPS only. @default false */
  readonly secure?: boolean;
}

/** How the rollout is analysed and how traffic moves (Flagger's `spec.analysis`). */
export interface CanaryAnalysisOptions {
  /** Time between steps. @default Duration.minutes(1) */
  readonly interval?: Duration;
  /** Failed checks before rollback. @default 1 */
  readonly threshold?: number;
  /** Stop raising the weight at or after this. @default 100 */
  readonly maxWeight?: number;
  /** Linear weight increment; takes precedence over `stepWeights`. @default 0 */
  readonly stepWeight?: number;
  /** Explicit weight ladder, ascending. @default - none */
  readonly stepWeights?: number[];
  /** Weight returned to the primary per promotion step; 0 moves all at once. @default 0 */
  readonly stepWeightPromotion?: number;
  /** A/B (with `match`) or blue/green (without) iterations. @default 0 */
  readonly iterations?: number;
  /** A/B routing: requests matching these go to the canary. @default - none */
  readonly match?: HttpMatch[];
  /** Mirror traffic to the canary (Istio; blue/green on Gateway API). @default false */
  readonly mirror?: boolean;
  /** Percentage mirrored; 0 mirrors all. @default 0 */
  readonly mirrorWeight?: number;
  /** Percentage of primary pods that must be available for the primary to count as ready. @default 100 */
  readonly primaryReadyThreshold?: number;
  /** Percentage of canary pods that must be available for the canary to count as ready. @default 100 */
  readonly canaryReadyThreshold?: number;
  /** Metric checks run on every analysis tick. @default - none */
  readonly metrics?: MetricOptions[];
  /** Hooks called during the rollout (gates, load tests, events). @default - none */
  readonly webhooks?: WebhookOptions[];
  /** Where rollout events are posted. @default - none */
  readonly alerts?: AlertOptions[];
  /** Keep a user on the canary once routed there. @default - no session affinity */
  readonly sessionAffinity?: SessionAffinityOptions;
}
