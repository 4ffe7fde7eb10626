import { WorkloadSettings } from './state';

export const PLAN_API_VERSION = 'canarykit.dev/v1alpha1';
export const PLAN_FILE = 'canary.plan.json';

/** Flagger's deployment strategies (src: canary.go DeploymentStrategy). */
export type Strategy = 'canary' | 'ab-testing' | 'blue-green';

/** A metric check with its query fully rendered, ready to send to Prometheus. */
export interface PlannedMetric {
  name: string;
  /** PromQL with every template variable expanded (whitespace kept; the client collapses it). */
  query: string;
  /** The metric's range interval, e.g. `1m`. */
  interval: string;
  /** Inclusive bounds; a value outside fails the check. Neither set: always passes when data exists. */
  thresholdRange: { min?: number; max?: number };
  /**
   * Set when the spec has no thresholdRange: Flagger's deprecated `threshold` (default 0).
   * request-success-rate fails below it; request-duration and custom queries fail above it.
   */
  threshold?: number;
  /** Where to send the query. */
  provider: MetricProviderPlan;
  /** `request-success-rate` / `request-duration` answered by the provider's observer. */
  builtin: boolean;
  /** Built-in duration metrics are compared in milliseconds truncated to integers (Flagger). */
  unit?: 'percent' | 'milliseconds';
  /** From a MetricTemplate: Flagger checks its provider is online while initializing (scheduler_metrics.go). */
  template?: true;
  /**
   * The MetricTemplate the query came from. Its namespace is where Flagger reads the provider's
   * Secret, so it names the environment variables that hold the Secret's keys here.
   */
  templateRef?: { name: string; namespace: string };
}

/** Flagger's MetricTemplate provider types, in the order of its CRD's enum (artifacts/flagger/crd.yaml). */
export const METRIC_PROVIDER_TYPES = [
  'prometheus',
  'influxdb',
  'datadog',
  'externalmetrics',
  'stackdriver',
  'cloudwatch',
  'newrelic',
  'graphite',
  'dynatrace',
  'keptn',
  'splunk',
] as const;
export type MetricProviderType = (typeof METRIC_PROVIDER_TYPES)[number];

/** Flagger's MetricTemplateProvider (pkg/apis/flagger/v1beta1/metric.go), Secret data left in the cluster. */
export interface MetricProviderPlan {
  type: MetricProviderType;
  /** HTTP(S) address; providers that find their endpoint themselves (CloudWatch, Stackdriver, Keptn) may have none. */
  address?: string;
  /** Region of the provider (CloudWatch). */
  region?: string;
  /** Extra request headers (e.g. X-Scope-OrgID), Flagger's map of string lists. */
  headers?: Record<string, string[]>;
  /**
   * Name of the Secret holding credentials in the cluster. canarykit never reads Secret data into
   * git: the driver takes credentials from the environment (see README).
   */
  secretRef?: string;
  insecureSkipVerify?: boolean;
}

export type WebhookType =
  | 'confirm-rollout'
  | 'pre-rollout'
  | 'rollout'
  | 'confirm-traffic-increase'
  | 'confirm-promotion'
  | 'post-rollout'
  | 'rollback'
  | 'event';

export interface PlannedWebhook {
  name: string;
  type: WebhookType;
  url: string;
  /** Per-attempt timeout in seconds (Flagger default 10s). */
  timeoutSeconds: number;
  /** Extra attempts on connection errors, 5xx and 429. */
  retries: number;
  metadata?: Record<string, string>;
  muteAlert?: boolean;
  disableTLS?: boolean;
}

/** Which events an alert receives: info gets all, warn gets warn and error, error only errors (Flagger). */
export type AlertSeverity = 'info' | 'warn' | 'error';

/** Chat services Flagger's AlertProvider can post to. */
export type AlertProviderType = 'slack' | 'msteams' | 'discord' | 'rocket' | 'gchat';

/** An alert of the analysis (Flagger's `analysis.alerts[]` with its AlertProvider resolved). */
export interface PlannedAlert {
  name: string;
  severity: AlertSeverity;
  provider: {
    name: string;
    namespace: string;
    type: AlertProviderType;
    channel: string;
    username: string;
    /** Webhook URL from the provider spec; absent when it comes from `secretRef`. */
    address?: string;
    proxy?: string;
    /**
     * Secret holding `address` (and `token`) in the cluster. Its data never enters git: the driver
     * reads the address from its environment at run time.
     */
    secretRef?: string;
  };
}

/** `Set-Cookie` attributes after Max-Age (Flagger's SessionAffinity fields, in BuildCookie's order). */
export interface CookieAttributes {
  domain?: string;
  httpOnly?: true;
  partitioned?: true;
  path?: string;
  sameSite?: 'Strict' | 'Lax' | 'None';
  secure?: true;
}

export interface SessionAffinityPlan extends CookieAttributes {
  cookieName: string;
  primaryCookieName?: string;
  maxAge: number;
}

export interface AnalysisSettings {
  intervalSeconds: number;
  threshold: number;
  maxWeight: number;
  /** The spec sets no maxWeight (Flagger's alert metadata then prints `max: 0`). */
  maxWeightUnset?: true;
  stepWeight: number;
  stepWeights: number[];
  stepWeightPromotion: number;
  iterations: number;
  /** analysis.match is set (A/B routing rules). */
  hasMatch: boolean;
  mirror: boolean;
  mirrorWeight: number;
  primaryReadyThreshold: number;
  canaryReadyThreshold: number;
  sessionAffinity?: SessionAffinityPlan;
}

