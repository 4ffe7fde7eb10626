import { describe, expect, it } from 'vitest';
import { PrometheusClient } from '../src/adapters/prometheus/client';
import {
  DaemonSetSeries,
  daemonSetReadinessQuery,
  daemonSetSeriesFromSamples,
  evaluateDaemonSetReadiness,
  observeDaemonSetReadiness,
} from '../src/adapters/prometheus/daemonset-readiness';
import { observe } from '../src/driver/observe';
import { AnalysisPlan } from '../src/model/plan';
import { OpenMetricsWriter, QUERY_TIME, describeWithPrometheus, usePrometheus } from './support/prometheus';

// Flagger pkg/canary/daemonset_ready.go isDaemonSetReady, read from kube-state-metrics' DaemonSet
// series (kube_daemonset_*, label `daemonset`) instead of the DaemonSet's status.

const healthy: Required<DaemonSetSeries> = { generation: 2, observedGeneration: 2, desired: 3, updated: 3, available: 3 };
const opts = { readyThresholdPercent: 100 };

describe('evaluateDaemonSetReadiness (daemonset_ready.go isDaemonSetReady)', () => {
  it('is ready when every desired node runs an updated, available pod', () => {
    expect(evaluateDaemonSetReadiness(healthy, opts)).toEqual({ ready: true });
  });

  it('waits for an unobserved generation, then updated pods, then available pods, in Flagger order and words', () => {
    expect(evaluateDaemonSetReadiness({ ...healthy, generation: 3, updated: 1 }, opts)).toEqual({
      ready: false, retriable: true, reason: 'waiting for rollout to finish: observed daemonset generation less than desired generation',
    });
    expect(evaluateDaemonSetReadiness({ ...healthy, updated: 1, available: 1 }, opts)).toEqual({
      ready: false, retriable: true, reason: 'waiting for rollout to finish: 1 out of 3 new pods have been updated',
    });
    expect(evaluateDaemonSetReadiness({ ...healthy, available: 2 }, opts)).toEqual({
      ready: false, retriable: true, reason: 'waiting for rollout to finish: 2 of 3 (readyThreshold 100%) updated pods are available',
    });
  });

  it('applies the ready threshold to desiredNumberScheduled in float32 (int32(float32(desired) * ratio))', () => {
    expect(evaluateDaemonSetReadiness({ ...healthy, available: 2 }, { readyThresholdPercent: 66 })).toEqual({ ready: true });
    expect(evaluateDaemonSetReadiness({ ...healthy, available: 1 }, { readyThresholdPercent: 67 })).toMatchObject({ ready: false, retriable: true });
  });

  it('waits while no pod is scheduled: the scale-to-zero node selector is still applied', () => {
    expect(evaluateDaemonSetReadiness({ ...healthy, desired: 0, updated: 0, available: 0 }, opts)).toEqual({
      ready: false, retriable: true, reason: 'waiting for the committed step to be applied (the DaemonSet schedules no pods: desiredNumberScheduled 0)',
    });
  });

  it('names the missing kube-state-metrics series', () => {
    const r = evaluateDaemonSetReadiness({ desired: 3 }, opts);
    expect(r).toMatchObject({ ready: false, retriable: true });
    expect(!r.ready && r.reason).toContain('kube_daemonset_metadata_generation');
    expect(!r.ready && r.reason).not.toContain('kube_daemonset_status_desired_number_scheduled');
  });

  it('queries the five series by namespace and daemonset label, escaping values', () => {
    expect(daemonSetReadinessQuery('test', 'node-"x"')).toBe(
      '{__name__=~"kube_daemonset_(metadata_generation|status_observed_generation|status_desired_number_scheduled|status_updated_number_scheduled|status_number_available)", namespace="test", daemonset="node-\\"x\\""}',
    );
    expect(daemonSetSeriesFromSamples([
      { labels: { __name__: 'kube_daemonset_status_number_available' }, value: 2 },
      { labels: { __name__: 'kube_daemonset_status_number_ready' }, value: 9 },
    ])).toEqual({ available: 2 });
  });
});

