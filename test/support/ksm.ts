import { OpenMetricsWriter } from './prometheus-server';

/**
 * kube-state-metrics series of one Deployment over time, as kube-state-metrics exports them:
 * replica gauges and the Available/Progressing conditions as 0/1 per status. `available(t)` gives
 * the available replicas `t` seconds into the data (undefined: nothing scraped then, a gap).
 * Available is False while fewer than `replicas` are available (maxUnavailable 0).
 */
export function deploymentOverTime(
  w: OpenMetricsWriter,
  namespace: string,
  deployment: string,
  replicas: number,
  available: (t: number) => number | undefined,
): OpenMetricsWriter {
  const l = { namespace, deployment };
  const at = (value: number) => (t: number) => (available(t) === undefined ? undefined : value);
  w.series('kube_deployment_metadata_generation', l, at(3))
    .series('kube_deployment_status_observed_generation', l, at(3))
    .series('kube_deployment_spec_replicas', l, at(replicas))
    .series('kube_deployment_status_replicas', l, at(replicas))
    .series('kube_deployment_status_replicas_updated', l, at(replicas))
    .series('kube_deployment_status_replicas_available', l, available);
  const unavailable = (t: number) => {
    const a = available(t);
    return a === undefined ? undefined : a < replicas;
  };
  for (const status of ['true', 'false', 'unknown']) {
    w.series('kube_deployment_status_condition', { ...l, condition: 'Progressing', status }, at(status === 'true' ? 1 : 0));
    w.series('kube_deployment_status_condition', { ...l, condition: 'Available', status }, (t) => {
      const u = unavailable(t);
      if (u === undefined) return undefined;
      return status === 'unknown' ? 0 : (status === 'false') === u ? 1 : 0;
    });
  }
  return w;
}
