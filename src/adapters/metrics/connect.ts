import { ConfigError } from '../../errors';
import { PlannedMetric } from '../../model/plan';
import { metricProviderModule } from './registry';
import { MetricSource, credentialHint, readCredentials } from './source';

export interface ConnectOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** The canary's metricsServer (built-in metrics, readiness). */
  driverServer: string;
  /** canarykit.yaml `prometheus.address`: replaces the address of every Prometheus query. */
  prometheusOverride?: string;
}

/**
 * The client for one planned metric's provider, with the provider Secret's keys read from the
 * environment. @throws ConfigError when credentials are missing or the type has no module.
 */
export async function connectMetric(metric: Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'>, o: ConnectOptions): Promise<MetricSource> {
  const module = metricProviderModule(metric.provider.type);
  if (!module) throw new ConfigError(`metrics provider type "${metric.provider.type}" is not supported by this canarykit version`);
  return module.connect(metric.provider, {
    interval: metric.interval,
    credentials: readCredentials(metric, module.spec.secretKeys, o.env),
    env: o.env,
    timeoutMs: o.timeoutMs,
    credentialHint: (key) => credentialHint(metric, key),
    prometheus: { override: o.prometheusOverride, driverServer: o.driverServer },
  });
}
