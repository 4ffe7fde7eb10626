import { describe, expect, it } from 'vitest';
import { PrometheusError } from '../src/errors';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import {
  DeploymentSeries,
  evaluateReadiness,
  observeReadiness,
  readinessQuery,
  readyThresholdReplicas,
  seriesFromSamples,
} from '../src/adapters/prometheus/readiness';
import { describeWithPrometheus, freePort, OpenMetricsWriter, QUERY_TIME, usePrometheus } from './support/prometheus';

const healthy: Required<DeploymentSeries> = {
  generation: 3,
  observedGeneration: 3,
  specReplicas: 2,
  replicas: 2,
  updatedReplicas: 2,
  availableReplicas: 2,
  progressDeadlineExceeded: false,
};
const opts = { expectedReplicas: 2, readyThresholdPercent: 100 };

describe('evaluateReadiness', () => {
  it('is ready when the rollout finished with the committed replicas', () => {
    expect(evaluateReadiness(healthy, opts)).toEqual({ ready: true });
  });

  it('waits for kube-state-metrics when series are missing, listing them', () => {
    const result = evaluateReadiness({ specReplicas: 2 }, opts);
    expect(result).toMatchObject({ ready: false, retriable: true });
    expect(!result.ready && result.reason).toContain('kube-state-metrics');
    expect(!result.ready && result.reason).toContain('kube_deployment_status_replicas_available');
    expect(!result.ready && result.reason).not.toContain('kube_deployment_spec_replicas');
  });

  it('waits until the cluster runs the committed replicas', () => {
    expect(evaluateReadiness(healthy, { ...opts, expectedReplicas: 4 })).toEqual({
      ready: false,
      retriable: true,
      reason: 'waiting for the committed step to be applied (spec.replicas 2, want 4)',
    });
  });

  it('does not judge a stale deadline before the committed step is applied', () => {
    const stale = { ...healthy, progressDeadlineExceeded: true };
    expect(evaluateReadiness(stale, { ...opts, expectedReplicas: 3 })).toMatchObject({ ready: false, retriable: true });
  });

  it('skips the committed-replicas check when no expectation is given (autoscaled)', () => {
    expect(evaluateReadiness({ ...healthy, specReplicas: 5, replicas: 5, updatedReplicas: 5, availableReplicas: 5 }, { readyThresholdPercent: 100 })).toEqual({
      ready: true,
    });
  });

  it('waits while the controller has not observed the latest generation', () => {
    expect(evaluateReadiness({ ...healthy, generation: 4 }, opts)).toEqual({
      ready: false,
      retriable: true,
      reason: 'waiting for rollout to finish: observed deployment generation less than desired generation',
    });
  });

  it('gives up (not retriable) when the progress deadline was exceeded', () => {
    expect(evaluateReadiness({ ...healthy, updatedReplicas: 1, progressDeadlineExceeded: true }, opts)).toEqual({
      ready: false,
      retriable: false,
      reason: 'deployment exceeded its progress deadline',
    });
  });

  it('waits for updated replicas, old replicas and available replicas in Flagger order', () => {
    expect(evaluateReadiness({ ...healthy, updatedReplicas: 1 }, opts)).toMatchObject({
      retriable: true,
      reason: 'waiting for rollout to finish: 1 out of 2 new replicas have been updated',
    });
    expect(evaluateReadiness({ ...healthy, replicas: 3 }, opts)).toMatchObject({
      retriable: true,
      reason: 'waiting for rollout to finish: 1 old replicas are pending termination',
    });
    expect(evaluateReadiness({ ...healthy, availableReplicas: 1 }, opts)).toMatchObject({
      retriable: true,
      reason: 'waiting for rollout to finish: 1 of 2 (readyThreshold 100%) updated replicas are available',
    });
  });

  it('accepts fewer available replicas under a lower ready threshold', () => {
    const three = { ...healthy, specReplicas: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 1 };
    expect(evaluateReadiness(three, { expectedReplicas: 3, readyThresholdPercent: 50 })).toEqual({ ready: true });
    expect(evaluateReadiness(three, { expectedReplicas: 3, readyThresholdPercent: 67 })).toMatchObject({ ready: false });
  });

  it('computes the threshold in float32 like Flagger', () => {
    // float32(0.53) * 100 = 52.99999..., so Flagger needs 52 of 100, not 53.
    expect(readyThresholdReplicas(100, 53)).toBe(52);
    expect(readyThresholdReplicas(100, 29)).toBe(29);
    expect(readyThresholdReplicas(3, 50)).toBe(1);
    expect(readyThresholdReplicas(0, 100)).toBe(0);
  });
});

