import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepReport, step } from '../src/driver/driver';
import { MAX_SHARDS, parseShard, shardOf } from '../src/driver/shard';
import { runCli } from './support/cli';
import { TEST_CONFIG, appJson, healthyPodinfo, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture, git } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * `canarykit step --all --shard I/N` (issue 14): N drivers share one fleet, each ticking the
 * canaries whose namespace/name hashes to its index and pushing its own commits, re-deriving on
 * push races. Flagger has no counterpart (one controller per cluster, pkg/controller/scheduler.go
 * ticks every canary); the per-canary tick each shard runs is that scheduler's advanceCanary.
 */

describe('--shard I/N: parsing and the partition', () => {
  it('parses I/N and rejects anything else with the flag, the value and the fix (exit 2)', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    for (const [value, why] of [
      ['4/4', /I must be below N/],
      ['1/0', /N must be between 1/],
      [`0/${MAX_SHARDS + 1}`, /N must be between 1/],
      ['-1/4', /is not I\/N/],
      ['1', /is not I\/N/],
      ['a/b', /is not I\/N/],
    ] as const) {
      expect(() => parseShard(value)).toThrow(why);
      expect(() => parseShard(value)).toThrow(/--shard .*give --shard I\/N with 0 <= I < N/);
    }
  });

  it('puts every canary in exactly one shard, stably, and spreads a fleet over all of them', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `team-${i % 17}/app-${i}`);
    for (const n of [1, 2, 4, 7]) {
      const counts = new Array(n).fill(0);
      for (const c of names) {
        const s = shardOf(c, n);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(n);
        counts[s]++;
      }
      expect(counts.reduce((a, b) => a + b)).toBe(1000);
      for (const c of counts) expect(c).toBeGreaterThan(1000 / n / 2);
    }
    // Only the name decides: the first 32 bits of sha256 (`printf test/podinfo | sha256sum` starts fdb02088).
    expect([shardOf('test/podinfo', 4), shardOf('test/podinfo', 7)]).toEqual([0xfdb02088 % 4, 0xfdb02088 % 7]);
    expect(shardOf('web/frontend', 7)).toBe(0xe78f4200 % 7);
  });

  it('the CLI refuses a bad --shard before touching the clone, and --shard with --canary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canarykit-shard-cli-'));
    try {
      const bad = await runCli(['step', '--repo', dir, '--all', '--shard', '2/2'], new Date());
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--shard "2\/2": I must be below N \(I is 0-based\); give --shard I\/N/);
      const both = await runCli(['step', '--repo', dir, '--canary', 'test/podinfo', '--shard', '0/2'], new Date());
      expect(both.code).toBe(2);
      expect(both.err).toMatch(/drop --canary test\/podinfo or --shard/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const NAMESPACES = Array.from({ length: 16 }, (_, i) => `shard-ns-${i}`);

describeWithPrometheus('4 shards ticking concurrently against one bare remote', () => {
  let prom: PrometheusServer;
  let fx: GitFixture;
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    for (const ns of NAMESPACES) healthyPodinfo(w, ns);
    prom = await startPrometheus(String(w));
    fx = createGitFixture({ 'app.json': appJson({ canaries: NAMESPACES.map((namespace) => ({ namespace, image: 'podinfo:6.0.0' })) }) });
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    fx?.cleanup();
  });

  it('lose and duplicate nothing, and together tick every canary exactly once per round', async () => {
    const clones = [0, 1, 2, 3].map((i) => fx.clone(`shard-${i}`));
    const clock = { now: at(60) };
    // Four drivers racing one remote: a driver can lose up to three races in a round.
    const config = { ...TEST_CONFIG, git: { ...TEST_CONFIG.git, maxAttempts: 8 } };
    const round = (): Promise<StepReport[]> =>
      Promise.all(clones.map((dir, index) => step({ repoDir: dir, config, select: { all: true, shard: { index, count: 4 } } }, realDeps(dir, prom.url, clock))));

    for (const expected of ['initialize: create the primary', 'initialized: primary ready']) {
      const reports = await round();
      // Each shard ticked its own canaries only; together all of them, once.
      const ticked = reports.flatMap((r, i) => r.outcomes.map((o) => {
        expect(shardOf(o.canary, 4)).toBe(i);
        return o.canary;
      }));
      expect(ticked.sort()).toEqual(NAMESPACES.map((ns) => `${ns}/podinfo`).sort());
      expect(reports.every((r) => r.outcomes.every((o) => o.commit))).toBe(true);
      // Every shard got its commits onto the remote (at least one lost a race and re-derived).
      expect(reports.every((r) => r.pushed)).toBe(true);
      expect(reports.some((r) => r.attempts > 1)).toBe(true);
      for (const ns of NAMESPACES) {
        const subjects = fx.remoteGit('log', '--format=%s', 'main', '--', `state/${ns}/podinfo.json`).split('\n').filter(Boolean);
        expect(subjects.filter((s) => s === `canary(${ns}/podinfo): ${expected}`), ns).toHaveLength(1);
      }
      clock.now = new Date(clock.now.getTime() + 60_000);
    }

    // Per canary on the remote: exactly its two stage commits, each holding only that canary's files.
    const log = fx.remoteGit('log', '--format=%H %s', 'main').split('\n');
    for (const ns of NAMESPACES) {
      const mine = log.filter((l) => l.includes(` canary(${ns}/podinfo): `));
      expect(mine, ns).toHaveLength(2);
      for (const line of mine) {
        const files = fx.remoteGit('show', '--name-only', '--format=', line.split(' ')[0]).split('\n').filter(Boolean);
        expect(files).toContain(`state/${ns}/podinfo.json`);
        for (const f of files) expect(f.startsWith(`state/${ns}/`) || f.startsWith(`dist/${ns}/podinfo/`), f).toBe(true);
      }
    }
    // The output the first synth created went into sync commits, which hold no state file.
    for (const line of log.filter((l) => l.includes(' canarykit: sync dist/'))) {
      expect(fx.remoteGit('show', '--name-only', '--format=', line.split(' ')[0])).not.toContain('state/');
    }
    expect(fx.remoteGit('ls-tree', '-r', '--name-only', 'main', 'dist').split('\n').filter((f) => f.endsWith('deployment-podinfo-primary.yaml'))).toHaveLength(16);
    // Every clone ends clean, and the remote's state files say Initialized for all.
    for (const dir of clones) expect(git(dir, ['status', '--porcelain'])).toBe('');
    for (const ns of NAMESPACES) expect(JSON.parse(fx.remoteGit('show', `main:state/${ns}/podinfo.json`)).phase).toBe('Initialized');
  }, 120_000);
});
