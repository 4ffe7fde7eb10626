import * as fs from 'fs';
import { testMetricSource } from './support/metric-source';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFiles } from '../src/compile';
import { canaryFields } from '../src/adapters/alerts/payloads';
import { clientForProvider } from '../src/adapters/prometheus/client';
import { observe } from '../src/driver/observe';
import { decide } from '../src/machine/decide';
import { observationsNeeded } from '../src/machine/tick';
import { snapshotOf } from '../src/machine/transitions';
import { AnalysisPlan, PlannedMetric } from '../src/model/plan';
import { CanaryState } from '../src/model/state';
import { bootstrapState } from '../src/constructs/canary';
import { writeStateFile, stateFilePath } from '../src/model/state-store';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

// The step driver on a DaemonSet canary (compiled from test/fixtures/flagger/daemonset): readiness
// of podinfo-ds and podinfo-ds-primary from kube-state-metrics' DaemonSet series, as Flagger's
// daemonset_ready.go reads the DaemonSets' status; the plan commits no replicas.

const FIXTURE = path.join(__dirname, 'fixtures', 'flagger', 'daemonset', 'podinfo-ds.yaml');
const dirs: string[] = [];
const temp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-ds-driver-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The compiled plan at Progressing: the fixture's template (6.0.1) against a primary at 6.0.0. */
function progressingPlan(): { plan: AnalysisPlan; state: CanaryState } {
  const stateDir = temp();
  const planOf = (files: string[]) => JSON.parse(compileFiles(files, { stateDir }).folders[0].files.get('canary.plan.json')!) as AnalysisPlan;
  const oldPlan = planOf([FIXTURE]);
  const input = path.join(temp(), 'podinfo-ds.yaml');
  fs.writeFileSync(input, fs.readFileSync(FIXTURE, 'utf8').replace('podinfo:6.0.0', 'podinfo:6.0.1'));
  const newPlan = planOf([input]);
  const state: CanaryState = { ...bootstrapState('test', 'podinfo-ds', oldPlan.canary), phase: 'Progressing', canaryWeight: 100, iterations: 1, canaryRevision: newPlan.canary.revision, primary: snapshotOf(oldPlan.canary) };
  writeStateFile(stateFilePath(stateDir, 'test', 'podinfo-ds'), state);
  return { plan: planOf([input]), state };
}

/** A DaemonSet on 3 nodes whose updated and available pods drop to `rolling` from `since` seconds on. */
function daemonSet(w: OpenMetricsWriter, name: string, rolling: number, since: number): OpenMetricsWriter {
  const l = { namespace: 'test', daemonset: name };
  const pods = (t: number) => (t >= since ? rolling : 3);
  return w.gauge('kube_daemonset_metadata_generation', l, 4)
    .gauge('kube_daemonset_status_observed_generation', l, 4)
    .gauge('kube_daemonset_status_desired_number_scheduled', l, 3)
    .series('kube_daemonset_status_updated_number_scheduled', l, pods)
    .series('kube_daemonset_status_number_available', l, pods)
    .series('kube_daemonset_status_number_ready', l, pods);
}

describe('the DaemonSet plan', () => {
  it('names the DaemonSets, commits no replicas, and alerts name the target by kind', () => {
    const { plan } = progressingPlan();
    expect(plan).toMatchObject({ workloadKind: 'DaemonSet', targetKind: 'DaemonSet', workloads: { primary: 'podinfo-ds-primary', canary: 'podinfo-ds' }, replicas: {} });
    expect(canaryFields(plan)[0]).toEqual({ name: 'Target', value: 'DaemonSet/podinfo-ds.test' });
  });
});

describeWithPrometheus('a DaemonSet canary\'s readiness against a real Prometheus (kube_daemonset_* series)', () => {
  let prom: PrometheusServer;
  const { plan, state } = progressingPlan();
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    daemonSet(w, 'podinfo-ds-primary', 3, 0);
    // The canary rolling out for the last 30 s before the tick at 600 s (deadline 60 s).
    daemonSet(w, 'podinfo-ds', 1, 570);
    // Deployments of the same names: a driver reading Deployment series would see these, ready.
    for (const deployment of ['podinfo-ds', 'podinfo-ds-primary']) {
      const l = { namespace: 'test', deployment };
      for (const n of ['metadata_generation', 'status_observed_generation', 'spec_replicas', 'status_replicas', 'status_replicas_updated', 'status_replicas_available']) w.gauge(`kube_deployment_${n}`, l, 1);
    }
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
  });

  const tick = async (now: Date) => {
    const p = { ...plan, metricsServer: prom.url };
    const request = observationsNeeded(p, state, now);
    const deps = {
      metricsClient: (provider: PlannedMetric['provider'] & { address: string }, driverServer: string) => clientForProvider(provider, { timeoutMs: 2000, driverAddress: driverServer }),
      metricSource: testMetricSource(),
      callWebhook: async () => ({ ok: true, message: 'unused', attempts: 1 }),
    };
    const obs = (await observe(p, state, request.steps.filter((s) => s.kind === 'readiness'), p.replicas, deps, now)).observations;
    return { obs, decision: decide(p, state, { ...obs, webhooks: [], metrics: [] }, now) };
  };

  it('the primary DaemonSet is ready, the canary still rolling out: the tick waits and says which DaemonSet', async () => {
    const { obs, decision } = await tick(at(600));
    expect(obs.primary, JSON.stringify(obs.primary)).toEqual({ ready: true });
    expect(obs.canary).toMatchObject({ ready: false, retriable: true, reason: 'waiting for rollout to finish: 1 out of 3 new pods have been updated' });
    expect(decision.action.type).toBe('none');
    expect(JSON.stringify(decision)).toContain('Waiting for canary daemonset podinfo-ds to become ready');
  });

  it('a canary DaemonSet observed rolling out for longer than progressDeadlineSeconds is rolled back', async () => {
    const { decision } = await tick(at(750));
    expect(decision.action).toMatchObject({ type: 'rollback', reason: 'ProgressDeadlineExceeded' });
    expect((decision.action as { message: string }).message).toContain('canary daemonset podinfo-ds not ready: waiting for rollout to finish: 1 out of 3 new pods have been updated (observed unavailable for 60s, deadline 60s)');
  });
});
