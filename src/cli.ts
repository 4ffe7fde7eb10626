import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError } from 'commander';
import type * as Yaml from 'yaml';
import { ConfigError, TickError, UserError } from './errors';
import { canaryIdProblems, splitCanaryId } from './names';
import { CONFIG_FILE, CanarykitConfig, initConfigText, loadBootstrapConfig, loadConfig, prometheusAddressOverride, renderSettings } from './adapters/config';
import { CONTROLLER_FLAGS, CONTROLLER_DEFAULTS, ControllerSettingsInput, controllerSettingProblems, flagValue, mergeControllerSettings, parseGoBool, splitFlaggerList } from './model/controller-settings';
import { driverSettings, notificationsFor } from './model/driver-settings';
import { ValidationError } from './errors';
import { Configure, DriverDeps, applyManual, selectPlans, step } from './driver/driver';
import { GitWorkspace, openGitWorkspace } from './adapters/git/git';
import { PullRequestReport, pullRequestHostFor } from './adapters/review/pull-requests';
import { ManualCommand } from './machine/manual';
import { clientForProvider } from './adapters/prometheus/client';
import { readPlans } from './adapters/repo-files';
import { formatTable, readStatus } from './driver/status';
import { runSynth } from './adapters/synth';
import { parseShard } from './driver/shard';
import { packageVersion } from './version';
import { plannedSchedule } from './machine/schedule';

/** Writes `file` through a temporary file in the same folder, so a reader never sees half a page. */
function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Where output goes; injectable so commands are testable without a terminal. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** `CANARYKIT_NOW` pins the clock (replays, tests against backfilled Prometheus data). */
function clock(): () => Date {
  const pinned = process.env.CANARYKIT_NOW;
  if (pinned === undefined) return () => new Date();
  const t = Date.parse(pinned);
  if (Number.isNaN(t)) throw new ConfigError(`CANARYKIT_NOW must be an RFC 3339 time (got "${pinned}")`);
  return () => new Date(t);
}

/**
 * Builds every adapter of the driver in one place. In pull-request mode this is where a missing
 * CANARYKIT_GITHUB_TOKEN is reported, before anything is fetched or written.
 */
export function buildDeps(repoDir: string, config: CanarykitConfig, io: Io, git: GitWorkspace = workspaceFor(repoDir, config)): DriverDeps {
  const timeoutMs = config.prometheus.timeoutSeconds * 1000;
  const pullRequests = pullRequestHostFor(config, process.env);
  const address = prometheusAddressOverride(config, process.env);
  return {
    pullRequests,
    git,
    synth: (scope) => runSynth(config.synth, repoDir, config.outdir, config.stateDir, scope, renderSettings(config.controller)),
    // Flagger's cluster name, global event webhook and default notifier (URLs and tokens from the environment only).
    notifications: notificationsFor(driverSettings(config.controller), process.env),
    now: clock(),
    log: (line) => io.err(line),
    // The override is the driver's Prometheus for every query; without it, the canary's metricsServer.
    metricsClient: (provider, driverServer) =>
      clientForProvider(address ? { ...provider, address } : provider, { timeoutMs, driverAddress: address ?? driverServer }),
    // Every metric's provider; the override applies to Prometheus providers only.
    metricSource: async (metric, driverServer) =>
      (await import('./adapters/metrics/connect')).connectMetric(metric, { env: process.env, timeoutMs, driverServer, prometheusOverride: address }),
    // Loaded on first use, as every module only some commands or ticks need (issue 14's idle tick).
    callWebhook: async (hook, ctx) => (await import('./adapters/webhooks/call')).callWebhook(hook, ctx),
    sendAlerts: async (plan, events, opts) => (await import('./adapters/alerts/sending')).sendAlerts(plan, events, opts),
  };
}

function workspaceFor(repoDir: string, config: CanarykitConfig): GitWorkspace {
  return openGitWorkspace({ dir: repoDir, remote: config.git.remote, branch: config.git.branch, committer: config.git.committer });
}

/**
 * A command that syncs: the bootstrap keys come from the clone's canarykit.yaml (where and as whom
 * to sync), everything else from canarykit.yaml at the synced tip, read again after every sync.
 * `current()` is the configuration of the last sync.
 */
