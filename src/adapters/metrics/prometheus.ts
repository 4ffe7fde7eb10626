import { MetricProviderModule, MetricSource } from './source';
import { clientForProvider } from '../prometheus/client';
import { PROMETHEUS_SPEC } from '../../model/metric-providers/prometheus';

/** Flagger's IsOnline query (pkg/metrics/providers/prometheus.go). */
export const PROMETHEUS_ONLINE_QUERY = 'vector(1)';

/**
 * pkg/metrics/providers/prometheus.go: instant queries at `<address>/api/v1/query`; IsOnline asks
 * `vector(1)` and wants 1. Credentials: CANARYKIT_PROMETHEUS_* (see README), as before other
 * providers existed.
 */
export const PROMETHEUS: MetricProviderModule<'prometheus'> = {
  spec: PROMETHEUS_SPEC,
  connect(provider, ctx): MetricSource {
    const p = ctx.prometheus;
    // canarykit.yaml's prometheus.address is the driver's Prometheus for every Prometheus query.
    const address = p?.override ?? provider.address ?? p?.driverServer ?? '';
    const client = clientForProvider({ ...provider, address }, { env: ctx.env, timeoutMs: ctx.timeoutMs, driverAddress: p ? (p.override ?? p.driverServer) : undefined });
    return {
      address: client.address,
      query: (q, at) => client.query(q, at),
      async isOnline(at) {
        let answer;
        try {
          answer = await client.query(PROMETHEUS_ONLINE_QUERY, at);
        } catch (e) {
          throw new Error(`running query failed: ${(e as Error).message}`);
        }
        if (answer.kind !== 'value' || answer.value !== 1) throw new Error(`value is not 1 for query: ${PROMETHEUS_ONLINE_QUERY}`);
      },
    };
  },
};
