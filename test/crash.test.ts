import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TICK_LOCK_FILE } from '../src/adapters/git/tick-lock';
import { healthyPodinfo } from './support/driver-fixture';
import { GitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, describeWithPrometheus, startPrometheus } from './support/prometheus';
import { seededRandom as random } from './support/seeded-random';
import {
  INTERVAL_SECONDS,
  NAMESPACE,
  ROOT,
  StageCommit,
  cloneIsClean,
  configYaml,
  SynthServer,
  crashRepo,
  deploymentYaml,
  remoteStage,
  runStep,
  stageCommits,
  startStep,
  startSynthServer,
  waitForFile,
} from './support/crash-repo';

/*
 * Crash safety and concurrency of real `canarykit step` processes (the built CLI), on real git
 * with a bare remote and a real Prometheus: kill -9 at randomized points of real ticks, four
 * drivers racing against one remote, and canarykit.yaml read after the sync.
 * The behaviour reproduced is Flagger's scheduler (pkg/controller/scheduler.go advanceCanary):
 * one stage per interval; these tests check that crashes and races never lose or repeat one.
 */

const PAUSE_POINTS = ['synced', 'state-written', 'synthesized', 'committed', 'pushed'] as const;

/**
 * The full sizes of issue 7's done-when (30 kills, 4 drivers x 20 rounds) take minutes of CPU on a
 * shared 2-core machine, mostly Node starting 100+ real `canarykit step` processes; the default run
 * keeps every pause point and the race but fewer rounds. CANARYKIT_CRASH_FULL=1 runs the full sizes.
 */
const FULL = process.env.CANARYKIT_CRASH_FULL === '1';
const KILLS = FULL ? 30 : 8;
const ROUNDS = FULL ? 20 : 6;

/** The stage subjects of one release, from detection to Succeeded (maxWeight 20, stepWeight 10). */
const RELEASE = [
  'start analysis of rev X',
  'advance weight 0 -> 10',
  'advance weight 10 -> 20',
  'promote rev X',
  'finalise: all traffic on the primary',
  'succeeded',
];
const INITIAL = ['initialize: create the primary', 'initialized: primary ready'];

const normalize = (c: StageCommit): string => c.subject.replace(`canary(${NAMESPACE}/podinfo): `, '').replace(/rev [0-9a-f]{8}/, 'rev X');


/** The remote after every tick: state file, newest trailers and routes tell the same stage; history is linear. */
function expectConsistentRemote(fx: GitFixture): void {
  const stage = remoteStage(fx);
  const commits = stageCommits(fx);
  const last = commits[commits.length - 1];
  expect({ phase: last.phase, weight: last.weight, revision: last.revision, failedChecks: last.failedChecks }).toEqual({
    phase: stage.phase,
    weight: stage.weight,
    revision: stage.revision,
    failedChecks: stage.failedChecks,
  });
  expect(stage.routes).toEqual([100 - stage.weight, stage.weight]);
  expect(fx.remoteGit('log', '--merges', '--oneline', 'main')).toBe('');
}

/** The driver's clone after a tick: exactly at the remote, nothing left over, clone released. */
function expectCloneAtRemote(fx: GitFixture, clone: string): void {
  expect(cloneIsClean(clone)).toEqual({ head: fx.remoteGit('rev-parse', 'main'), status: '' });
  expect(existsSync(join(clone, '.git', TICK_LOCK_FILE))).toBe(false);
  expect(existsSync(join(clone, '.git', 'index.lock'))).toBe(false);
}

/** A teammate releases a new image whenever the canary is at rest, so stages keep coming. */
function releaseIfAtRest(fx: GitFixture, n: number): boolean {
  if (!fx.remoteGit('ls-tree', '--name-only', 'main', `state/${NAMESPACE}/podinfo.json`)) return false;
  const { phase } = remoteStage(fx);
  if (phase !== 'Initialized' && phase !== 'Succeeded') return false;
  fx.pushConcurrently({ 'apps/podinfo/deployment.yaml': deploymentYaml(`podinfo:2.${n}.0`) }, `release 2.${n}.0`);
  return true;
}