function syncedSession(repoDir: string, io: Io): { boot: CanarykitConfig; bootDeps: DriverDeps; configure: Configure; current(): CanarykitConfig } {
  const boot = loadBootstrapConfig(repoDir);
  const git = workspaceFor(repoDir, boot);
  let current = boot;
  // Before the sync only git and log are used: no pull-request host (its token is checked per tick).
  const bootDeps = buildDeps(repoDir, { ...boot, git: { ...boot.git, mode: 'push', pullRequest: undefined } }, io, git);
  const configure: Configure = () => {
    current = loadConfig(repoDir);
    return { config: current, deps: buildDeps(repoDir, current, io, git) };
  };
  return { boot, bootDeps, configure, current: () => current };
}

function describePullRequest(pr: PullRequestReport): string {
  switch (pr.status) {
    case 'would-open':
      return `would open a pull request from ${pr.branch}: ${pr.title}`;
    case 'opened':
      return `opened pull request #${pr.number} ${pr.url}`;
    case 'open':
      return `pull request #${pr.number} ${pr.url} (already open)`;
  }
}

function repoOf(opts: { repo?: string }): string {
  const dir = path.resolve(opts.repo ?? '.');
  if (!fs.existsSync(path.join(dir, '.git'))) throw new ConfigError(`${dir} is not a git repository (--repo DIR)`);
  return dir;
}

/** The same name rules as compile and synth (src/names.ts), so every drivable canary is accepted. */
function canaryArg(value: string): string {
  const { namespace, name } = splitCanaryId(value);
  if (namespace === undefined) throw new ConfigError(`expected NAMESPACE/NAME (got "${value}")`);
  const problems = canaryIdProblems(namespace, name, { namespace: value, name: value });
  if (problems.length > 0) throw new ConfigError(`expected NAMESPACE/NAME: ${problems.map((p) => p.message).join('; ')}`);
  return value;
}

/**
 * Output and state folders of `compile`: canarykit.yaml's `outdir`/`stateDir` (so the driver's synth
 * writes where the driver reads), or the flags. A flag that contradicts canarykit.yaml is an error:
 * the driver would read state and manifests from one place while compile used another.
 */
function compileFolders(cwd: string, o: { outdir?: string; state?: string } & Record<string, unknown>): { outdir: string; stateDir: string; controller: ControllerSettingsInput } {
  // compile writes only outdir and stateDir, not even the driver's caches in .git.
  const config = loadConfig(cwd, { cache: false });
  const hasFile = fs.existsSync(path.join(cwd, CONFIG_FILE));
  const pick = (flag: string, given: string | undefined, key: 'outdir' | 'stateDir'): string => {
    if (given === undefined) return config[key];
    if (hasFile && path.resolve(cwd, given) !== path.resolve(cwd, config[key])) {
      throw new ConfigError(`${flag} ${given} contradicts ${key}: ${config[key]} in ${CONFIG_FILE}; drop ${flag} (compile then uses ${config[key]}) or change ${key}`);
    }
    return given;
  };
  // Flagger's controller flags, kept in canarykit.yaml so the driver's synth and a person's compile agree.
  const configured = renderSettings(config.controller);
  const { merged, conflicts } = mergeControllerSettings(configured, controllerFlags(o));
  const [first] = conflicts;
  if (first !== undefined) {
    const flag = CONTROLLER_FLAGS.find((f) => f.key === first)!.flag;
    throw new ConfigError(`--${flag} ${flagValue(first, controllerFlags(o)[first])} contradicts controller.${first}: ${flagValue(first, configured[first])} in ${CONFIG_FILE}; drop --${flag} or change controller.${first}`);
  }
  const problems = controllerSettingProblems(controllerFlags(o), '--');
  if (problems.length > 0) throw new ValidationError(problems.map((p) => ({ ...p, path: flagPath(p.path) })), 'invalid compile flags');
  return { outdir: pick('-o', o.outdir, 'outdir'), stateDir: pick('--state', o.state, 'stateDir'), controller: merged };
}

/** The controller flags given to compile, lists split as Flagger splits them. */
function controllerFlags(o: Record<string, unknown>): ControllerSettingsInput {
  const out: Record<string, unknown> = {};
  for (const f of CONTROLLER_FLAGS) {
    // commander files `--no-x <value>` under `x` (its negatable-option naming) and sets it true when absent.
    // commander camel-cases the flag (--untracked-configmaps: untrackedConfigmaps), which is not always the key.
    const attribute = (f.flag.startsWith('no-') ? f.flag.slice(3) : f.flag).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const v = o[attribute];
    if (typeof v !== 'string') continue;
    if (f.kind === 'bool') {
      const b = parseGoBool(v);
      if (b === undefined) throw new ConfigError(`--${f.flag} must be true or false (got "${v}")`);
      out[f.key] = b;
    } else out[f.key] = f.kind === 'list' ? splitFlaggerList(v) : v;
  }
  return out as ControllerSettingsInput;
}