describe('seriesFromSamples', () => {
  it('maps series by name and reads only the Progressing=false condition', () => {
    const series = seriesFromSamples([
      { labels: { __name__: 'kube_deployment_spec_replicas' }, value: 2 },
      { labels: { __name__: 'kube_deployment_status_condition', condition: 'Progressing', status: 'true' }, value: 1 },
      { labels: { __name__: 'kube_deployment_status_condition', condition: 'Available', status: 'false' }, value: 1 },
      { labels: { __name__: 'kube_deployment_status_condition', condition: 'Progressing', status: 'false' }, value: 0 },
      { labels: { __name__: 'kube_deployment_labels' }, value: 1 },
    ]);
    expect(series).toEqual({ specReplicas: 2, progressDeadlineExceeded: false });
  });

  it('builds one selector for every needed series, escaping label values', () => {
    const query = readinessQuery('test', 'pod"info');
    expect(query).toContain('deployment="pod\\"info"');
    for (const name of ['metadata_generation', 'status_observed_generation', 'spec_replicas', 'status_replicas_available', 'status_condition']) {
      expect(query).toContain(name);
    }
  });
});

// kube-state-metrics as it exports Deployments: one gauge per field, conditions as 0/1 per status.
function ksm(w: OpenMetricsWriter, namespace: string, deployment: string, s: Partial<DeploymentSeries>, progressing = 'true') {
  const labels = { job: 'kube-state-metrics', namespace, deployment };
  const fields: Array<[string, number | undefined]> = [
    ['kube_deployment_metadata_generation', s.generation],
    ['kube_deployment_status_observed_generation', s.observedGeneration],
    ['kube_deployment_spec_replicas', s.specReplicas],
    ['kube_deployment_status_replicas', s.replicas],
    ['kube_deployment_status_replicas_updated', s.updatedReplicas],
    ['kube_deployment_status_replicas_available', s.availableReplicas],
  ];
  for (const [name, value] of fields) if (value !== undefined) w.gauge(name, labels, value);
  for (const status of ['true', 'false', 'unknown']) {
    w.gauge('kube_deployment_status_condition', { ...labels, condition: 'Progressing', status }, status === progressing ? 1 : 0);
    w.gauge('kube_deployment_status_condition', { ...labels, condition: 'Available', status }, status === 'true' ? 1 : 0);
  }
}

function data(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  ksm(w, 'test', 'ready', healthy);
  ksm(w, 'test', 'rolling', { ...healthy, specReplicas: 3, replicas: 4, updatedReplicas: 3, availableReplicas: 2 });
  ksm(w, 'test', 'stuck', { ...healthy, updatedReplicas: 1 }, 'false');
  ksm(w, 'test', 'partial', { specReplicas: 2 });
  // Same name in another namespace, not ready: a query ignoring the namespace would see it.
  ksm(w, 'zzz', 'ready', { ...healthy, updatedReplicas: 0, availableReplicas: 0 });
  return w;
}

describeWithPrometheus('observeReadiness against Prometheus', () => {
  const prom = usePrometheus(data);
  const observe = (deployment: string, expectedReplicas = 2) =>
    observeReadiness(new PrometheusClient({ address: prom.url }), 'test', deployment, { expectedReplicas, readyThresholdPercent: 100 }, QUERY_TIME);

  it('sees a ready deployment', async () => {
    expect(await observe('ready')).toEqual({ ready: true });
  });

  it('waits while old replicas terminate', async () => {
    expect(await observe('rolling', 3)).toEqual({
      ready: false,
      retriable: true,
      reason: 'waiting for rollout to finish: 1 old replicas are pending termination',
    });
  });

  it('waits until Flux applied the committed replicas', async () => {
    expect(await observe('ready', 5)).toEqual({
      ready: false,
      retriable: true,
      reason: 'waiting for the committed step to be applied (spec.replicas 2, want 5)',
    });
  });

  it('reports an exceeded progress deadline as not retriable', async () => {
    expect(await observe('stuck')).toEqual({ ready: false, retriable: false, reason: 'deployment exceeded its progress deadline' });
  });

  it('waits, naming kube-state-metrics, when series are missing', async () => {
    for (const deployment of ['partial', 'absent']) {
      const result = await observe(deployment);
      expect(result).toMatchObject({ ready: false, retriable: true });
      expect(!result.ready && result.reason).toMatch(/kube-state-metrics series missing \(kube_deployment_metadata_generation/);
    }
  });

  it('lets query failures propagate as retryable Prometheus errors', async () => {
    const client = new PrometheusClient({ address: `http://127.0.0.1:${await freePort()}` });
    const err = await observeReadiness(client, 'test', 'ready', opts, QUERY_TIME).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect(err).toMatchObject({ kind: 'unreachable', retryable: true });
  });
});