/** The stage subjects the remote must hold after `releases` releases and a final stage index. */
function expectedSubjects(commits: StageCommit[]): string[] {
  const expected = [...INITIAL];
  while (expected.length < commits.length) expected.push(...RELEASE);
  return expected.slice(0, commits.length);
}

if (!existsSync(join(ROOT, 'lib', 'src', 'cli.js'))) throw new Error('build first (npm run build): these tests run the built CLI');

describeWithPrometheus('crash safety and concurrency of canarykit step', () => {
  let prom: PrometheusServer;
  let synth: SynthServer;
  beforeAll(async () => {
    [prom, synth] = await Promise.all([startPrometheus(String(healthyPodinfo(new OpenMetricsWriter(), NAMESPACE))), startSynthServer()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([prom?.stop(), synth?.stop()]);
  });

  it(`kill -9 at randomized points of ${KILLS} real ticks: the next tick always converges and the remote stays consistent`, async () => {
    const fx = crashRepo(prom.url, synth.port);
    const pauseDir = mkdtempSync(join(tmpdir(), 'canarykit-pause-'));
    const seed = Number(process.env.CANARYKIT_CRASH_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    try {
      const clone = fx.clone('driver');
      let t = 0;
      // Two clean ticks: initialize, and measure how long a tick takes (the window for random kills).
      const durations: number[] = [];
      for (let i = 0; i < INITIAL.length; i++) {
        t += INTERVAL_SECONDS;
        const started = Date.now();
        expect((await runStep(clone, t)).code).toBe(0);
        durations.push(Date.now() - started);
      }
      // Ticks get faster once the first ones are done (canarykit's own head skips the first synth):
      // a tick that finished before its random kill narrows the window to how long it took.
      let window = Math.max(...durations);
      let killed = 0;
      const points: Record<string, number> = {};
      for (let trial = 0; killed < KILLS && trial < 4 * KILLS; trial++) {
        releaseIfAtRest(fx, trial);
        t += INTERVAL_SECONDS;
        const pause = trial < (FULL ? 2 : 1) * PAUSE_POINTS.length ? PAUSE_POINTS[trial % PAUSE_POINTS.length] : undefined;
        const pauseFile = join(pauseDir, `trial-${trial}`);
        const runStarted = Date.now();
        const run = startStep(clone, t, pause ? { CANARYKIT_TEST_PAUSE_AT: pause, CANARYKIT_TEST_PAUSE_FILE: pauseFile } : {});
        let exitedAt = 0;
        void run.done.then(() => (exitedAt = Date.now()));
        let point: string;
        if (pause) {
          const reached = await waitForFile(pauseFile, run);
          point = reached ? pause : 'not reached';
        } else {
          const delay = Math.floor(rand() * window);
          await new Promise((r) => setTimeout(r, delay));
          point = `random ${delay} ms`;
        }
        // Only the driver process, as the OOM killer does: its git or synth child lives on.
        run.child.kill('SIGKILL');
        const result = await run.done;
        if (result.signal === 'SIGKILL') {
          killed++;
          points[point.startsWith('random') ? 'random' : point] = (points[point.startsWith('random') ? 'random' : point] ?? 0) + 1;
        } else {
          expect(result.code, `trial ${trial} (${point}, seed ${seed}) exited by itself: ${result.err}`).toBe(0);
          if (!pause) window = Math.max(20, Math.min(window, (exitedAt || Date.now()) - runStarted));
        }
        // The next tick, at the same simulated time: it converges (redoing an unpushed stage).
        const next = await runStep(clone, t);
        expect(next.code, `tick after trial ${trial} (${point}, seed ${seed}): ${next.err}`).toBe(0);
        expectCloneAtRemote(fx, clone);
        expectConsistentRemote(fx);
      }
      expect(killed).toBeGreaterThanOrEqual(KILLS);
      for (const p of PAUSE_POINTS) expect(points[p], `killed at ${p}`).toBeGreaterThan(0);
      // No stage lost, none repeated: exactly the stages of the releases, in order.
      const commits = stageCommits(fx);
      expect(commits.map(normalize)).toEqual(expectedSubjects(commits));
      expect(commits.length).toBeGreaterThan(INITIAL.length + (FULL ? RELEASE.length : 1));
    } finally {
      rmSync(pauseDir, { recursive: true, force: true });
      fx.cleanup();
    }
  }, 600_000);

  it(`four drivers racing for ${ROUNDS} rounds against one remote: exit 0 everywhere, one stage per round, linear history`, async () => {
    const fx = crashRepo(prom.url, synth.port);
    try {
      const clones = [1, 2, 3, 4].map((i) => fx.clone(`racer-${i}`));
      let t = 0;
      let rejections = 0;
      for (let round = 0; round < ROUNDS; round++) {
        releaseIfAtRest(fx, round);
        t += INTERVAL_SECONDS;
        const results = await Promise.all(clones.map((c) => runStep(c, t)));
        results.forEach((r, i) => expect(r.code, `round ${round} racer ${i + 1}: ${r.err}`).toBe(0));
        expectConsistentRemote(fx);
        rejections += results.filter((r) => /push rejected \(the remote moved\)/.test(r.err)).length;
      }
      const commits = stageCommits(fx);
      expect(commits.map(normalize)).toEqual(expectedSubjects(commits));
      // Every round was due exactly once: one stage per round, whoever won each race.
      expect(commits).toHaveLength(ROUNDS);
      // The races were real: losers were rejected and re-derived (not merely late).
      expect(rejections).toBeGreaterThan(0);
      for (const c of clones) {
        git(c, ['fetch', '-q', 'origin']);
        expect(cloneIsClean(c).status).toBe('');
      }
    } finally {
      fx.cleanup();
    }
  }, 600_000);

  it('canarykit.yaml at the remote tip governs the very tick that fetched it', async () => {
    const fx = crashRepo(prom.url, synth.port);
    try {
      const clone = fx.clone('driver');
      expect((await runStep(clone, 15)).code).toBe(0);
      // A teammate changes the synth command: the very next tick runs the new one.
      const marker = `${configYaml(prom.url, synth.port).replace(/^synth: (.*)$/m, 'synth: $1 && echo from-new-config > dist/marker.txt')}`;
      fx.pushConcurrently({ 'canarykit.yaml': marker }, 'synth writes a marker');
      const r = await runStep(clone, 30);
      expect(r.code, r.err).toBe(0);
      expect(fx.remoteGit('show', 'main:dist/marker.txt')).toBe('from-new-config');
      expect(remoteStage(fx).phase).toBe('Initialized');
    } finally {
      fx.cleanup();
    }
  }, 120_000);

  it('an invalid canarykit.yaml pushed to the remote: exit 2 naming the field, before anything is written', async () => {
    const fx = crashRepo(prom.url, synth.port);
    try {
      const clone = fx.clone('driver');
      expect((await runStep(clone, 15)).code).toBe(0);
      const before = git(clone, ['rev-parse', 'HEAD']);
      const broken = fx.pushConcurrently({ 'canarykit.yaml': configYaml(prom.url, synth.port, '  maxAttempts: 0\n') }, 'broken config');
      for (const t of [30, 45]) {
        const r = await runStep(clone, t);
        expect(r.code).toBe(2);
        expect(r.err).toMatch(/canarykit\.yaml#\/git\/maxAttempts: must be >= 1/);
        expect(fx.remoteGit('rev-parse', 'main')).toBe(broken);
        // Back where it was before the sync: the next tick still bootstraps from a valid file.
        expect(cloneIsClean(clone)).toEqual({ head: before, status: '' });
      }
      fx.pushConcurrently({ 'canarykit.yaml': configYaml(prom.url, synth.port) }, 'fix config');
      const fixed = await runStep(clone, 60);
      expect(fixed.code, fixed.err).toBe(0);
      expect(remoteStage(fx).phase).toBe('Initialized');
    } finally {
      fx.cleanup();
    }
  }, 120_000);
});

