/*
 * Step driver benchmark (issue: one tick <= 1.5 s wall with the driver's own work <= 300 ms;
 * `step --all` over 200 canaries < 30 s). Real Prometheus with backfilled data, real git with a bare
 * remote on disk, the real synth command as a child process. Prints figures; exits 1 on a miss.
 *
 *   npx tsx scripts/bench-step.ts
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDeps } from '../src/cli';
import { CanarykitConfig, DEFAULT_CONFIG } from '../src/adapters/config';
import { DriverDeps, step } from '../src/driver/driver';
import { appJson, istioTraffic, readyDeployment } from '../test/support/driver-fixture';
import { OpenMetricsWriter, at, prometheusAvailable, startPrometheus } from '../test/support/prometheus-server';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
const sh = (cwd: string, cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd, env, encoding: 'utf8' }).trim();

/** A bare remote seeded with `files`, plus a clone for the driver. */
function repo(name: string, seed: (dir: string) => void): { clone: string; remote: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `canarykit-bench-${name}-`));
  const remote = path.join(root, 'remote.git');
  sh(root, 'git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
  const work = path.join(root, 'seed');
  sh(root, 'git', ['clone', '-q', remote, work]);
  seed(work);
  sh(work, 'git', ['add', '-A']);
  sh(work, 'git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.test', 'commit', '-qm', 'seed']);
  sh(work, 'git', ['push', '-q', 'origin', 'HEAD:main']);
  const clone = path.join(root, 'driver');
  sh(root, 'git', ['clone', '-q', remote, clone]);
  return { clone, remote };
}

function config(synth: string, prometheus: string): CanarykitConfig {
  return { ...DEFAULT_CONFIG, synth, prometheus: { address: prometheus, timeoutSeconds: 5 } };
}

/** Wraps synth to measure how much of a tick is the project's synth command. */
function timedSynth(deps: DriverDeps): { deps: DriverDeps; synthMs: () => number } {
  let total = 0;
  const wrapped: DriverDeps = {
    ...deps,
    synth: async () => {
      const t = performance.now();
      await deps.synth();
      total += performance.now() - t;
    },
  };
  return { deps: wrapped, synthMs: () => total };
}

const results: { name: string; value: number; unit: string; limit: number }[] = [];
function record(name: string, value: number, limit: number, unit = 'ms'): void {
  results.push({ name, value, unit, limit });
  console.log(`${name.padEnd(58)} ${value.toFixed(0).padStart(7)} ${unit}   (target <= ${limit} ${unit})`);
}

async function exampleTick(promUrl: string, loadtester: string): Promise<void> {
  // The example repository: this project's own app and state, podinfo at weight 20.
  const { clone } = repo('example', (dir) => {
    for (const f of ['package.json', 'tsconfig.json', 'cdk8s.yaml', 'src', 'imports', 'state', 'dist']) {
      fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
    }
    // Move the committed stage into the backfilled data window.
    const stateFile = path.join(dir, 'state/test/podinfo.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    state.lastTransitionTime = at(300).toISOString();
    fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    // The example's load-test webhook goes to a local stand-in for flagger-loadtester (202, as it answers).
    const main = path.join(dir, 'src/main.ts');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('http://flagger-loadtester.test/', loadtester));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n');
  });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
  const cfg = config(`${TSX} src/main.ts`, promUrl);
  const io = { out: () => undefined, err: () => undefined };
  process.env.CANARYKIT_NOW = at(330).toISOString();
  // Warm-up tick: synthesizes, initializes frontend (no state yet).
  await step({ repoDir: clone, config: cfg, select: { all: true } }, buildDeps(clone, cfg, io));

  process.env.CANARYKIT_NOW = at(400).toISOString();
  const { deps, synthMs } = timedSynth(buildDeps(clone, cfg, io));
  const t = performance.now();
  const report = await step({ repoDir: clone, config: cfg, select: { canary: 'test/podinfo' } }, deps);
  const wall = performance.now() - t;
  const outcome = report.outcomes[0];
  console.log(`example tick: ${outcome.canary} ${outcome.summary} (pushed: ${report.pushed})`);
  if (outcome.action !== 'advance') throw new Error(`expected an advance, got ${outcome.action}: ${outcome.summary}`);
  record('one tick, example repo (2 metrics, synth, commit, push)', wall, 1500);
  record('  of which the driver itself (excluding synth)', wall - synthMs(), 300);
  record('  of which synth', synthMs(), Infinity);

  // The same tick as a user runs it: a fresh `canarykit step` process.
  process.env.CANARYKIT_NOW = at(470).toISOString();
  const bin = path.join(ROOT, 'bin', 'canarykit.js');
  if (fs.existsSync(path.join(ROOT, 'lib/src/cli.js'))) {
    const cfgFile = `synth: ${TSX} src/main.ts\nprometheus:\n  address: ${promUrl}\n`;
    fs.writeFileSync(path.join(clone, 'canarykit.yaml'), cfgFile);
    sh(clone, 'git', ['add', 'canarykit.yaml']);
    sh(clone, 'git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.test', 'commit', '-qm', 'config']);
    sh(clone, 'git', ['push', '-q', 'origin', 'HEAD:main']);
    const t2 = performance.now();
    // Asynchronous on purpose: the stand-in load tester answers from this process's event loop.
    const r = await promisify(execFile)(process.execPath, [bin, 'step', '--repo', clone, '--canary', 'test/podinfo'], { env: { ...process.env }, encoding: 'utf8' });
    const wall2 = performance.now() - t2;
    console.log(`cli tick: ${r.stdout.trim().split('\n')[0]}`);
    record('  same tick as a `canarykit step` process (after a human commit: synth x2)', wall2, Infinity);
  }
}