// kube-state-metrics as it exports DaemonSets (plus series readiness ignores), over time.
function ksmDaemonSet(w: OpenMetricsWriter, namespace: string, daemonset: string, s: Partial<DaemonSetSeries>, available?: (t: number) => number) {
  const labels = { job: 'kube-state-metrics', namespace, daemonset };
  const fields: Array<[string, number | undefined]> = [
    ['kube_daemonset_metadata_generation', s.generation],
    ['kube_daemonset_status_observed_generation', s.observedGeneration],
    ['kube_daemonset_status_desired_number_scheduled', s.desired],
    ['kube_daemonset_status_updated_number_scheduled', s.updated],
    ['kube_daemonset_status_current_number_scheduled', s.desired],
    ['kube_daemonset_status_number_ready', s.available],
    ['kube_daemonset_status_number_misscheduled', 0],
  ];
  for (const [name, value] of fields) if (value !== undefined) w.gauge(name, labels, value);
  if (available) w.series('kube_daemonset_status_number_available', labels, available);
  else if (s.available !== undefined) w.gauge('kube_daemonset_status_number_available', labels, s.available);
}

function data(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  ksmDaemonSet(w, 'test', 'node-agent-primary', healthy);
  ksmDaemonSet(w, 'test', 'node-agent', { ...healthy, updated: 2 });
  ksmDaemonSet(w, 'test', 'scaled-down', { ...healthy, desired: 0, updated: 0, available: 0 });
  // Available 1 of 3 for the last 5 minutes before QUERY_TIME (600 s), ready before.
  ksmDaemonSet(w, 'test', 'stalled', healthy, (t) => (t >= 300 ? 1 : 3));
  // Decoys: a Deployment of the same name, and the same DaemonSet name in another namespace.
  w.gauge('kube_deployment_status_replicas_available', { namespace: 'test', deployment: 'node-agent-primary' }, 0);
  ksmDaemonSet(w, 'zzz', 'node-agent-primary', { ...healthy, available: 0 });
  return w;
}

describeWithPrometheus('DaemonSet readiness against Prometheus (kube_daemonset_* series)', () => {
  const prom = usePrometheus(data);
  const client = () => new PrometheusClient({ address: prom.url });
  const obs = (name: string, progressDeadlineSeconds?: number) =>
    observeDaemonSetReadiness(client(), 'test', name, { readyThresholdPercent: 100, progressDeadlineSeconds }, QUERY_TIME);

  it('sees the ready primary DaemonSet, and waits for the canary rollout', async () => {
    expect(await obs('node-agent-primary')).toEqual({ ready: true });
    expect(await obs('node-agent')).toEqual({ ready: false, retriable: true, reason: 'waiting for rollout to finish: 2 out of 3 new pods have been updated' });
    expect(await obs('scaled-down')).toMatchObject({ ready: false, retriable: true });
    expect(await obs('absent')).toMatchObject({ ready: false, retriable: true, reason: expect.stringContaining('kube-state-metrics series missing') });
  });

  it('measures how long the DaemonSet was observed short of available pods (the progress deadline)', async () => {
    const r = await obs('stalled', 240);
    expect(r).toMatchObject({ ready: false, retriable: true, unavailableForSeconds: 240 });
    const longer = await obs('stalled', 600) as { unavailableForSeconds: number };
    expect(longer.unavailableForSeconds).toBeGreaterThanOrEqual(290);
    expect(longer.unavailableForSeconds).toBeLessThanOrEqual(320);
  });

  it('the driver reads a DaemonSet plan (plan.workloadKind, plan.workloads) through these series', async () => {
    const plan = {
      namespace: 'test', name: 'node-agent', targetName: 'node-agent', workloadKind: 'DaemonSet',
      workloads: { primary: 'node-agent-primary', canary: 'node-agent' },
      metricsServer: prom.url, progressDeadlineSeconds: 600,
      analysis: { primaryReadyThreshold: 100, canaryReadyThreshold: 100 },
    } as unknown as AnalysisPlan;
    const deps = { metricsClient: () => client() } as never;
    const steps = [{ kind: 'readiness', workload: 'primary' }, { kind: 'readiness', workload: 'canary' }] as never;
    const { observations } = await observe(plan, undefined, steps, {}, deps, QUERY_TIME);
    expect(observations.primary).toEqual({ ready: true });
    expect(observations.canary).toMatchObject({ ready: false, retriable: true, reason: 'waiting for rollout to finish: 2 out of 3 new pods have been updated' });
  });
});

