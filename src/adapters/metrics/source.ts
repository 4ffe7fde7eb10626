import type { MetricProviderPlan, MetricProviderType, PlannedMetric } from '../../model/plan';
import type { MetricProviderSpec } from '../../model/metric-providers';

/** A query's answer: one number, or nothing (Flagger's ErrNoValuesFound). */
export type QueryValue = { kind: 'value'; value: number } | { kind: 'no-data' };

/**
 * Flagger's providers.Interface (pkg/metrics/providers/provider.go) for one MetricTemplate
 * provider: RunQuery and IsOnline.
 *
 * Errors: a query the provider could not answer throws `MetricsError` (its kind says whether
 * retrying can help); missing credentials throw `ConfigError`. Messages never carry credentials.
 */
export interface MetricSource {
  /** Where queries go, without credentials, for messages (`https://api.datadoghq.com`). */
  readonly address: string;
  /** RunQuery: the first value of the answer, as Flagger's provider picks it, or no data. */
  query(query: string, at?: Date): Promise<QueryValue>;
  /** IsOnline: resolves when the provider answers as Flagger's IsOnline requires; throws otherwise. */
  isOnline(at?: Date): Promise<void>;
}

/** What building a source may use besides the template's provider. */
export interface MetricSourceContext {
  /** The metric's interval (`1m`): Datadog, CloudWatch, New Relic, Dynatrace and Splunk query that window. */
  readonly interval: string;
  /**
   * The provider Secret's data, read from the environment (see `secretEnvVar`): only the keys the
   * module lists in `secretKeys`, and only those that are set.
   */
  readonly credentials: Readonly<Record<string, string>>;
  /** The driver's environment, for credentials Flagger takes from the pod (AWS, Google, in-cluster). */
  readonly env: NodeJS.ProcessEnv;
  /** Whole-request timeout in milliseconds. */
  readonly timeoutMs: number;
  /** The sentence telling the user which environment variable holds Secret key `key` (for ConfigErrors). */
  credentialHint(key: string): string;
  /**
   * The driver's own Prometheus (type prometheus only): `override` is canarykit.yaml's
   * `prometheus.address`, `driverServer` the canary's metricsServer that gets the driver's credentials.
   */
  readonly prometheus?: { readonly override?: string; readonly driverServer: string };
}

/**
 * One Flagger metrics provider's client (pkg/metrics/providers/<type>.go), beside its pure spec
 * (src/model/metric-providers/<type>.ts). Modules load their I/O libraries inside `connect`, so
 * compiling or an idle tick never pays for them.
 */
export interface MetricProviderModule<T extends MetricProviderType = MetricProviderType> {
  readonly spec: MetricProviderSpec<T>;
  /** Builds the client. @throws ConfigError when a required credential or setting is missing. */
  connect(provider: MetricProviderPlan, ctx: MetricSourceContext): MetricSource | Promise<MetricSource>;
}

/**
 * The environment variable holding key `key` of Secret `namespace/secret`, as the driver reads
 * what Flagger reads from the cluster: `CANARYKIT_SECRET_<NAMESPACE>_<SECRET>_<KEY>`, upper-cased,
 * every character other than A-Z and 0-9 turned into `_` (`test/datadog` key `datadog_api_key`:
 * `CANARYKIT_SECRET_TEST_DATADOG_DATADOG_API_KEY`).
 */
export function secretEnvVar(namespace: string, secret: string, key: string): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `CANARYKIT_SECRET_${part(namespace)}_${part(secret)}_${part(key)}`;
}

/** The Secret keys of `keys` that are set (non-empty) in `env` for the metric's provider secretRef. */
export function readCredentials(metric: Pick<PlannedMetric, 'provider' | 'templateRef'>, keys: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const secret = metric.provider.secretRef;
  if (secret === undefined || metric.templateRef === undefined) return {};
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = env[secretEnvVar(metric.templateRef.namespace, secret, key)];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** The sentence naming the env var of a Secret key (`MetricSourceContext.credentialHint`). */
export function credentialHint(metric: Pick<PlannedMetric, 'provider' | 'templateRef'>, key: string): string {
  const secret = metric.provider.secretRef;
  if (secret === undefined || metric.templateRef === undefined) return `the MetricTemplate's provider has no secretRef holding ${key}`;
  return `set ${secretEnvVar(metric.templateRef.namespace, secret, key)} to key ${key} of Secret ${metric.templateRef.namespace}/${secret}`;
}
