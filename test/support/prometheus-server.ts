/**
 * A real Prometheus for integration tests: deterministic OpenMetrics data is backfilled with
 * `promtool tsdb create-blocks-from openmetrics`, then `prometheus` serves it on a free loopback
 * port. Queries pass `time=` inside the backfilled window, so results never depend on the clock.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/** Start of the backfilled data. */
export const BASE_TIME = new Date('2026-01-01T00:00:00Z');
/** Sample spacing, like a 15 s scrape interval. */
export const STEP_SECONDS = 15;
/** Length of the backfilled window. */
export const WINDOW_SECONDS = 15 * 60;

/** A moment `seconds` after {@link BASE_TIME}. */
export function at(seconds: number): Date {
  return new Date(BASE_TIME.getTime() + seconds * 1000);
}

/** Default query time: well inside the window, on a sample, with 10 minutes of history behind it. */
export const QUERY_TIME = at(600);

export const SKIP_MESSAGE = 'skipping Prometheus integration tests: install Prometheus (apt-get install -y prometheus)';

type Labels = Record<string, string>;

/**
 * Builds OpenMetrics text with explicit timestamps every {@link STEP_SECONDS} over the window.
 * Counters grow linearly, so `rate(x[1m])` is exactly their per-second rate.
 */
export class OpenMetricsWriter {
  private readonly families = new Map<string, string[]>();

  /** @param windowSeconds length of the data, from {@link BASE_TIME} (default {@link WINDOW_SECONDS}). */
  constructor(private readonly windowSeconds = WINDOW_SECONDS) {}

  /**
   * Any series: `valueAt(t)` gives the value `t` seconds after {@link BASE_TIME}; undefined leaves
   * a gap (no sample: nothing was scraped then).
   */
  series(name: string, labels: Labels, valueAt: (t: number) => number | undefined): this {
    const lines = this.families.get(name) ?? [];
    const labelText = formatLabels(labels);
    for (let t = 0; t <= this.windowSeconds; t += STEP_SECONDS) {
      const value = valueAt(t);
      if (value === undefined) continue;
      lines.push(`${name}${labelText} ${formatValue(value)} ${(BASE_TIME.getTime() / 1000 + t).toFixed(3)}`);
    }
    this.families.set(name, lines);
    return this;
  }

  /** A counter increasing by `perSecond`; starts high so rate() extrapolation never clamps at zero. */
  counter(name: string, labels: Labels, perSecond: number, start = 1000): this {
    return this.series(name, labels, (t) => start + perSecond * t);
  }

  /** A constant gauge. */
  gauge(name: string, labels: Labels, value: number): this {
    return this.series(name, labels, () => value);
  }

  /**
   * A classic histogram `<name>_bucket/_count/_sum`. `bucketRates` maps each upper bound to the
   * per-second rate of observations at or below it (cumulative, as Prometheus buckets are); the
   * `+Inf` bucket and `_count` take the largest rate.
   */
  histogram(name: string, labels: Labels, bucketRates: Record<string, number>, sumPerSecond: number): this {
    const total = Math.max(...Object.values(bucketRates));
    for (const [le, rate] of Object.entries(bucketRates)) this.counter(`${name}_bucket`, { ...labels, le }, rate);
    if (!('+Inf' in bucketRates)) this.counter(`${name}_bucket`, { ...labels, le: '+Inf' }, total);
    this.counter(`${name}_count`, labels, total);
    return this.counter(`${name}_sum`, labels, sumPerSecond);
  }

  /** The OpenMetrics exposition, one family after another, ending with `# EOF`. */
  toString(): string {
    return [...[...this.families.values()].flat(), '# EOF', ''].join('\n');
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** True when `command` is an executable on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Both `prometheus` and `promtool` are installed. */
export function prometheusAvailable(): boolean {
  return onPath('prometheus') && onPath('promtool');
}


/** A running Prometheus serving backfilled data. */
export interface PrometheusServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Stops the process and deletes its data. */
  stop(): Promise<void>;
  /** Stops the process (an outage: connections are refused), keeping its data for {@link resume}. */
  pause(): Promise<void>;
  /** Starts the process again on the same port and data; waits until ready. */
  resume(): Promise<void>;
}

const run = promisify(execFile);

/** Backfills `openMetrics` into a fresh TSDB and starts Prometheus on it; waits until ready (≤ 20 s). */
export async function startPrometheus(openMetrics: string): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'canarykit-prom-'));
  const dataDir = join(dir, 'data');
  const input = join(dir, 'input.om');
  const config = join(dir, 'prometheus.yml');
  await writeFile(input, openMetrics);
  // No scrape targets: the backfilled blocks are the only data.
  await writeFile(config, 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], { timeout: 30_000 });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const launch = (): ChildProcess => {
    const proc = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dataDir}`,
        // The data is dated in the past; the default 15 d retention would delete it.
        '--storage.tsdb.retention.time=100y',
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    return proc;
  };
  let child = launch();
  const stop = async () => {
    await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    stop,
    pause: () => terminate(child),
    resume: async () => {
      if (child.exitCode === null && child.signalCode === null) return;
      child = launch();
      await waitReady(url, child, () => log);
    },
  };
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus at ${url} was not ready within 20 s:\n${log()}`);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A Prometheus that scrapes `targets` (`host:port`, loopback) every `intervalSeconds` at
 * `metricsPath`, with an empty TSDB: for tests of an exporter as Prometheus really sees it.
 */
export async function startScrapingPrometheus(targets: string[], intervalSeconds = 1, metricsPath = '/metrics'): Promise<Pick<PrometheusServer, 'url' | 'stop'>> {
  const dir = await mkdtemp(join(tmpdir(), 'canarykit-prom-scrape-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      `  scrape_interval: ${intervalSeconds}s`,
      `  scrape_timeout: ${intervalSeconds}s`,
      'scrape_configs:',
      '  - job_name: canarykit',
      `    metrics_path: ${metricsPath}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => `"${t}"`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
