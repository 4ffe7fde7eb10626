import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, GitCommandError } from '../errors';
import { CONFIG_FILE, CanarykitConfig, loadConfig, parseConfig } from './config';
import { ExportedCanary, flaggerFamilies, renderExposition } from './flagger-metrics';
import { redactCredentials } from './git/git';
import { AnalysisPlan, PLAN_API_VERSION, PLAN_FILE } from '../model/plan';
import { parseState } from '../model/state';
import { readStageHistory } from './git/stage-history';

/**
 * `canarykit exporter`: a read-only HTTP server over a clone that follows the repository. Every
 * interval it fetches `git.remote`/`git.branch` into the remote-tracking ref and reads the tip
 * from git objects (`git show`, `git ls-tree`, `git log`): the work tree, the index and the local
 * branches are never touched. `/metrics` serves Flagger's metrics (src/adapters/flagger-metrics.ts)
 * plus the exporter's own; `/healthz` says whether a tip has been read.
 */

export interface ExporterOptions {
  repoDir: string;
  /** `HOST:PORT`; port 0 picks a free one. */
  listen: string;
  fetchIntervalMs: number;
  /** canarykit's version for flagger_info. */
  version: string;
  log(line: string): void;
}

export interface Exporter {
  /** `http://HOST:PORT`. */
  readonly url: string;
  /** Fetches and re-reads the tip now (the timer does this every interval). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

async function git(repoDir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd: repoDir, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' } });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new GitCommandError(redactCredentials(`git ${args[0]} failed in ${repoDir}: ${(err.stderr || err.message || '').trim().split('\n').slice(-3).join(' ')}`));
  }
}

/** Parses `HOST:PORT` (IPv6 as `[::1]:8080`). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--listen must be HOST:PORT, e.g. 0.0.0.0:8080 (got "${value}")`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** What one read of the tip produced. */
interface Snapshot {
  tip: string;
  body: string;
}

/** Reads canaries, states and history at `ref` from git objects only. */
async function readTip(repoDir: string, ref: string, fallback: CanarykitConfig, version: string): Promise<Snapshot> {
  const tip = (await git(repoDir, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
  const show = (file: string): Promise<string> => git(repoDir, ['show', `${tip}:${file}`]);
  const files = (await git(repoDir, ['ls-tree', '-r', '--name-only', tip])).split('\n').filter(Boolean);
  const config = files.includes(CONFIG_FILE) ? parseConfig(await show(CONFIG_FILE), `${CONFIG_FILE} at ${tip.slice(0, 8)}`) : fallback;
  const outdir = config.outdir.replace(/\/+$/, '');
  const canaries: ExportedCanary[] = [];
  for (const file of files.filter((f) => f.startsWith(`${outdir}/`) && path.posix.basename(f) === PLAN_FILE).sort()) {
    let plan: AnalysisPlan;
    try {
      plan = JSON.parse(await show(file));
    } catch {
      continue;
    }
    if (plan.apiVersion !== PLAN_API_VERSION || plan.kind !== 'AnalysisPlan') continue;
    const state = files.includes(plan.stateFile) ? parseState(JSON.parse(await show(plan.stateFile)), `${plan.stateFile} at ${tip.slice(0, 8)}`) : undefined;
    canaries.push({ plan, state });
  }
  const history = await readStageHistory(repoDir, tip, config.stateDir);
  return { tip, body: renderExposition(flaggerFamilies({ version, canaries, history })) };
}

export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const { repoDir } = options;
  if (!fs.existsSync(path.join(repoDir, '.git'))) throw new ConfigError(`${repoDir} is not a git clone (--repo DIR)`);
  const local = loadConfig(repoDir);
  const { remote, branch } = local.git;
  const ref = `refs/remotes/${remote}/${branch}`;
  const { host, port } = parseListen(options.listen);

  let snapshot: Snapshot | undefined;
  let lastSuccess = 0;
  let failuresTotal = 0;
  let refreshing: Promise<void> | undefined;

  const refreshOnce = async (): Promise<void> => {
    try {
      // Only the remote-tracking ref and the object store change; never the work tree.
      await git(repoDir, ['fetch', '--quiet', '--no-tags', remote, `+refs/heads/${branch}:${ref}`]);
      const tip = (await git(repoDir, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
      if (snapshot?.tip !== tip) snapshot = await readTip(repoDir, ref, local, options.version);
      lastSuccess = Date.now();
    } catch (e) {
      failuresTotal++;
      options.log(`exporter: could not read ${remote}/${branch}: ${(e as Error).message} (serving the last tip read)`);
    }
  };
  const refresh = (): Promise<void> => (refreshing ??= refreshOnce().finally(() => (refreshing = undefined)));

  const own = (): string => [
    '# HELP canarykit_exporter_last_success_timestamp_seconds When the tip was last fetched and read.',
    '# TYPE canarykit_exporter_last_success_timestamp_seconds gauge',
    `canarykit_exporter_last_success_timestamp_seconds ${lastSuccess / 1000}`,
    '# HELP canarykit_exporter_failures_total Fetches or reads of the tip that failed.',
    '# TYPE canarykit_exporter_failures_total counter',
    `canarykit_exporter_failures_total ${failuresTotal}`,
    '',
  ].join('\n');

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only: GET /metrics or /healthz\n');
      return;
    }
    if (url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(`${snapshot?.body ?? ''}${own()}`);
    } else if (url === '/healthz') {
      const ok = snapshot !== undefined;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? `ok ${snapshot!.tip}\n` : `no tip of ${remote}/${branch} read yet\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
    }
  };

  await refresh();
  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ConfigError(`cannot listen on ${options.listen}: ${e.message}`)));
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const timer = setInterval(() => void refresh(), options.fetchIntervalMs);
  timer.unref();
  options.log(`exporter: serving ${remote}/${branch} of ${repoDir} on http://${shown}:${address.port}/metrics (fetch every ${options.fetchIntervalMs / 1000}s)`);
  return {
    url: `http://${shown}:${address.port}`,
    refresh,
    stop: async () => {
      clearInterval(timer);
      await refreshing;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