/** `--selectorLabels[1]` -> `--selector-labels` (the list entry is named in the message). */
function flagPath(p: string): string {
  const key = p.slice(2).replace(/\[\d+\]$/, '');
  return `--${CONTROLLER_FLAGS.find((f) => f.key === key)?.flag ?? key}`;
}

/** `canarykit init`'s synth for a YAML-only repository: the installed CLI, folders from canarykit.yaml. */
export const YAML_ONLY_SYNTH = 'canarykit compile -f apps/';

/** The app command of a cdk8s project's cdk8s.yaml, else the YAML-only synth. */
function defaultSynth(dir: string): string {
  const cdk8s = path.join(dir, 'cdk8s.yaml');
  if (fs.existsSync(cdk8s)) {
    const app = ((require('yaml') as typeof Yaml).parse(fs.readFileSync(cdk8s, 'utf8')) as { app?: unknown } | null)?.app;
    if (typeof app === 'string' && app.trim()) return app.trim();
  }
  return YAML_ONLY_SYNTH;
}

/** The command tree; each action is `(options, deps)` and returns nothing but output. */
export function buildProgram(io: Io): Command {
  const program = new Command('canarykit')
    .description('Progressive delivery as a compiler: Flagger-style rollouts committed to git, one step at a time.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('step')
    .description('run one tick: sync, observe, decide, commit and push the next stage')
    .option('--repo <dir>', 'repository clone', '.')
    .option('--canary <ns/name>', 'only this canary')
    .option('--all', 'every canary (default)')
    .option('--shard <I/N>', 'with --all: only the canaries of shard I (0-based) of N, by a hash of namespace/name (README "Sharding the driver")')
    .option('--dry-run', 'decide and print, commit nothing')
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      if (o.canary && o.all) throw new ConfigError('give either --canary or --all, not both');
      if (o.canary && o.shard !== undefined) throw new ConfigError(`--shard ${o.shard} selects among all canaries; drop --canary ${o.canary} or --shard`);
      // Validated before the clone is touched: a wrong value never syncs or writes anything.
      const shard = o.shard === undefined ? undefined : parseShard(o.shard);
      const repoDir = repoOf(o);
      const session = syncedSession(repoDir, io);
      const report = await step(
        { repoDir, config: session.boot, configure: session.configure, select: o.canary ? { canary: canaryArg(o.canary) } : { all: true, shard }, dryRun: o.dryRun },
        session.bootDeps,
      );
      const config = session.current();
      if (o.json) io.out(JSON.stringify(report, null, 2));
      else if (config.git.mode === 'pull-request') {
        for (const r of report.outcomes) {
          const pr = r.pullRequest && r.action !== 'await-review' ? `; ${describePullRequest(r.pullRequest)}` : '';
          io.out(`${r.canary}: ${r.summary} [${r.phase} weight ${r.weight} failed ${r.failedChecks}]${pr}`);
        }
        if (report.unsynced) io.out(`not committed in pull-request mode (no sync commit): ${report.unsynced.join(', ')}`);
        const opened = report.outcomes.filter((r) => r.pullRequest?.status === 'opened').length;
        io.out(o.dryRun ? 'dry run: nothing written' : opened > 0 ? `opened ${opened} pull request${opened === 1 ? '' : 's'}` : 'no pull request opened');
      } else {
        for (const r of report.outcomes) io.out(`${r.canary}: ${r.summary} [${r.phase} weight ${r.weight} failed ${r.failedChecks}]${r.commit ? ` ${r.commit.slice(0, 8)}` : ''}`);
        io.out(report.pushed ? 'pushed' : o.dryRun ? 'dry run: nothing written' : 'nothing to commit');
      }
    });

  program
    .command('status')
    .description('phase, weight and failed checks of every canary, read from git alone')
    .option('--repo <dir>', 'repository clone', '.')
    .option('--json', 'machine-readable output')
    .action((o) => {
      const repoDir = repoOf(o);
      const config = loadConfig(repoDir);
      const rows = readStatus(repoDir, readPlans(repoDir, config.outdir));
      if (o.json) return io.out(JSON.stringify(rows, null, 2));
      io.out(formatTable(
        ['CANARY', 'PROVIDER', 'PHASE', 'WEIGHT', 'FAILED', 'LAST TRANSITION', 'NEXT DUE', 'NOTE'],
        rows.map((r) => [r.canary, r.provider, r.phase, String(r.weight), String(r.failedChecks), r.lastTransitionTime ?? '-', r.nextDue ?? '-',
          [r.paused && 'paused', r.suspended && 'suspended', r.pendingRevision && 'new revision pending'].filter(Boolean).join(', ')]),
      ));
    });

  program
    .command('plan')
    .description('the weight of every step and the expected duration (Flagger formula)')
    .argument('<ns/name>')
    .option('--repo <dir>', 'repository clone', '.')
    .option('--json', 'machine-readable output')
    .action((id: string, o) => {
      const repoDir = repoOf(o);
      const config = loadConfig(repoDir);
      const [entry] = selectPlans(readPlans(repoDir, config.outdir), { canary: canaryArg(id) });
      const s = plannedSchedule(entry.plan);
      if (o.json) return io.out(JSON.stringify(s, null, 2));
      io.out(`${id}: ${s.strategy}, interval ${s.intervalSeconds}s, max weight ${s.maxWeight}`);
      io.out(formatTable(['TICK', 'PHASE', 'WEIGHT', 'ITERATIONS', 'CHECKS'], s.ticks.map((t) => [String(t.tick), t.phase, `${t.canaryWeight}${t.mirror ? ' +mirror' : ''}`, String(t.iterations), t.checks])));
      io.out(s.reachesPromotion
        ? `${s.tickCount} ticks, ${s.metricAnalyses} analyses: at least ${Math.round(s.minDurationSeconds / 60 * 10) / 10} min from detection to Succeeded`
        : 'the weights never reach maxWeight: this run would never promote');
    });

  for (const cmd of ['promote', 'rollback', 'pause', 'resume'] as ManualCommand[]) {
    program
      .command(cmd)
      .description(`${cmd} a canary, as a commit`)
      .argument('<ns/name>')
      .option('--repo <dir>', 'repository clone', '.')
      .option('--dry-run', 'print the new stage, commit nothing')
      .action(async (id: string, o) => {
        const repoDir = repoOf(o);
        const session = syncedSession(repoDir, io);
        const r = await applyManual(
          { repoDir, config: session.boot, configure: session.configure, canary: canaryArg(id), command: cmd, dryRun: o.dryRun },
          session.bootDeps,
        );
        const pr = r.pullRequest ? `; ${describePullRequest(r.pullRequest)}` : '';
        io.out(`${id}: ${cmd} -> ${r.state.phase} weight ${r.state.canaryWeight}${r.state.paused ? ' (paused)' : ''}${r.commit ? ` ${r.commit.slice(0, 8)}` : ''}${pr}`);
      });
  }

  program
    .command('report')
    .description('write a self-contained HTML page of one run: stages, weight chart, each metric over time with its threshold band, webhook outcomes')
    .argument('<ns/name>')
    .option('--repo <dir>', 'repository clone', '.')
    .option('--run <rev>', 'the run of this canary revision (or stage commit) prefix; default the latest run')
    .requiredOption('-o, --output <file>', 'HTML file to write')
    .action(async (id: string, o) => {
      const repoDir = repoOf(o);
      const config = loadConfig(repoDir);
      const [entry] = selectPlans(readPlans(repoDir, config.outdir), { canary: canaryArg(id) });
      const [{ gatherReport }, { renderReport }] = await Promise.all([import('./driver/report-data'), import('./driver/report-html')]);
      const data = await gatherReport({ repoDir, config, entry, rev: o.run, now: clock()(), timeoutMs: config.prometheus.timeoutSeconds * 1000 });
      for (const m of data.metrics) if (m.error) io.err(`warning: ${m.metric.name}: ${m.error}`);
      writeFileAtomic(path.resolve(o.output), renderReport(data));
      io.out(`wrote ${o.output}: ${id} run ${data.run.revision.slice(0, 8)}, ${data.run.stages.length} stages, ${data.metrics.length} metrics`);
    });

  program
    .command('exporter')
    .description("serve Flagger's Prometheus metrics (/metrics) and /healthz, computed from a clone that follows the repository; read-only")
    .option('--repo <dir>', 'clone to follow (fetches git.remote/git.branch of its canarykit.yaml)', '.')
    .option('--listen <host:port>', 'address to serve on', '127.0.0.1:8080')
    .option('--fetch-interval <duration>', 'how often to fetch, e.g. 30s or 1m', '30s')
    .action(async (o) => {
      // Loaded on use: durations pull in cdk8s, which a tick does not need.
      const { parseGoDuration } = await import('./compile/durations');
      const interval = parseGoDuration(o.fetchInterval);
      if (!interval || interval.toMilliseconds() < 1000) throw new ConfigError(`--fetch-interval must be a duration of at least 1s, e.g. 30s (got "${o.fetchInterval}")`);
      const { startExporter } = await import('./adapters/exporter');
      const exporter = await startExporter({ repoDir: repoOf(o), listen: o.listen, fetchIntervalMs: interval.toMilliseconds(), version: packageVersion(), log: (l) => io.err(l) });
      // Runs until SIGTERM (the pod stops) or SIGINT.
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await exporter.stop();
    });

  const compileCommand = program
    .command('compile')
    .description('compile Flagger Canary/MetricTemplate/AlertProvider YAML (and the objects they refer to) into dist/')
    .requiredOption('-f, --file <path...>', 'YAML files or folders (repeatable)')
    .option('-o, --outdir <dir>', `output folder (default: outdir of ${CONFIG_FILE}, else dist)`)
    .option('--state <dir>', `state folder (default: stateDir of ${CONFIG_FILE}, else state)`)
    .action(async (o) => {
      const { outdir, stateDir, controller } = compileFolders(process.cwd(), o);
      // Loaded on use: the compiler pulls in cdk8s, which no other command needs.
      const { compile } = await import('./compile');
      const r = await compile({ files: o.file, outdir, stateDir, controller });
      for (const w of r.warnings) io.err(`warning: ${w}`);
      io.out(`compiled ${r.canaries.length} canar${r.canaries.length === 1 ? 'y' : 'ies'} (${r.canaries.join(', ') || 'none'}) into ${r.folders} folder(s) under ${r.outdir}/`);
    });

  // Flagger's controller flags, under Flagger's names, and canarykit's own (model/controller-settings.ts).
  for (const f of CONTROLLER_FLAGS) {
    const fallback = f.key === 'meshProvider' ? "Flagger's default, istio" : flagValue(f.key, CONTROLLER_DEFAULTS[f.key]) || 'none';
    compileCommand.option(`--${f.flag} <${f.kind === 'string' ? 'value' : f.kind}>`, `${f.canarykitOnly ? "canarykit's own (no Flagger flag)" : `Flagger's -${f.flag}`}: ${f.description}${f.kind === 'list' ? ' (comma-separated)' : ''} (default: controller.${f.key} of ${CONFIG_FILE}, else ${fallback})`);
  }

  program
    .command('init')
    .description(`write a commented ${CONFIG_FILE}`)
    .option('--repo <dir>', 'repository root', '.')
    .option('--synth <command>', `synth command (default: the app of cdk8s.yaml, else "${YAML_ONLY_SYNTH}")`)
    .action((o) => {
      const dir = path.resolve(o.repo);
      const file = path.join(dir, CONFIG_FILE);
      if (fs.existsSync(file)) throw new ConfigError(`${file} already exists; edit it instead`);
      const synth = o.synth ?? defaultSynth(dir);
      fs.writeFileSync(file, initConfigText(synth));
      io.out(`wrote ${file} (synth: ${synth})`);
    });

  return program;
}

/** Runs the CLI; resolves to the exit code (0 ran, 2 invalid input, 1 could not complete and may next time, 3 could not complete until fixed). */
export async function main(argv: string[], io: Io = consoleIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UserError) {
      io.err(`error: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof TickError) {
      // Kargo's distinction: a retryable error is left to the next scheduled run; a terminal one is not.
      io.err(`error: ${e.message}${e.retryable ? '' : '\n(this will not go away by retrying: fix it, then run again)'}`);
      return e.exitCode;
    }
    io.err(`internal error (please report): ${(e as Error).stack ?? e}`);
    return 1;
  }
}
