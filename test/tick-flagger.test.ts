import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { step } from '../src/stages/driver';
import { CanaryState } from '../src/stages/state';
import { AppSpec, TEST_CONFIG, appJson, healthyPodinfo, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';
import { Recorder } from './support/recorder';

/*
 * Flagger v1.44.0's tick as a user of its webhooks and alerts sees it, end to end: real Prometheus
 * (backfilled istio + kube-state-metrics series), a real bare git remote, and a local HTTP server
 * recording every webhook and Slack call. The shape follows Flagger's TestWebhooks
 * (pkg/controller/events_test.go): per hook type, the payload phase (and for `event` hooks the
 * eventMessage) of every call, in order. The `event` calls of a tick go out after its stage is
 * pushed (git forces it: a stage exists once it is on the remote), so the order across types is
 * asserted for the gating hooks only.
 */

type CanarySpec = AppSpec['canaries'][number];
const NS = ['hooks', 'skip', 'ctimax', 'cadence', 'abwait', 'bgwait', 'rollback', 'revert', 'suspended'];
const HOOK_TYPES = ['confirm-rollout', 'pre-rollout', 'rollout', 'confirm-traffic-increase', 'confirm-promotion', 'post-rollout', 'rollback', 'event'];

function metrics(): OpenMetricsWriter {
  // An hour of data: the cadence scenario spans several 5-minute intervals.
  const w = new OpenMetricsWriter(3600);
  for (const ns of NS) healthyPodinfo(w, ns);
  return w;
}

/** One webhook of each type, named `<type>-webhook` and posting to `<recorder>/<type>`. */
function everyHook(rec: Recorder, types = HOOK_TYPES): CanarySpec['webhooks'] {
  return types.map((type) => ({ name: `${type}-webhook`, type, url: `${rec.url}/${type}` }));
}

class Scenario {
  readonly fx: GitFixture;
  readonly clone: string;
  readonly clock = { now: at(60) };
  readonly logs: string[] = [];
  constructor(private spec: CanarySpec, private readonly promUrl: () => string) {
    this.fx = createGitFixture({ 'app.json': appJson({ canaries: [spec] }) });
    this.clone = this.fx.clone('driver');
  }
  async tick(advanceSeconds = 60) {
    this.clock.now = new Date(this.clock.now.getTime() + advanceSeconds * 1000);
    return step({ repoDir: this.clone, config: TEST_CONFIG, select: { all: true } }, realDeps(this.clone, this.promUrl(), this.clock, this.logs));
  }
  release(image = 'podinfo:6.1.0'): void {
    this.update({ image }, `release ${image}`);
  }
  update(patch: Partial<CanarySpec>, message = 'update the canary'): void {
    this.spec = { ...this.spec, ...patch };
    this.fx.pushConcurrently({ 'app.json': appJson({ canaries: [this.spec] }) }, message);
  }
  state(rev = 'main'): CanaryState {
    return JSON.parse(this.fx.remoteGit('show', `${rev}:state/${this.spec.namespace}/podinfo.json`));
  }
  head(): string {
    return this.fx.remoteGit('rev-parse', 'main');
  }
  /** Initializing, Initialized, release 6.1.0, start: Progressing at weight 0. */
  async startRun(interval = 60): Promise<void> {
    await this.tick(0);
    await this.tick(interval);
    this.release();
    await this.tick(0);
  }
}

describeWithPrometheus("Flagger's tick: webhooks, events and alerts (events_test.go TestWebhooks shape)", () => {
  let prom: PrometheusServer;
  const cleanups: (() => unknown)[] = [];
  const setup = async (spec: Omit<CanarySpec, 'image'>, hookTypes?: string[]): Promise<{ s: Scenario; rec: Recorder }> => {
    const rec = await new Recorder().start();
    const full: CanarySpec = { image: 'podinfo:6.0.0', threshold: 2, ...spec, webhooks: everyHook(rec, hookTypes), slack: `${rec.url}/slack` };
    const s = new Scenario(full, () => prom.url);
    cleanups.push(() => rec.stop(), () => s.fx.cleanup());
    // A rollback hook that answers OK asks for a rollback; by default it answers "no".
    rec.status.set('rollback', 400);
    return { s, rec };
  };
  beforeAll(async () => {
    prom = await startPrometheus(String(metrics()));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    for (const c of cleanups) await c();
  });

  it('a full canary run: every hook type, its payload phase and the events in Flagger\'s wording', async () => {
    const { s, rec } = await setup({ namespace: 'hooks', stepWeight: 100, maxWeight: 100, stepWeightPromotion: 50 });
    await s.startRun();
    const initialized = s.state('main~1'); // the Initialized stage, before the run started
    expect(initialized.phase).toBe('Initialized');
    for (let i = 0; i < 5; i++) await s.tick();
    expect(s.state()).toMatchObject({ phase: 'Succeeded', canaryWeight: 0 });

    const byType = (type: string): string[] => rec.to(type).map((c) => c.body.phase);
    expect(byType('confirm-rollout')).toEqual(['Initialized']);
    expect(byType('pre-rollout')).toEqual(['Progressing']);
    expect(byType('rollout')).toEqual(['Progressing']);
    // scheduler.go advanceCanary: asked at weight 0 and again at maxWeight, before confirm-promotion.
    expect(byType('confirm-traffic-increase')).toEqual(['Progressing', 'Progressing']);
    expect(byType('confirm-promotion')).toEqual(['Progressing']);
    expect(byType('rollback')).toEqual(['Progressing', 'Progressing']);
    expect(byType('post-rollout')).toEqual(['Succeeded']);
    expect(rec.calls.map((c) => c.path).filter((p) => p !== 'event' && p !== 'slack')).toEqual([
      'confirm-rollout', 'rollback', 'pre-rollout', 'confirm-traffic-increase', 'rollback', 'rollout', 'confirm-traffic-increase', 'confirm-promotion', 'post-rollout',
    ]);
    // webhook.go canaryChecksum: at confirm-rollout still the Initialized revision; at post-rollout the promoted one.
    expect(rec.to('confirm-rollout')[0].body.checksum).toBe(initialized.canaryRevision);
    expect(rec.to('post-rollout')[0].body.checksum).toBe(s.state().canaryRevision);
    expect(rec.to('post-rollout')[0].body.checksum).not.toBe(initialized.canaryRevision);

    expect(rec.events()).toEqual([
      // scheduler_metrics.go checkMetricProviderAvailability, on the Initializing tick.
      ['Initializing', 'all the metrics providers are available!'],
      ['Initialized', 'Initialization done! podinfo.hooks'],
      ['Initialized', 'Confirm-rollout check confirm-rollout-webhook passed'],
      ['Progressing', 'New revision detected! Scaling up podinfo.hooks'],
      ['Progressing', 'Rollback hook rollback-webhook not signaling a rollback'],
      ['Progressing', 'Starting canary analysis for podinfo.hooks'],
      ['Progressing', 'Pre-rollout check pre-rollout-webhook passed'],
      ['Progressing', 'Confirm-traffic-increase check confirm-traffic-increase-webhook passed'],
      ['Progressing', 'Advance podinfo.hooks canary weight 100'],
      ['Progressing', 'Rollback hook rollback-webhook not signaling a rollback'],
      ['Progressing', 'Confirm-traffic-increase check confirm-traffic-increase-webhook passed'],
      ['Progressing', 'Confirm-promotion check confirm-promotion-webhook passed'],
      ['Progressing', 'Copying podinfo.hooks template spec to podinfo-primary.hooks'],
      ['Promoting', 'Advance podinfo.hooks primary weight 50'],
      ['Promoting', 'Advance podinfo.hooks primary weight 100'],
      ['Succeeded', 'Post-rollout check post-rollout-webhook passed'],
      ['Succeeded', 'Promotion completed! Scaling down podinfo.hooks'],
    ]);
    expect(rec.to('event').every((c) => c.body.metadata.eventType === 'Normal')).toBe(true);
    expect(rec.alerts()).toEqual([
      'New Deployment detected, initialization completed.',
      'New revision detected, progressing canary analysis.',
      'Canary analysis completed successfully, promotion finished.',
    ]);
    // events.go alertMetadata on the new-revision alert.
    expect(rec.to('slack')[1].body.attachments[0].fields).toContainEqual({ title: 'Traffic routing', value: 'Weight step: 100 max: 100', short: false });
  });

  it('skipAnalysis: confirm-rollout, copy, post-rollout, "Promotion completed! Canary analysis was skipped"', async () => {
    const { s, rec } = await setup({ namespace: 'skip', skipAnalysis: true });
    await s.startRun();
    await s.tick();
    expect(s.state()).toMatchObject({ phase: 'Succeeded' });
    expect(rec.calls.map((c) => [c.path, c.body.phase]).filter(([p]) => p !== 'event' && p !== 'slack')).toEqual([
      ['confirm-rollout', 'Initialized'],
      ['post-rollout', 'Succeeded'],
    ]);
    expect(rec.events()).toEqual([
      ['Initialized', 'Initialization done! podinfo.skip'],
      ['Initialized', 'Confirm-rollout check confirm-rollout-webhook passed'],
      ['Progressing', 'New revision detected! Scaling up podinfo.skip'],
      ['Progressing', 'Copying podinfo.skip template spec to podinfo-primary.skip'],
      ['Succeeded', 'Post-rollout check post-rollout-webhook passed'],
      ['Succeeded', 'Promotion completed! Canary analysis was skipped for podinfo.skip'],
    ]);
    expect(rec.alerts().at(-1)).toBe('Canary analysis was skipped, promotion finished.');
  });

  it('confirm-traffic-increase closed at maxWeight blocks the promotion and warns on every tick', async () => {
    const { s, rec } = await setup({ namespace: 'ctimax', stepWeight: 50, maxWeight: 50 }, ['confirm-traffic-increase', 'confirm-promotion', 'event']);
    await s.startRun();
    await s.tick(); // 0 -> 50
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 50 });
    rec.status.set('confirm-traffic-increase', 403);
    rec.clear();
    const head = s.head();
    await s.tick();
    await s.tick();
    expect(s.head()).toBe(head); // nothing committed
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 50 });
    expect(rec.to('confirm-promotion')).toEqual([]);
    expect(rec.events()).toEqual([
      ['Progressing', 'Halt podinfo.ctimax advancement waiting for traffic increase approval confirm-traffic-increase-webhook'],
      ['Progressing', 'Halt podinfo.ctimax advancement waiting for traffic increase approval confirm-traffic-increase-webhook'],
    ]);
    expect(rec.to('event').map((c) => c.body.metadata.eventType)).toEqual(['Warning', 'Warning']);
    expect(rec.alerts()).toEqual(['Canary traffic increase is waiting for approval.', 'Canary traffic increase is waiting for approval.']);
    rec.status.delete('confirm-traffic-increase');
    await s.tick();
    expect(s.state()).toMatchObject({ phase: 'Promoting' });
    expect(rec.to('confirm-promotion').map((c) => c.body.phase)).toEqual(['Progressing']);
  });

  it('a gate closed for 3 intervals with the driver every minute: exactly 3 analyses and 3 waiting alerts', async () => {
    const { s, rec } = await setup({ namespace: 'cadence', intervalMinutes: 5, stepWeight: 20, maxWeight: 60 }, ['rollout', 'confirm-traffic-increase', 'event']);
    await s.startRun(300);
    await s.tick(300); // first analysis: 0 -> 20
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
    rec.status.set('confirm-traffic-increase', 403);
    rec.clear();
    const head = s.head();
    for (let minute = 1; minute <= 15; minute++) await s.tick(60);
    expect(s.head()).toBe(head);
    expect(rec.to('rollout')).toHaveLength(3); // +5, +10, +15 minutes: one analysis per interval (job.go)
    expect(rec.to('confirm-traffic-increase')).toHaveLength(3);
    expect(rec.alerts()).toEqual(Array(3).fill('Canary traffic increase is waiting for approval.'));
    expect(rec.events()).toHaveLength(3);
    // The cadence cache lives in the clone's git directory, never in the work tree or a commit.
    expect(s.fx.remoteGit('ls-tree', '-r', '--name-only', 'main')).not.toContain('last-ticks');
    // Losing it (a new clone, a restarted job) costs at most one extra analysis.
    rmSync(join(s.clone, '.git', 'canarykit'), { recursive: true, force: true });
    await s.tick(60);
    await s.tick(60);
    expect(rec.to('rollout')).toHaveLength(4);
  });

  it('A/B WaitingPromotion: one more iteration, the gate polled every second tick (scheduler.go runAB)', async () => {
    const { s, rec } = await setup({ namespace: 'abwait', iterations: 2, abHeader: 'x-canary' }, ['confirm-promotion', 'event']);
    rec.status.set('confirm-promotion', 403);
    await s.startRun();
    const seen: [string, number, number][] = [];
    const gateCalls: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const before = rec.to('confirm-promotion').length;
      await s.tick();
      if (rec.to('confirm-promotion').length > before) gateCalls.push(i);
      const st = s.state();
      seen.push([st.phase, st.iterations, st.canaryWeight]);
    }
    expect(seen).toEqual([
      ['Progressing', 1, 100],
      ['Progressing', 2, 100],
      ['WaitingPromotion', 1, 100],
      ['WaitingPromotion', 2, 100],
      ['WaitingPromotion', 1, 100],
      ['WaitingPromotion', 2, 100],
    ]);
    expect(gateCalls).toEqual([3, 5]);
    expect(rec.to('confirm-promotion').every((c) => c.body.phase === 'Progressing')).toBe(true);
    expect(rec.alerts().filter((a) => a.includes('promotion is waiting'))).toEqual(['Canary promotion is waiting for approval.']);
    expect(rec.events().filter(([, m]) => m.startsWith('Halt'))).toEqual([
      ['Progressing', 'Halt podinfo.abwait advancement waiting for promotion approval confirm-promotion-webhook'],
    ]);
    expect(rec.events().filter(([, m]) => m.includes('iteration'))).toEqual([
      ['Progressing', 'Advance podinfo.abwait canary iteration 1/2'],
      ['Progressing', 'Advance podinfo.abwait canary iteration 2/2'],
      ['WaitingPromotion', 'Advance podinfo.abwait canary iteration 2/2'],
      ['WaitingPromotion', 'Advance podinfo.abwait canary iteration 2/2'],
    ]);
    rec.status.delete('confirm-promotion');
    await s.tick(); // the gate is polled now (iterations 2) and opens
    expect(s.state()).toMatchObject({ phase: 'Promoting' });
  });

  it('blue/green WaitingPromotion: the cutover waits, one more iteration, then cutover and promotion', async () => {
    const { s, rec } = await setup({ namespace: 'bgwait', iterations: 2 }, ['confirm-promotion', 'event']);
    rec.status.set('confirm-promotion', 403);
    await s.startRun();
    for (let i = 0; i < 4; i++) await s.tick();
    expect(s.state()).toMatchObject({ phase: 'WaitingPromotion', iterations: 2, canaryWeight: 0 });
    expect(rec.to('confirm-promotion')).toHaveLength(1);
    await s.tick();
    expect(s.state()).toMatchObject({ phase: 'WaitingPromotion', iterations: 1 });
    rec.status.delete('confirm-promotion');
    await s.tick(); // iterations 1 -> 2, no gate
    expect(rec.to('confirm-promotion')).toHaveLength(2);
    await s.tick(); // gate open: cutover
    expect(s.state()).toMatchObject({ phase: 'WaitingPromotion', iterations: 3, canaryWeight: 100 });
    await s.tick(); // gate again, then promote
    expect(s.state()).toMatchObject({ phase: 'Promoting' });
    expect(rec.to('confirm-promotion')).toHaveLength(4);
    expect(rec.events().map(([, m]) => m)).toContain('Routing all traffic to canary');
  });

  it('the rollback hook: "Rollback check passed", "Canary failed!", post-rollout with phase Failed', async () => {
    const { s, rec } = await setup({ namespace: 'rollback', stepWeight: 10 }, ['rollback', 'post-rollout', 'event']);
    await s.startRun();
    await s.tick(); // 0 -> 10, the rollback hook says no
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    rec.status.set('rollback', 200);
    rec.clear();
    await s.tick();
    expect(s.state()).toMatchObject({ phase: 'Failed', canaryWeight: 0 });
    expect(rec.calls.map((c) => [c.path, c.body.phase]).filter(([p]) => p !== 'event' && p !== 'slack')).toEqual([
      ['rollback', 'Progressing'],
      ['post-rollout', 'Failed'],
    ]);
    expect(rec.to('event').map((c) => [c.body.phase, c.body.metadata.eventType, c.body.metadata.eventMessage])).toEqual([
      ['Progressing', 'Warning', 'Rollback check rollback-webhook passed'],
      ['Progressing', 'Warning', 'Rolling back podinfo.rollback manual webhook invoked'],
      ['Failed', 'Warning', 'Canary failed! Scaling down podinfo.rollback'],
      ['Progressing', 'Normal', 'Post-rollout check post-rollout-webhook passed'],
    ]);
    expect(rec.alerts()).toEqual(['Rolling back manual webhook invoked']);
  });

  // spec.go hasSpecChanged: "do not trigger a canary deployment on manual rollback".
  it('reverting the target to the promoted spec mid-run continues the run instead of restarting it', async () => {
    const { s, rec } = await setup({ namespace: 'revert', stepWeight: 10, maxWeight: 30 }, ['event']);
    await s.startRun();
    await s.tick(); // 0 -> 10
    s.release('podinfo:6.0.0'); // back to what the primary runs
    await s.tick();
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
    expect(rec.events().map(([, m]) => m)).not.toContain('New revision detected! Restarting analysis for podinfo.revert');
    expect(rec.events().at(-1)).toEqual(['Progressing', 'Advance podinfo.revert canary weight 20']);
  });

  it('suspended: "skipping canary run as object is suspended" once per interval, nothing committed, then the run resumes', async () => {
    const { s, rec } = await setup({ namespace: 'suspended', intervalMinutes: 2, stepWeight: 10, maxWeight: 50 }, ['event']);
    await s.startRun(120);
    await s.tick(120); // first analysis: 0 -> 10
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    s.update({ suspend: true }, 'suspend');
    await s.tick(0); // the suspend commit is synced (manifests unchanged), nothing is decided before the interval
    rec.clear();
    const head = s.head();
    for (let minute = 1; minute <= 6; minute++) await s.tick(60);
    expect(s.head()).toBe(head);
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    // scheduler.go advanceCanary: one recordEventInfof per ticker tick (every 2 minutes), on the stored phase.
    expect(rec.events()).toEqual(Array(3).fill(['Progressing', 'skipping canary run as object is suspended']));
    expect(rec.alerts()).toEqual([]);
    s.update({ suspend: false }, 'resume');
    await s.tick(120);
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
  });
});