async function manyCanaries(promUrl: string, count: number): Promise<void> {
  const namespaces = Array.from({ length: count }, (_, i) => `ns-${String(i).padStart(3, '0')}`);
  const spec = (image: string) => appJson({ canaries: namespaces.map((namespace) => ({ namespace, image })) });
  const { clone, remote } = repo('many', (dir) => fs.writeFileSync(path.join(dir, 'app.json'), spec('podinfo:1.0.0')));
  const cfg = config(`${TSX} ${path.join(ROOT, 'test/support/synth-repo-cli.ts')} ${promUrl}`, promUrl);
  const io = { out: () => undefined, err: () => undefined };
  const tick = async (t: number) => {
    process.env.CANARYKIT_NOW = at(t).toISOString();
    return step({ repoDir: clone, config: cfg, select: { all: true } }, buildDeps(clone, cfg, io));
  };
  await tick(60); // initialize (Initializing)
  await tick(120); // Initialized
  // A release of every canary, pushed by a person.
  const other = path.join(path.dirname(clone), 'person');
  sh(path.dirname(clone), 'git', ['clone', '-q', remote, other]);
  fs.writeFileSync(path.join(other, 'app.json'), spec('podinfo:1.1.0'));
  sh(other, 'git', ['-c', 'user.name=p', '-c', 'user.email=p@example.test', 'commit', '-qam', 'release']);
  sh(other, 'git', ['push', '-q', 'origin', 'HEAD:main']);
  const t0 = performance.now();
  const start = await tick(130);
  const tStart = performance.now() - t0;
  const t1 = performance.now();
  const advance = await tick(190);
  const tAdvance = performance.now() - t1;
  const advanced = advance.outcomes.filter((o) => o.action === 'advance').length;
  console.log(`${count} canaries: start tick ${start.outcomes.filter((o) => o.action === 'start').length} started; advance tick ${advanced} advanced`);
  if (advanced !== count) throw new Error(`expected ${count} advances, got ${advanced}`);
  record(`step --all, ${count} canaries, all start (synth x2, ${count} commits)`, tStart, 30_000);
  record(`step --all, ${count} canaries, all advance (readiness + 2 metrics each)`, tAdvance, 30_000);
}

async function mainBench(): Promise<void> {
  if (!prometheusAvailable()) {
    console.error('bench-step needs prometheus and promtool: apt-get install -y prometheus');
    process.exit(1);
  }
  const w = new OpenMetricsWriter();
  const namespaces = ['test', ...Array.from({ length: 200 }, (_, i) => `ns-${String(i).padStart(3, '0')}`)];
  for (const ns of namespaces) {
    istioTraffic(w, ns, 10, 0);
    readyDeployment(w, ns, 'podinfo', 2);
    readyDeployment(w, ns, 'podinfo-primary', 2);
  }
  readyDeployment(w, 'web', 'frontend-primary', 3);
  const prom = await startPrometheus(String(w));
  const tester = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202).end('accepted'));
  });
  await new Promise<void>((r) => tester.listen(0, '127.0.0.1', r));
  try {
    await exampleTick(prom.url, `http://127.0.0.1:${(tester.address() as AddressInfo).port}/`);
    await manyCanaries(prom.url, 200);
  } finally {
    tester.close();
    await prom.stop();
  }
  const missed = results.filter((r) => r.value > r.limit);
  console.log(missed.length ? `MISSED: ${missed.map((m) => m.name.trim()).join('; ')}` : 'all step targets met');
  process.exitCode = missed.length ? 1 : 0;
}

mainBench().catch((e) => {
  console.error(e);
  process.exit(1);
});
