/*
 * Fleet benchmark (issue 14): a YAML-only repository (`synth: canarykit compile -f apps/`) with one
 * active canary plus 0 / 200 / 1000 idle ones, a real Prometheus (Debian's, on 127.0.0.1, backfilled
 * with promtool), a bare remote on disk and `canarykit step` run as a process, as cron runs it.
 * Prints every figure of the issue's table with its ratio to the one-canary repository, next to the
 * figure the issue measured before this work, then compile against a plain cdk8s app emitting the
 * same objects, and compile's peak RSS at 5,000 canaries. Exits 1 when a target is missed.
 *
 *   npm run build && npx tsx scripts/bench-fleet.ts
 *   env: BENCH_FLEET_SIZES=1,201,1001  BENCH_RUNS=5  BENCH_RSS_CANARIES=5000 (0 skips)
 *        BENCH_CLI=<path of another checkout's bin/canarykit.js> (measure that build instead, e.g. main's)
 *
 * The figures are medians of BENCH_RUNS runs, interleaved across sizes; the load average is printed
 * with them because the machine may be shared.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { healthyPodinfo } from '../test/support/driver-fixture';
import { OpenMetricsWriter, PrometheusServer, at, prometheusAvailable, startPrometheus } from '../test/support/prometheus-server';

const ROOT = path.resolve(__dirname, '..');
const CLI = process.env.BENCH_CLI ?? path.join(ROOT, 'bin', 'canarykit.js');
const SIZES = (process.env.BENCH_FLEET_SIZES ?? '1,201,1001').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RSS_CANARIES = Number(process.env.BENCH_RSS_CANARIES ?? 5000);
/** BENCH_KEEP=1 keeps the fleets' folders (printed) for profiling a tick by hand. */
const KEEP = process.env.BENCH_KEEP === '1';
// `canarykit` on PATH is the CLI measured, so the synth is what `canarykit init` writes for a
// YAML-only repository (`canarykit compile -f apps/`), whichever build runs it.
const SHIM = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-fleet-bin-'));
fs.writeFileSync(path.join(SHIM, 'canarykit'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
const env = { ...process.env, PATH: `${SHIM}${path.delimiter}${process.env.PATH}`, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
const sh = (cwd: string, cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}): string =>
  execFileSync(cmd, args, { cwd, env: { ...env, ...extra }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
const person = ['-c', 'user.name=person', '-c', 'user.email=person@example.test'];

/** The issue's figures before this work (2-core machine, medians of 5-6 runs), in ms. */
const BEFORE = {
  advance: { 1: 990, 201: 2390, 1001: 5000 },
  human: { 1: 1240, 201: 3540, 1001: 11000 },
  all: { 201: 9800, 1001: 95000 },
  idle: { 1: 420, 201: 470, 1001: 600 },
  compile: { 1: 340, 1001: 5600, 5000: 21000 },
} as Record<string, Record<number, number>>;

const ACTIVE = 'active';
const ns = (i: number): string => (i === 0 ? ACTIVE : `idle-${String(i).padStart(4, '0')}`);

function deployment(namespace: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: ${namespace}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ${image}
          ports:
            - name: http
              containerPort: 9898
`;
}

function canary(namespace: string): string {
  return `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: ${namespace}
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
    hosts: [${namespace}.example.com]
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
      - name: request-duration
        thresholdRange:
          max: 500
        interval: 1m
`;
}

/** Writes apps/<namespace>/{deployment,canary}.yaml for `count` canaries. */
function writeApps(dir: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const d = path.join(dir, 'apps', ns(i));
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'deployment.yaml'), deployment(ns(i), 'podinfo:1.0.0'));
    fs.writeFileSync(path.join(d, 'canary.yaml'), canary(ns(i)));
  }
}

interface Fleet {
  size: number;
  remote: string;
  clone: string;
  /** Remote sha with the active canary at Progressing weight 0 and due at at(190). */
  ready: string;
  /** `ready` plus a person's commit (README). */
  human: string;
  allDueMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One `canarykit step` process; returns its wall time and stdout. */
function step(fleet: Fleet, args: string[], seconds: number): { ms: number; out: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'step', '--repo', fleet.clone, ...args], {
    env: { ...env, CANARYKIT_NOW: at(seconds).toISOString() },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`step ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return { ms, out: r.stdout };
}

/** Remote and the driver's clone at `sha`, as a persistent clone would be before the tick. */
function resetRemote(fleet: Fleet, sha: string): void {
  sh(fleet.remote, 'git', ['update-ref', 'refs/heads/main', sha]);
  sh(fleet.clone, 'git', ['fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
  sh(fleet.clone, 'git', ['checkout', '-q', '--force', '-B', 'main', sha]);
}

function setUp(size: number, promUrl: string): Fleet {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `canarykit-fleet-${size}-`));
  const remote = path.join(root, 'remote.git');
  sh(root, 'git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
  const seed = path.join(root, 'seed');
  sh(root, 'git', ['clone', '-q', remote, seed]);
  writeApps(seed, size);
  fs.writeFileSync(
    path.join(seed, 'canarykit.yaml'),
    `synth: canarykit compile -f apps/\nprometheus:\n  address: ${promUrl}\ngit:\n  maxAttempts: 3\n`,
  );
  fs.writeFileSync(path.join(seed, 'README.md'), 'fleet\n');
  sh(seed, 'git', ['add', '-A']);
  sh(seed, 'git', [...person, 'commit', '-qm', 'seed']);
  sh(seed, 'git', ['push', '-q', 'origin', 'HEAD:main']);
  const clone = path.join(root, 'driver');
  sh(root, 'git', ['clone', '-q', remote, clone]);
  const fleet: Fleet = { size, remote, clone, ready: '', human: '', allDueMs: 0 };
  step(fleet, ['--all'], 60); // every canary: initialize
  fleet.allDueMs = step(fleet, ['--all'], 120).ms; // every canary due: initialized (readiness of both workloads)
  // A release of the active canary, by a person; the next tick starts its analysis.
  sh(seed, 'git', ['pull', '-q', '--ff-only', 'origin', 'main']);
  fs.writeFileSync(path.join(seed, 'apps', ACTIVE, 'deployment.yaml'), deployment(ACTIVE, 'podinfo:1.1.0'));
  sh(seed, 'git', [...person, 'commit', '-qam', 'release active']);
  sh(seed, 'git', ['push', '-q', 'origin', 'HEAD:main']);
  const started = step(fleet, ['--canary', `${ACTIVE}/podinfo`], 130).out;
  if (!started.includes('start analysis')) throw new Error(`expected the analysis to start:\n${started}`);
  fleet.ready = sh(remote, 'git', ['rev-parse', 'main']);
  sh(seed, 'git', ['pull', '-q', '--ff-only', 'origin', 'main']);
  fs.writeFileSync(path.join(seed, 'README.md'), 'fleet, edited by a person\n');
  sh(seed, 'git', [...person, 'commit', '-qam', 'docs']);
  sh(seed, 'git', ['push', '-q', 'origin', 'HEAD:main']);
  fleet.human = sh(remote, 'git', ['rev-parse', 'main']);
  // As cron would have, an idle tick before the measured ones (nothing is due before at(190)): it
  // indexes the canaries at rest, once their files are older than the resting index's 2 s
  // racy-clean window, so the idle figures are those of a driver that has been running.
  execFileSync('sleep', ['2']);
  step(fleet, ['--all'], 189);
  return fleet;
}

function advanceOnce(fleet: Fleet, from: string): number {
  resetRemote(fleet, from);
  const r = step(fleet, ['--canary', `${ACTIVE}/podinfo`], 190);
  if (!r.out.includes('advance weight 0 -> 10')) throw new Error(`expected an advance:\n${r.out}`);
  return r.ms;
}

/**
 * Compile as a process into a folder that does not exist yet; wall ms and peak RSS in KiB (GNU time).
 * Nothing is deleted before or between the timed runs (see `settle`).
 */
function compileProcess(dir: string, out: string): { ms: number; rssKiB: number } {
  if (fs.existsSync(path.join(dir, out))) throw new Error(`${out} exists: each compile run writes a new folder`);
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'compile', '-f', 'apps/', '-o', out], { cwd: dir, env, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`compile exited ${r.status}: ${r.stderr}`);
  return { ms, rssKiB: Number(r.stderr.trim().split('\n').at(-1)) };
}

/**
 * Waits, before timed file writing, until creating files costs what it costs on a quiet disk. On
 * this VM (ext4 mounted with `discard`) deleting many files makes creating files 10-20x slower for
 * minutes after (measured: 11,000 creates 0.13 s on a quiet disk, 1-3 s after deleting as many),
 * which would charge the set-up's clean-up, or one run's, to the next run. So the compile runs and
 * the plain app's each write a new folder, all removed after the last run, and the runs start once
 * a probe of 1,100 file creations (kept until the end: deleting them would disturb the runs) takes
 * under 40 us a file, or after BENCH_SETTLE_S seconds (default 240) with a warning.
 */
function settle(probeDir: string): void {
  const limitS = Number(process.env.BENCH_SETTLE_S ?? 240);
  const start = performance.now();
  execFileSync('sync');
  for (let round = 0; ; round++) {
    const dir = path.join(probeDir, `probe-${round}`);
    const t = performance.now();
    for (let i = 0; i < 100; i++) {
      fs.mkdirSync(path.join(dir, String(i)), { recursive: true });
      for (let j = 0; j < 11; j++) fs.writeFileSync(path.join(dir, String(i), `f${j}.yaml`), 'x: y\n'.repeat(60));
    }
    const perFileUs = ((performance.now() - t) * 1000) / 1100;
    const waited = (performance.now() - start) / 1000;
    if (perFileUs < 40 || waited > limitS) {
      console.log(`  disk ${perFileUs < 40 ? 'settled' : 'NOT settled'} after ${waited.toFixed(0)} s: ${perFileUs.toFixed(0)} us per file created`);
      return;
    }
    execFileSync('sleep', ['10']);
  }
}

/**
 * The baseline of the compile target: a plain cdk8s app (one Chart per folder, one ApiObject per
 * manifest) emitting the objects compile wrote, run as a process with `app.synth()`.
 */
function plainCdk8sApp(dir: string, compiled: string, out: string): number {
  const charts: { id: string; objects: unknown[] }[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(compiled, rel);
    const objects: unknown[] = [];
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(rel, e.name));
      else if (e.name.endsWith('.yaml') && e.name !== 'kustomization.yaml') {
        for (const d of parseAllDocuments(fs.readFileSync(path.join(abs, e.name), 'utf8'))) objects.push(d.toJS());
      }
    }
    if (objects.length > 0) charts.push({ id: rel.split(path.sep).join('-'), objects });
  };
  walk('');
  fs.writeFileSync(path.join(dir, 'plain-objects.json'), JSON.stringify(charts));
  const script = path.join(dir, 'plain-app.js');
  fs.writeFileSync(
    script,
    `const { App, Chart, ApiObject } = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'cdk8s'))});
const charts = JSON.parse(require('fs').readFileSync(${JSON.stringify(path.join(dir, 'plain-objects.json'))}, 'utf8'));
const app = new App({ outdir: process.argv[2] });
for (const c of charts) {
  const chart = new Chart(app, c.id);
  c.objects.forEach((o, i) => new ApiObject(chart, 'o' + i, o));
}
app.synth();
`,
  );
  if (fs.existsSync(path.join(dir, out))) throw new Error(`${out} exists: each run writes a new folder`);
  const t = performance.now();
  execFileSync(process.execPath, [script, path.join(dir, out)], { env });
  return performance.now() - t;
}

const loads: string[] = [];
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const rows: { work: string; size: number; ms: number; ratio?: number; before?: number }[] = [];
const misses: string[] = [];

function report(work: string, size: number, ms: number, base?: number, runs?: number[]): void {
  const before = BEFORE[work]?.[size];
  const ratio = base ? ms / base : undefined;
  rows.push({ work, size, ms, ratio, before });
  const b = before ? `before ${(before / 1000).toFixed(2)} s${base && BEFORE[work]?.[1] ? ` (${(before / BEFORE[work][1]).toFixed(1)}x)` : ''}` : '';
  console.log(
    `${work.padEnd(8)} ${String(size).padStart(5)} canaries  ${(ms / 1000).toFixed(2).padStart(6)} s${ratio ? ` (${ratio.toFixed(2)}x)` : ''}${runs && runs.length > 1 ? ` [runs ${runs.map((r) => (r / 1000).toFixed(2)).join(' ')}]` : ''}   ${b}${before ? `   now/before ${(ms / before).toFixed(2)}` : ''}   load ${load()}`,
  );
}

function target(ok: boolean, what: string): void {
  console.log(`${ok ? 'met   ' : 'MISSED'} ${what}`);
  if (!ok) misses.push(what);
}

async function main(): Promise<void> {
  if (!prometheusAvailable()) {
    console.error('bench-fleet needs prometheus and promtool: apt-get install -y prometheus');
    process.exit(1);
  }
  if (!fs.existsSync(CLI.replace(/bin\/canarykit\.js$/, 'lib/src/cli.js'))) throw new Error(`${CLI} needs its lib/: run npm run build`);
  const largest = Math.max(...SIZES);
  const w = new OpenMetricsWriter();
  for (let i = 0; i < largest; i++) healthyPodinfo(w, ns(i));
  console.log(`fleet bench: sizes ${SIZES.join(', ')}, ${RUNS} runs each, cli ${CLI}; backfilling Prometheus (load ${load()})`);
  const prom: PrometheusServer = await startPrometheus(String(w));
  try {
    const fleets = SIZES.map((size) => {
      const t = performance.now();
      const f = setUp(size, prom.url);
      console.log(`  set up ${size} canaries in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      return f;
    });
    const advance = new Map<number, number[]>();
    const human = new Map<number, number[]>();
    const idle = new Map<number, number[]>();
    // Interleaved, so a burst of load elsewhere hits every size alike.
    for (let run = 0; run < RUNS; run++) {
      for (const f of fleets) {
        (advance.get(f.size) ?? advance.set(f.size, []).get(f.size)!).push(advanceOnce(f, f.ready));
        (idle.get(f.size) ?? idle.set(f.size, []).get(f.size)!).push(step(f, ['--all'], 195).ms);
        (human.get(f.size) ?? human.set(f.size, []).get(f.size)!).push(advanceOnce(f, f.human));
      }
      loads.push(load());
    }
    console.log('\nwork: advance = step --canary that advances one weight; human = the same right after a human commit;');
    console.log('      idle = step --all with nothing due; all = step --all with every canary due (one run, at set-up)\n');
    const base = (m: Map<number, number[]>): number | undefined => (m.has(1) ? median(m.get(1)!) : undefined);
    for (const [name, m] of [['advance', advance], ['human', human], ['idle', idle]] as const) {
      for (const f of fleets) report(name, f.size, median(m.get(f.size)!), f.size === 1 ? undefined : base(m), m.get(f.size));
    }
    for (const f of fleets) if (f.size > 1) report('all', f.size, f.allDueMs);
    const one = base(advance);
    const oneHuman = base(human);
    for (const f of fleets.filter((x) => x.size >= 1000)) {
      if (one) target(median(advance.get(f.size)!) <= 1.5 * one, `advance at ${f.size} <= 1.5x the one-canary repository`);
      if (oneHuman) target(median(human.get(f.size)!) <= 1.5 * oneHuman, `after a human commit at ${f.size} <= 1.5x the one-canary repository`);
      target(f.allDueMs <= 15_000, `step --all with ${f.size} due <= 15 s`);
    }
    for (const f of fleets) target(median(idle.get(f.size)!) <= 250, `idle step --all at ${f.size} <= 0.25 s`);

    // compile of the largest fleet against a plain cdk8s app emitting the same objects.
    // In a folder of its own: the clone's canarykit.yaml would pin -o to its outdir.
    const big = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-fleet-compile-'));
    writeApps(big, largest);
    // Interleaved like the ticks; the plain app's objects are those the first compile wrote.
    settle(big);
    const compileRuns: number[] = [];
    const plainRuns: number[] = [];
    for (let run = 0; run < Math.min(RUNS, 3); run++) {
      compileRuns.push(compileProcess(big, `dist-${run}`).ms);
      plainRuns.push(plainCdk8sApp(big, path.join(big, 'dist-0'), `plain-${run}`));
    }
    report('compile', largest, median(compileRuns));
    console.log(`plain cdk8s app emitting the same objects: ${(median(plainRuns) / 1000).toFixed(2)} s`);
    target(median(compileRuns) <= median(plainRuns), `compile of ${largest} canaries <= the plain cdk8s app`);
    fs.rmSync(big, { recursive: true, force: true });
    if (RSS_CANARIES > 0) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-fleet-rss-'));
      writeApps(dir, RSS_CANARIES);
      const r = compileProcess(dir, 'dist');
      report('compile', RSS_CANARIES, r.ms);
      console.log(`compile of ${RSS_CANARIES} canaries: peak RSS ${(r.rssKiB / 1024).toFixed(0)} MiB`);
      target(r.rssKiB / 1024 < 400, `compile peak RSS at ${RSS_CANARIES} canaries < 400 MB`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`\nload average during the runs: ${loads.join(' | ')}`);
    if (KEEP) for (const f of fleets) console.log(`kept ${f.size} canaries: clone ${f.clone}, remote ${f.remote}, ready ${f.ready}, human ${f.human}`);
    else for (const f of fleets) fs.rmSync(path.dirname(f.clone), { recursive: true, force: true });
  } finally {
    await prom.stop();
  }
  console.log(misses.length ? `MISSED: ${misses.join('; ')}` : 'all fleet targets met');
  process.exitCode = misses.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
