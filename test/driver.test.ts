import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PushRejectedError } from '../src/errors';
import { step } from '../src/driver/driver';
import { CanaryState } from '../src/model/state';
import { TEST_CONFIG, appJson, istioTraffic, readyDeployment, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The step driver end to end: a real Prometheus serving backfilled istio and kube-state-metrics
 * series, a real bare git remote, and the driver run tick after tick with a clock inside the data
 * window. Each scenario is its own namespace, so one Prometheus serves them all.
 */

const NAMESPACES = { healthy: 'healthy', erroring: 'erroring', silent: 'silent', race: 'race', killed: 'killed', down: 'down', rejected: 'rejected', sync: 'sync', stale: 'stale', idle: 'idle' };

function metrics(): OpenMetricsWriter {
  const w = new OpenMetricsWriter();
  istioTraffic(w, NAMESPACES.healthy, 10, 0);
  istioTraffic(w, NAMESPACES.erroring, 10, 0.05);
  istioTraffic(w, NAMESPACES.race, 10, 0);
  istioTraffic(w, NAMESPACES.killed, 10, 0);
  istioTraffic(w, NAMESPACES.down, 10, 0);
  for (const ns of Object.values(NAMESPACES)) {
    readyDeployment(w, ns, 'podinfo', 2);
    readyDeployment(w, ns, 'podinfo-primary', 2);
  }
  return w;
}

/** One scenario: a remote seeded with app.json for `namespace`, a clone for the driver, a clock. */
class Scenario {
  readonly fx: GitFixture;
  readonly clone: string;
  readonly clock = { now: at(60) };
  readonly logs: string[] = [];
  constructor(readonly namespace: string, readonly promUrl: () => string, threshold = 2) {
    this.fx = createGitFixture({ 'app.json': appJson({ canaries: [{ namespace, image: 'podinfo:6.0.0', threshold }] }) });
    this.clone = this.fx.clone('driver');
  }
  deps() {
    return realDeps(this.clone, this.promUrl(), this.clock, this.logs);
  }
  async tick(advanceSeconds = 60) {
    this.clock.now = new Date(this.clock.now.getTime() + advanceSeconds * 1000);
    return step({ repoDir: this.clone, config: TEST_CONFIG, select: { all: true } }, this.deps());
  }
  /** A teammate changes the image and pushes. */
  release(image: string, threshold = 2): void {
    this.fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: this.namespace, image, threshold }] }) }, `release ${image}`);
  }
  /** Full message of the newest remote commit. */
  lastMessage(): string {
    return this.fx.remoteGit('log', '-1', '--format=%B', 'main');
  }
  subjects(): string[] {
    return this.fx.remoteGit('log', '--format=%s', 'main').split('\n').reverse();
  }
  remoteFile<T = any>(rev: string, file: string): T {
    const text = this.fx.remoteGit('show', `${rev}:${file}`);
    return file.endsWith('.json') ? JSON.parse(text) : parse(text);
  }
  remoteState(rev = 'main'): CanaryState {
    return this.remoteFile(rev, `state/${this.namespace}/podinfo.json`);
  }
  /** The VirtualService weights [primary, canary] at a remote revision. */
  weights(rev = 'main'): number[] {
    const vs = this.remoteFile(rev, `dist/${this.namespace}/podinfo/virtualservice-podinfo.yaml`);
    return vs.spec.http[0].route.map((r: { weight: number }) => r.weight);
  }
  replicas(rev: string, deployment: string): number {
    return this.remoteFile(rev, `dist/${this.namespace}/podinfo/deployment-${deployment}.yaml`).spec.replicas;
  }
  image(rev: string, deployment: string): string {
    return this.remoteFile(rev, `dist/${this.namespace}/podinfo/deployment-${deployment}.yaml`).spec.template.spec.containers[0].image;
  }
  /** Reaches Progressing at weight 0 for image 6.1.0 (initialize, ready, release, start). */
  async startRun(): Promise<void> {
    await this.tick();
    await this.tick();
    this.release('podinfo:6.1.0');
    await this.tick(0);
  }
  cleanup(): void {
    this.fx.cleanup();
  }
}

