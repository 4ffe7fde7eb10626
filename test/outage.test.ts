import { afterAll, beforeAll, expect, it } from 'vitest';
import { istioTraffic, readyDeployment } from './support/driver-fixture';
import { deploymentOverTime } from './support/ksm';
import { OutageScenario } from './support/outage-scenario';
import { OpenMetricsWriter, PrometheusServer, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * What an unobservable cluster can cause, end to end: a real Prometheus stopped for 12 minutes and
 * started again, real git remotes, the real driver ticking every simulated minute. Flagger's rules
 * reproduced: pkg/controller/scheduler.go advanceCanary (readiness before the threshold check,
 * metric errors count as failed checks, rollback at threshold) and pkg/canary/deployment_ready.go
 * isDeploymentReady (a deadline needs Available=False observed for progressDeadlineSeconds).
 */

const OUTAGE_MINUTES = 12;
const NS = { progressing: 'out-progressing', promoting: 'out-promoting', finalising: 'out-finalising', cronjob: 'out-cronjob', stuck: 'out-stuck' };

function metrics(): OpenMetricsWriter {
  const w = new OpenMetricsWriter(1800);
  for (const ns of Object.values(NS)) istioTraffic(w, ns, 10, 0);
  for (const ns of [NS.progressing, NS.promoting, NS.finalising]) {
    readyDeployment(w, ns, 'podinfo', 2);
    readyDeployment(w, ns, 'podinfo-primary', 2);
  }
  // The canary is briefly not ready (1 of 2 available) around 1380 s, ready otherwise.
  deploymentOverTime(w, NS.cronjob, 'podinfo', 2, (t) => (t >= 1350 && t <= 1410 ? 1 : 2));
  readyDeployment(w, NS.cronjob, 'podinfo-primary', 2);
  // The promoted primary gets stuck at 500 s (1 of 2 available from then on).
  deploymentOverTime(w, NS.stuck, 'podinfo', 2, () => 2);
  deploymentOverTime(w, NS.stuck, 'podinfo-primary', 2, (t) => (t < 500 ? 2 : 1));
  return w;
}

describeWithPrometheus('an unobservable cluster (real Prometheus outages, real git)', () => {
  let prom: PrometheusServer;
  const scenarios: OutageScenario[] = [];
  const scenario = (ns: string): OutageScenario => {
    const s = new OutageScenario(ns, () => prom.url);
    scenarios.push(s);
    return s;
  };
  beforeAll(async () => {
    prom = await startPrometheus(String(metrics()));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    scenarios.forEach((s) => s.cleanup());
  });

  /** Ticks every minute for the outage while Prometheus is stopped; returns the tick times. */
  async function outage(s: OutageScenario, from: number): Promise<{ pushed: boolean[]; summaries: string[]; end: number }> {
    await prom.pause();
    const pushed: boolean[] = [];
    const summaries: string[] = [];
    let t = from;
    try {
      for (let i = 0; i < OUTAGE_MINUTES; i++) {
        t += 60;
        const report = await s.tickAt(t);
        pushed.push(report.pushed);
        summaries.push(report.outcomes[0].summary);
      }
    } finally {
      await prom.resume();
    }
    return { pushed, summaries, end: t };
  }

  it('Progressing: a 12-minute outage ends in a rollback at threshold, routes 100/0', async () => {
    const s = scenario(NS.progressing);
    await s.startRun();
    await s.tickAt(180);
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    const out = await outage(s, 180);
    // threshold 2: two errored checks (held, committed), then the rollback; then nothing at rest.
    expect(out.pushed).toEqual([true, true, true, false, false, false, false, false, false, false, false, false]);
    const [first, second, last] = s.lastMessages(3);
    expect(first).toMatch(/^canary\(out-progressing\/podinfo\): hold at weight 10: Readiness of primary could not be observed/);
    expect(first).toMatch(/Prometheus query to http:\/\/127\.0\.0\.1:\d+ failed: request failed.*\(failed checks 1\/2\)/s);
    expect(second).toMatch(/hold at weight 10: .*\(failed checks 2\/2\)/s);
    expect(last).toMatch(/^canary\(out-progressing\/podinfo\): roll back: Failed checks threshold reached 2/);
    expect(s.state()).toMatchObject({ phase: 'Failed', canaryWeight: 0, failedChecks: 0 });
    expect(s.weights()).toEqual([100, 0]);
    expect(s.replicas('podinfo')).toBe(0);
    expect(s.messages()).toContain('Canary-Phase: Failed');
    // Prometheus is back: the failed run stays at rest (no new revision), nothing is committed.
    const head = s.head();
    expect((await s.tickAt(out.end + 60)).pushed).toBe(false);
    expect(s.head()).toBe(head);
  }, 300_000);

  it('Promoting: a 12-minute outage holds the stage; when Prometheus returns the promotion finishes', async () => {
    const s = scenario(NS.promoting);
    const t = await s.runUntil('Promoting');
    expect(s.weights()).toEqual([50, 50]);
    const head = s.head();
    const out = await outage(s, t);
    expect(out.pushed.every((p) => !p)).toBe(true);
    expect(out.summaries.every((m) => /readiness unknown, holding the stage/.test(m))).toBe(true);
    expect(s.head()).toBe(head);
    expect(s.state()).toMatchObject({ phase: 'Promoting', canaryWeight: 50 });
    // Back: the held stage continues as if nothing happened.
    await s.tickAt(out.end + 60);
    expect(s.state()).toMatchObject({ phase: 'Finalising', canaryWeight: 0 });
    expect(s.weights()).toEqual([100, 0]);
    await s.tickAt(out.end + 120);
    expect(s.state().phase).toBe('Succeeded');
    expect(s.subjects().join('\n')).not.toMatch(/promotion failed|roll back/);
  }, 300_000);

  it('Finalising: a 12-minute outage holds the stage; when Prometheus returns the run succeeds', async () => {
    const s = scenario(NS.finalising);
    const t = await s.runUntil('Finalising');
    expect(s.weights()).toEqual([100, 0]);
    const head = s.head();
    const out = await outage(s, t);
    expect(out.pushed.every((p) => !p)).toBe(true);
    expect(s.head()).toBe(head);
    expect(s.state()).toMatchObject({ phase: 'Finalising', canaryWeight: 0 });
    await s.tickAt(out.end + 60);
    expect(s.state()).toMatchObject({ phase: 'Succeeded', canaryWeight: 0 });
    expect(s.replicas('podinfo')).toBe(0);
    expect(s.subjects().join('\n')).not.toMatch(/promotion failed|roll back/);
  }, 300_000);

  it('a 20-minute driver outage does not roll back a canary that is only briefly not ready', async () => {
    const s = scenario(NS.cronjob);
    await s.startRun();
    await s.tickAt(180);
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    // The CronJob did not run for 20 minutes; the canary is not ready right now (since 1350 s).
    const head = s.head();
    const late = await s.tickAt(180 + 20 * 60);
    expect(late.outcomes[0]).toMatchObject({ action: 'none', phase: 'Progressing', weight: 10 });
    expect(late.outcomes[0].summary).toMatch(/canary not ready: waiting for rollout to finish: 1 of 2/);
    expect(s.head()).toBe(head);
    // Ready again a minute later: the analysis goes on.
    await s.tickAt(180 + 21 * 60 + 60);
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
  }, 300_000);

  it('only an observed stuck primary fails a promotion, and then all traffic goes to the primary', async () => {
    const s = scenario(NS.stuck);
    let t = await s.runUntil('Promoting');
    expect(t).toBeLessThan(500);
    const head = s.head();
    // Observed unavailable since 500 s: a wait until kube-state-metrics has seen it for 600 s.
    let report;
    do {
      t += 60;
      report = await s.tickAt(t);
    } while (!report.pushed && t < 1500);
    expect(t).toBeGreaterThanOrEqual(500 + 600);
    expect(t).toBeLessThanOrEqual(500 + 600 + 60);
    expect(s.lastMessages(1)[0]).toMatch(/promotion failed: Promotion failed, primary not ready: .*observed unavailable for 600s, deadline 600s/s);
    expect(s.fx.remoteGit('rev-list', '--count', `${head}..main`)).toBe('1');
    expect(s.state()).toMatchObject({ phase: 'Failed', canaryWeight: 0 });
    expect(s.weights()).toEqual([100, 0]);
    expect(s.replicas('podinfo')).toBe(0);
  }, 300_000);
});
