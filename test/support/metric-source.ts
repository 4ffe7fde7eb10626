import { connectMetric } from '../../src/adapters/metrics/connect';
import { PlannedMetric } from '../../src/model/plan';

/** ObserverDeps.metricSource as the CLI builds it, with a short timeout for tests. */
export function testMetricSource(env: NodeJS.ProcessEnv = process.env) {
  return (metric: PlannedMetric, driverServer: string) => connectMetric(metric, { env, timeoutMs: 2000, driverServer });
}
