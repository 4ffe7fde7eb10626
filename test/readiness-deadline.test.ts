import { expect, it } from 'vitest';
import { PrometheusClient, Sample } from '../src/adapters/prometheus/client';
import { observeReadiness, unavailableQuery, unavailableStepSeconds } from '../src/adapters/prometheus/readiness';
import { deploymentOverTime } from './support/ksm';
import { OpenMetricsWriter, at, describeWithPrometheus, usePrometheus } from './support/prometheus';

/*
 * The progress deadline measures time the cluster's observers saw a Deployment unavailable, never
 * time nobody looked. Flagger (pkg/canary/deployment_ready.go, isDeploymentReady) gives up when
 * Available=False (MinimumReplicasUnavailable) is older than the deadline; kube-state-metrics does
 * not export the condition's lastUpdateTime, so canarykit reads the condition's history from
 * Prometheus. Real Prometheus, backfilled kube-state-metrics series, queries at t = 1800 s.
 */

const NOW = at(1800);
const DEADLINE = 600;

function data(): OpenMetricsWriter {
  const w = new OpenMetricsWriter(3600);
  // Unavailable (1 of 2) for the whole hour.
  deploymentOverTime(w, 'deadline', 'stuck', 2, () => 1);
  // Ready, except the last minute before the query.
  deploymentOverTime(w, 'deadline', 'brief', 2, (t) => (t >= 1740 && t <= 1800 ? 1 : 2));
  // Unavailable all along, but nothing was scraped from 1215 s to 1665 s (Prometheus down).
  deploymentOverTime(w, 'deadline', 'gap', 2, (t) => (t > 1200 && t < 1680 ? undefined : 1));
  // Unavailable for 11 minutes, with a short blip of availability 3 minutes ago.
  deploymentOverTime(w, 'deadline', 'blip', 2, (t) => (t >= 1600 && t <= 1620 ? 2 : 1));
  return w;
}

describeWithPrometheus('readiness deadline measured from what was observed', () => {
  const prom = usePrometheus(data);
  const observe = (deployment: string, progressDeadlineSeconds?: number) =>
    observeReadiness(new PrometheusClient({ address: prom.url }), 'deadline', deployment, { expectedReplicas: 2, readyThresholdPercent: 100, progressDeadlineSeconds }, NOW);

  it('reports the whole deadline for a Deployment observed unavailable throughout', async () => {
    expect(await observe('stuck', DEADLINE)).toMatchObject({ ready: false, retriable: true, unavailableForSeconds: DEADLINE });
  });

  it('reports about a minute for a Deployment unavailable only in the last minute', async () => {
    const r = await observe('brief', DEADLINE);
    expect(r).toMatchObject({ ready: false, retriable: true });
    const seconds = (r as { unavailableForSeconds: number }).unavailableForSeconds;
    expect(seconds).toBeGreaterThanOrEqual(60);
    expect(seconds).toBeLessThanOrEqual(90);
  });

  it('does not count a gap in the data as unavailable time', async () => {
    const r = await observe('gap', DEADLINE);
    const seconds = (r as { unavailableForSeconds: number }).unavailableForSeconds;
    // Observed: 1680..1800 plus at most the 120 s lookback after the last sample before the gap.
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(DEADLINE - 200);
  });

  it('does not count the step at which the Deployment was seen available', async () => {
    const r = await observe('blip', DEADLINE);
    expect((r as { unavailableForSeconds: number }).unavailableForSeconds).toBeLessThan(DEADLINE);
  });

  it('measures nothing without a deadline, or when the Deployment is ready', async () => {
    expect(await observe('stuck')).not.toHaveProperty('unavailableForSeconds');
    expect(await observe('stuck', 0)).not.toHaveProperty('unavailableForSeconds');
    const ready = await observeReadiness(new PrometheusClient({ address: prom.url }), 'deadline', 'brief', { expectedReplicas: 2, readyThresholdPercent: 100, progressDeadlineSeconds: DEADLINE }, at(1200));
    expect(ready).toEqual({ ready: true });
  });
});

it('builds the measurement as a subquery over the Available=False condition, escaping labels', () => {
  const q = unavailableQuery('ns', 'pod"info', 600);
  expect(q).toBe(
    'count_over_time((last_over_time(kube_deployment_status_condition{namespace="ns", deployment="pod\\"info", condition="Available", status="false"}[120s]) == 1)[600s:30s]) ' +
      'or label_replace(count_over_time(vector(1)[600s:30s]), "canarykit_window_steps", "all", "", "")',
  );
  expect(unavailableStepSeconds(60)).toBe(3);
  expect(unavailableStepSeconds(3600)).toBe(30);
});

it('turns the step counts into seconds: the whole window only when every step was unavailable', async () => {
  const { unavailableSeconds } = await import('../src/adapters/prometheus/readiness');
  const answer = (seen: number | undefined, all: number | undefined): Sample[] => [
    ...(seen === undefined ? [] : [{ labels: { namespace: 'ns', deployment: 'd' }, value: seen }]),
    ...(all === undefined ? [] : [{ labels: { canarykit_window_steps: 'all' }, value: all }]),
  ];
  expect(unavailableSeconds(answer(21, 21), 600)).toBe(600);
  expect(unavailableSeconds(answer(20, 20), 600)).toBe(600);
  expect(unavailableSeconds(answer(20, 21), 600)).toBe(571);
  expect(unavailableSeconds(answer(undefined, 21), 600)).toBe(0);
  expect(unavailableSeconds(answer(5, undefined), 600)).toBe(0);
});
