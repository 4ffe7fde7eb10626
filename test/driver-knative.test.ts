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
import { AnalysisPlan, PlannedMetric, workloadDeployment } from '../src/model/plan';
import { CanaryState } from '../src/model/state';
import { bootstrapState } from '../src/constructs/canary';
import { writeStateFile, stateFilePath } from '../src/model/state-store';
import { readyDeployment } from './support/driver-fixture';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

// The step driver's readiness checks on a Knative canary. Flagger's KnativeController
// IsPrimaryReady / IsCanaryReady read the Revisions' Ready condition; kube-state-metrics has no
// Knative series by default, so canarykit observes the Deployment Knative runs each revision as
// (`<revision>-deployment`), whose name the plan carries (`workloads`), with no committed replicas
// (Knative's autoscaler owns them).

const FIXTURE = path.join(__dirname, 'fixtures', 'flagger', 'knative', 'podinfo.yaml');
const dirs: string[] = [];
const temp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-knative-driver-'));
  dirs.push(d);
  return d;
};

/** The compiled plan at Progressing 10: the fixture's template (6.0.1) against a primary at 6.0.0. */
function progressingPlan(): { plan: AnalysisPlan; state: CanaryState } {
  const stateDir = temp();
  const oldPlan = JSON.parse(compileFiles([FIXTURE], { stateDir }).folders[0].files.get('canary.plan.json')!) as AnalysisPlan;
  const input = path.join(temp(), 'podinfo.yaml');
  fs.writeFileSync(input, fs.readFileSync(FIXTURE, 'utf8').replace('podinfo:6.0.0', 'podinfo:6.0.1'));
  const newPlan = JSON.parse(compileFiles([input], { stateDir }).folders[0].files.get('canary.plan.json')!) as AnalysisPlan;
  const state: CanaryState = { ...bootstrapState('test', 'podinfo', oldPlan.canary), phase: 'Progressing', canaryWeight: 10, canaryRevision: newPlan.canary.revision, primary: snapshotOf(oldPlan.canary) };
  writeStateFile(stateFilePath(stateDir, 'test', 'podinfo'), state);
  const plan = JSON.parse(compileFiles([input], { stateDir }).folders[0].files.get('canary.plan.json')!) as AnalysisPlan;
  return { plan, state };
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('the Knative plan names the revisions\' Deployments', () => {
  it('workloads are <revision>-deployment, no committed replicas', () => {
    const { plan } = progressingPlan();
    expect(plan.workloads).toEqual({ primary: `${plan.revisions!.primary}-deployment`, canary: `${plan.revisions!.canary}-deployment` });
    expect(plan.revisions!.primary).not.toBe(plan.revisions!.canary);
    expect(plan.replicas).toEqual({});
    expect(workloadDeployment(plan, 'canary')).toBe(plan.workloads!.canary);
  });

  it('alerts name the target as Flagger does, by its kind (events.go alertMetadata)', () => {
    const { plan } = progressingPlan();
    expect(plan.targetKind).toBe('Service');
    expect(canaryFields(plan)[0]).toEqual({ name: 'Target', value: 'Service/podinfo.test' });
  });
});

describeWithPrometheus('a Knative canary\'s readiness against a real Prometheus (kube-state-metrics series)', () => {
  let prom: PrometheusServer;
  const { plan, state } = progressingPlan();
  beforeAll(async () => {
    // Only the primary revision's Deployment exists; `podinfo` and `podinfo-primary` never do.
    prom = await startPrometheus(String(readyDeployment(new OpenMetricsWriter(), 'test', plan.workloads!.primary, 1)));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
  });

  const run = async (p: AnalysisPlan) => {
    const request = observationsNeeded(p, state, at(600));
    const deps = {
      metricsClient: (provider: PlannedMetric['provider'] & { address: string }, driverServer: string) => clientForProvider(provider, { timeoutMs: 2000, driverAddress: driverServer }),
      metricSource: testMetricSource(),
      callWebhook: async () => ({ ok: true, message: 'unused', attempts: 1 }),
    };
    return (await observe(p, state, request.steps.filter((s) => s.kind === 'readiness'), p.replicas, deps, at(600))).observations;
  };

  it('the primary revision\'s Deployment is ready; the canary revision\'s is not there yet, so the tick waits and says which', async () => {
    const obs = await run({ ...plan, metricsServer: prom.url });
    expect(obs.primary, JSON.stringify(obs.primary)).toEqual({ ready: true });
    expect(obs.canary).toMatchObject({ ready: false, retriable: true });
    const decision = decide(plan, state, { ...obs, webhooks: [], metrics: [] }, at(600));
    expect(decision.action.type).toBe('none');
    expect(JSON.stringify(decision)).toContain(`canary deployment ${plan.workloads!.canary}`);
  });
});