/**
 * The routing object whose status gates every tick that routes traffic, when the provider has
 * one: Flagger's gateway_api.go GetRoutes refuses to go on while an HTTPRoute parent has not
 * Accepted the route at its current generation. Written by the provider's router (the fact that
 * this canary routes through an HTTPRoute), read by the driver (route-acceptance.ts).
 */
export interface PlannedRoute {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  namespace: string;
  /** The apex Service name (Flagger names the HTTPRoute after it). */
  name: string;
  /** spec.parentRefs in spec order; `namespace` defaulted to the route's, as the API does. */
  parents: PlannedRouteParent[];
}

export interface PlannedRouteParent {
  name: string;
  namespace: string;
  sectionName?: string;
}

/** The canary side of the rollout: what the target Deployment runs now. */
export interface CanaryWorkloadPlan {
  /** Content hash of the target pod template plus tracked ConfigMap data. */
  revision: string;
  template: Record<string, unknown>;
  workload: WorkloadSettings;
  annotations: Record<string, string>;
  /** Target labels the primary gets (Flagger's -include-label-prefix); absent when none. */
  labels?: Record<string, string>;
  configMaps: Record<string, Record<string, string>>;
  /** Labels of tracked ConfigMaps their `-primary` copies get (-include-label-prefix); absent when none. */
  configMapLabels?: Record<string, Record<string, string>>;
}

/**
 * The provider facts the machine reads (Flagger's scheduler branches on provider names for these;
 * canarykit's construct resolves them from the provider module and writes them into the plan).
 */
export interface RoutingFacts {
  /** Flagger's `spec.provider` spelling, printed where Flagger prints the provider (events). */
  readonly flaggerName: string;
  /** Routes a share of traffic to the canary (false: blue/green by Service switch only). */
  readonly shiftsWeights: boolean;
  /** Honours `stepWeightPromotion` (promotes in steps instead of at once). */
  readonly promotionSteps: boolean;
}

/** `spec.replicas` this stage's manifests give the workloads (readiness tells applied from not yet). */
export interface StageReplicas {
  /**
   * The target (the canary workload): 0 outside a rollout. Absent when the target's own
   * controller scales the revisions (a Knative Service; then the plan has `workloads`).
   */
  readonly canary?: number;
  /** The primary; absent when an autoscaler owns its replicas. */
  readonly primary?: number;
}

/**
 * `dist/<namespace>/<name>/canary.plan.json`: everything the step driver needs without running
 * TypeScript. Written by synth next to the manifests, not listed in kustomization.yaml.
 */
export interface AnalysisPlan {
  apiVersion: typeof PLAN_API_VERSION;
  kind: 'AnalysisPlan';
  namespace: string;
  name: string;
  /** targetRef.name: the canary Deployment; the primary is `<targetName>-primary`. */
  targetName: string;
  /** Kind of the target when it is not a Deployment (a Knative `Service`); Flagger's alerts print it. */
  targetKind?: string;
  /** Apex Service name. */
  serviceName: string;
  ingressName?: string;
  /** The provider module that rendered the routes (providers/registry.ts); shown, never branched on. */
  provider: string;
  /** What that provider does with traffic, resolved at synth from its module. */
  routing: RoutingFacts;
  /** The strategy the canary runs, resolved at synth (a provider that shifts no weights runs blue/green). */
  strategy: Strategy;
  skipAnalysis: boolean;
  suspend: boolean;
  progressDeadlineSeconds: number;
  /** Prometheus used for readiness (kube-state-metrics) and built-in metrics. */
  metricsServer: string;
  analysis: AnalysisSettings;
  metrics: PlannedMetric[];
  webhooks: PlannedWebhook[];
  /** The routing object whose acceptance gates the tick; absent for providers without one. */
  route?: PlannedRoute;
  /** Where rollout events are sent; absent when the analysis has no alerts. */
  alerts?: PlannedAlert[];
  canary: CanaryWorkloadPlan;
  /** Replicas of this stage's Deployments, as rendered next to the plan. */
  replicas: StageReplicas;
  /** Relative path of the state file from the repository root. */
  stateFile: string;
  /**
   * For a target rolled out in place (a Knative Service): the revision names this stage routes
   * between, derived at synth from the templates. Absent for Deployment targets.
   */
  revisions?: { primary: string; canary: string };
  /**
   * The Deployments whose readiness stands for the canary and the primary, when they are not
   * `<targetName>` and `<targetName>-primary` (a Knative revision runs as its own Deployment).
   */
  workloads?: { primary: string; canary: string };
  /**
   * Kind of the workloads the driver observes when they are not Deployments: `DaemonSet` for a
   * DaemonSet target (kube_daemonset_* series; then `replicas` is empty and `workloads` is set).
   * `Service` for a core Service target: there is no workload, and the driver waits for none
   * (service_controller.go IsPrimaryReady/IsCanaryReady always answer ready).
   */
  workloadKind?: 'DaemonSet' | 'Service';
}

/** The Deployment the driver observes for a workload of the plan. */
export function workloadDeployment(plan: AnalysisPlan, workload: 'primary' | 'canary'): string {
  return plan.workloads?.[workload] ?? (workload === 'primary' ? `${plan.targetName}-primary` : plan.targetName);
}