describeWithPrometheus('step driver against real Prometheus and git', () => {
  let prom: PrometheusServer;
  const scenarios: Scenario[] = [];
  const scenario = (ns: string, threshold?: number): Scenario => {
    const s = new Scenario(ns, () => prom.url, threshold);
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

  it('takes a healthy canary from Initialized through 10..50 to Succeeded, one commit per stage', async () => {
    const s = scenario(NAMESPACES.healthy);
    await s.tick();
    expect(s.remoteState().phase).toBe('Initializing');
    expect(s.replicas('main', 'podinfo')).toBe(2); // the target keeps serving until the primary is ready
    await s.tick();
    expect(s.remoteState().phase).toBe('Initialized');
    expect(s.replicas('main', 'podinfo')).toBe(0);

    // Nothing to do: no commit.
    const before = s.fx.remoteGit('rev-parse', 'main');
    const idle = await s.tick();
    expect(idle.pushed).toBe(false);
    expect(s.fx.remoteGit('rev-parse', 'main')).toBe(before);

    s.release('podinfo:6.1.0');
    for (let i = 0; i < 9; i++) await s.tick();

    const subjects = s.subjects().filter((l) => l.startsWith('canary('));
    expect(subjects).toEqual([
      'canary(healthy/podinfo): initialize: create the primary',
      'canary(healthy/podinfo): initialized: primary ready',
      expect.stringMatching(/^canary\(healthy\/podinfo\): start analysis of rev [0-9a-f]{8}$/),
      'canary(healthy/podinfo): advance weight 0 -> 10',
      'canary(healthy/podinfo): advance weight 10 -> 20',
      'canary(healthy/podinfo): advance weight 20 -> 30',
      'canary(healthy/podinfo): advance weight 30 -> 40',
      'canary(healthy/podinfo): advance weight 40 -> 50',
      expect.stringMatching(/^canary\(healthy\/podinfo\): promote rev [0-9a-f]{8}$/),
      'canary(healthy/podinfo): finalise: all traffic on the primary',
      'canary(healthy/podinfo): succeeded',
    ]);

    // The manifests at each commit carry that stage.
    const log = s.fx.remoteGit('log', '--format=%H %s', 'main').split('\n').reverse();
    const at = (subject: string): string => log.find((l) => l.endsWith(subject))!.split(' ')[0];
    const start = log.find((l) => l.includes('start analysis'))!.split(' ')[0];
    expect(s.weights(start)).toEqual([100, 0]);
    expect(s.replicas(start, 'podinfo')).toBe(2);
    expect(s.image(start, 'podinfo-primary')).toBe('podinfo:6.0.0');
    expect(s.weights(at('advance weight 20 -> 30'))).toEqual([70, 30]);
    const promote = log.find((l) => l.includes('promote rev'))!.split(' ')[0];
    expect(s.image(promote, 'podinfo-primary')).toBe('podinfo:6.1.0');
    expect(s.weights(promote)).toEqual([50, 50]);
    expect(s.remoteState(promote).phase).toBe('Promoting');
    expect(s.weights(at('finalise: all traffic on the primary'))).toEqual([100, 0]);
    expect(s.replicas('main', 'podinfo')).toBe(0);
    expect(s.remoteState()).toMatchObject({ phase: 'Succeeded', canaryWeight: 0, failedChecks: 0 });

    // Each stage commit lists its checks and carries the trailers.
    const body = s.fx.remoteGit('log', '-1', '--format=%B', at('advance weight 20 -> 30'));
    expect(body).toMatch(/request-success-rate: 100 \(min 99\) pass/);
    expect(body).toMatch(/request-duration: \d+ms \(max 500ms\) pass/);
    expect(body).toMatch(/Canary-Phase: Progressing\nCanary-Weight: 30\nCanary-Revision: [0-9a-f]{16}\nCanary-Failed-Checks: 0/);
    expect(s.fx.remoteGit('log', '-1', '--format=%an <%ae>', 'main')).toBe('canarykit <canarykit@example.test>');
  });

  it('rolls back a canary answering 5% HTTP 500 after threshold failed checks', async () => {
    const s = scenario(NAMESPACES.erroring);
    await s.startRun();
    await s.tick(); // pre-rollout step: 0 -> 10
    expect(s.weights()).toEqual([90, 10]);
    await s.tick();
    expect(s.remoteState()).toMatchObject({ phase: 'Progressing', canaryWeight: 10, failedChecks: 1 });
    expect(s.subjects().at(-1)).toMatch(/^canary\(erroring\/podinfo\): hold at weight 10: request-success-rate 95(\.\d+)? < 99$/);
    expect(s.lastMessage()).toMatch(/request-success-rate: 95(\.\d+)? \(min 99\) fail/);
    expect(s.lastMessage()).toMatch(/\(failed checks 1\/2\)/);
    await s.tick();
    expect(s.remoteState()).toMatchObject({ canaryWeight: 10, failedChecks: 2 });
    await s.tick();
    expect(s.subjects().at(-1)).toMatch(/roll back: Failed checks threshold reached 2/);
    expect(s.remoteState()).toMatchObject({ phase: 'Failed', canaryWeight: 0, failedChecks: 0 });
    expect(s.weights()).toEqual([100, 0]);
    expect(s.replicas('main', 'podinfo')).toBe(0);
    expect(s.image('main', 'podinfo-primary')).toBe('podinfo:6.0.0');
    // The failed revision does not start again by itself.
    expect((await s.tick()).pushed).toBe(false);
  });

  it('does not advance a canary that receives no traffic (no data is never a pass)', async () => {
    const s = scenario(NAMESPACES.silent, 5);
    await s.tick();
    await s.tick();
    s.release('podinfo:6.1.0', 5);
    await s.tick(0);
    await s.tick(); // 0 -> 10 (pre-rollout only)
    await s.tick();
    await s.tick();
    expect(s.remoteState()).toMatchObject({ phase: 'Progressing', canaryWeight: 10, failedChecks: 2 });
    expect(s.subjects().at(-1)).toBe('canary(silent/podinfo): hold at weight 10: request-success-rate: no data');
    expect(s.lastMessage()).toMatch(/is the canary receiving traffic\?/);
  });

  it('an idle tick (nothing due, head is canarykit\'s) writes nothing, so it leaves the clone without even a reset', async () => {
    const s = scenario(NAMESPACES.idle);
    await s.tick();
    await s.tick();
    const reflog = (): string[] => git(s.clone, ['reflog', '--format=%H %gs']).split('\n');
    const before = reflog();
    const report = await s.tick(1);
    expect(report).toMatchObject({ pushed: false, outcomes: [{ canary: 'idle/podinfo', action: 'none' }] });
    // A reset would add "checkout: moving from main to <sha>" to HEAD's reflog.
    expect(reflog()).toEqual(before);
    expect(git(s.clone, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  });

  it('retries when the remote moves between read and push, without losing either commit', async () => {
    const s = scenario(NAMESPACES.race);
    await s.startRun();
    const deps = s.deps();
    let raced = false;
    const push = deps.git.push.bind(deps.git);
    deps.git.push = async () => {
      if (!raced) {
        raced = true;
        s.fx.pushConcurrently({ 'NOTES.md': 'a teammate was here\n' }, 'teammate: notes');
      }
      return push();
    };
    s.clock.now = new Date(s.clock.now.getTime() + 60_000);
    const report = await step({ repoDir: s.clone, config: TEST_CONFIG, select: { all: true } }, deps);
    expect(report).toMatchObject({ pushed: true, attempts: 2 });
    const subjects = s.subjects();
    expect(subjects.slice(-2)).toEqual(['teammate: notes', 'canary(race/podinfo): advance weight 0 -> 10']);
    expect(subjects.filter((l) => l.includes('advance weight 0 -> 10'))).toHaveLength(1);
    expect(s.weights()).toEqual([90, 10]);
    expect(git(s.clone, ['status', '--porcelain'])).toBe('');
  });

  it('converges without a duplicate step after a process killed between commit and push', async () => {
    const s = scenario(NAMESPACES.killed);
    await s.startRun();
    // The killed tick: it committed locally, then died before pushing (so nothing was reset).
    const deps = s.deps();
    const dying = Object.assign(Object.create(Object.getPrototypeOf(deps.git)), deps.git, {
      push: async () => {
        throw new Error('killed');
      },
      rollbackLocal: async () => undefined,
    });
    s.clock.now = new Date(s.clock.now.getTime() + 60_000);
    const killedAt = s.clock.now;
    await expect(step({ repoDir: s.clone, config: TEST_CONFIG, select: { all: true } }, { ...deps, git: dying })).rejects.toThrow('killed');
    expect(git(s.clone, ['log', '-1', '--format=%s'])).toBe('canary(killed/podinfo): advance weight 0 -> 10');
    expect(s.subjects().at(-1)).toMatch(/start analysis/);
    // The next run (same minute, as cron would retry) re-derives the step once.
    s.clock.now = killedAt;
    await step({ repoDir: s.clone, config: TEST_CONFIG, select: { all: true } }, s.deps());
    expect(s.subjects().filter((l) => l.includes('advance weight 0 -> 10'))).toHaveLength(1);
    expect(s.remoteState()).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    await s.tick();
    expect(s.subjects().at(-1)).toBe('canary(killed/podinfo): advance weight 10 -> 20');
  });

  it('records an errored check and holds the weight when Prometheus is down', async () => {
    const own = await startPrometheus(String(metrics()));
    const s = new Scenario(NAMESPACES.down, () => own.url);
    scenarios.push(s);
    try {
      await s.startRun();
      await s.tick();
      expect(s.weights()).toEqual([90, 10]);
      await own.stop();
      const report = await s.tick();
      expect(report.pushed).toBe(true);
      expect(s.remoteState()).toMatchObject({ phase: 'Progressing', canaryWeight: 10, failedChecks: 1 });
      expect(s.weights()).toEqual([90, 10]);
      expect(s.subjects().at(-1)).toMatch(/hold at weight 10: .*(unreachable|Prometheus)/);
    } finally {
      await own.stop();
    }
  });

  it('leaves the clone exactly at the remote when a push keeps being rejected', async () => {
    const s = scenario(NAMESPACES.rejected);
    await s.tick();
    const deps = s.deps();
    deps.git.push = async () => {
      throw new PushRejectedError('rejected');
    };
    const remoteBefore = s.fx.remoteGit('rev-parse', 'main');
    await expect(step({ repoDir: s.clone, config: TEST_CONFIG, select: { all: true } }, { ...deps, now: () => new Date(s.clock.now.getTime() + 60_000) })).rejects.toThrow(/rejected 3 times/);
    expect(git(s.clone, ['rev-parse', 'HEAD'])).toBe(remoteBefore);
    expect(git(s.clone, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(readFileSync(join(s.clone, 'state/rejected/podinfo.json'), 'utf8')).toContain('"phase": "Initializing"');
  });

  it('commits manifests that change with the app but not with a stage (no new revision)', async () => {
    const s = scenario(NAMESPACES.sync);
    await s.tick();
    await s.tick();
    const plan = () => s.remoteFile(`main`, `dist/${NAMESPACES.sync}/podinfo/canary.plan.json`);
    expect(plan().analysis.threshold).toBe(2);
    // A person raises the threshold: the pod template (the revision) is unchanged.
    s.fx.pushConcurrently({ 'app.json': appJson({ canaries: [{ namespace: NAMESPACES.sync, image: 'podinfo:6.0.0', threshold: 7 }] }) }, 'raise threshold');
    const report = await s.tick();
    expect(report.pushed).toBe(true);
    expect(s.subjects().at(-1)).toBe('canarykit: sync dist/ with the app and the state files');
    expect(plan().analysis.threshold).toBe(7);
    expect(s.remoteState().phase).toBe('Initialized');
    // The head is canarykit's own now: the next tick has nothing to do.
    expect((await s.tick()).pushed).toBe(false);
  });

  it('re-synthesizes output that an older canarykit committed (a plan without routing facts)', async () => {
    const s = scenario(NAMESPACES.stale);
    await s.tick();
    await s.tick();
    const file = `dist/${NAMESPACES.stale}/podinfo/canary.plan.json`;
    const current = s.remoteFile(`main`, file);
    expect(current.routing).toEqual({ flaggerName: 'istio', shiftsWeights: true, promotionSteps: true });
    // What canarykit 0.1.0 committed: the same plan without `routing`, by canarykit itself, so the
    // tick would otherwise skip its first synth.
    const { routing: _dropped, ...old } = current;
    const work = s.fx.clone('old-canarykit');
    writeFileSync(join(work, file), `${JSON.stringify(old, null, 2)}\n`);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'canarykit', GIT_AUTHOR_EMAIL: 'canarykit@example.test', GIT_COMMITTER_NAME: 'canarykit', GIT_COMMITTER_EMAIL: 'canarykit@example.test' };
    git(work, ['commit', '-qam', 'canarykit: output of an older version'], env);
    git(work, ['push', '-q', 'origin', 'HEAD:main'], env);
    const report = await s.tick();
    expect(report.outcomes.map((o) => o.canary)).toEqual([`${NAMESPACES.stale}/podinfo`]);
    expect(s.subjects().at(-1)).toBe('canarykit: sync dist/ with the app and the state files');
    expect(s.remoteFile(`main`, file).routing).toEqual(current.routing);
  });
});
