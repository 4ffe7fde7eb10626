import * as path from 'path';
import { ConfigError, PushRejectedError, TickError } from '../errors';
import { buildCommitMessage } from './commit-message';
import { CanarykitConfig } from './config';
import { ManualCommand, TransitionError, manualTransition } from './manual';
import { GitWorkspace } from './git';
import { Decision, isCommitted } from './machine-action';
import { TickSeen, notifyTick, unseen } from './notify';
import { decide } from './machine';
import { ObserverDeps, observe } from './observe';
import { AnalysisPlan } from './plan';
import { PullRequestHost, PullRequestReport, isPullRequestMode, proposeStage, pullRequestBranch, titleAndBody } from './pull-requests';
import { CheckResult } from './metric-check';
import { PlanEntry, committedReplicas, readPlans } from './repo-files';
import { StageExtras, checkLines, describeAction, stageCommitMessage, stageExtras } from './stage-commit';
import { StageRecord, readStageHistory } from './stage-history';
import { CanaryState } from './state';
import { checkStateAgainstPlan } from './state-plan';
import { readStateFile, writeStateFile } from './state-store';
import { pauseForTest } from './test-pause';
import { SynthScope } from './synth-runner';
import { OUTPUT_MARKER } from '../constructs/output-dir';
import { observationsNeeded } from './tick';
import { TickCache, fileTickCache } from './tick-cache';
import { OBSERVE_CONCURRENCY, mapBounded } from './bounded';
import { Shard, inShard } from './shard';

/** Which canaries a tick looks at: all of them (or those of one shard, src/stages/shard.ts), or one. */
export type CanarySelector = { all: true; shard?: Shard } | { canary: string };

/**
 * Reads the configuration at the synced tip and builds the adapters from it (src/cli.ts reads
 * canarykit.yaml after every sync, so a configuration pushed to the remote governs the very tick
 * that fetched it). Errors here are the user's: the clone goes back to where it was before the sync,
 * so the next tick still starts from the last configuration that loaded.
 */
export type Configure = () => { config: CanarykitConfig; deps: DriverDeps };

export interface StepOptions {
  readonly repoDir: string;
  /**
   * Without `configure`: the configuration of the tick. With it: the bootstrap read before the
   * sync, of which only git.remote/branch/committer (through `deps.git`), outdir, stateDir and
   * git.maxAttempts are used.
   */
  readonly config: CanarykitConfig;
  readonly configure?: Configure;
  readonly select: CanarySelector;
  /** Decide and print, but write, commit and push nothing. */
  readonly dryRun?: boolean;
}

/** Everything with side effects, built in one place (src/cli.ts) and passed in. */
export interface DriverDeps extends ObserverDeps {
  readonly git: GitWorkspace;
  /**
   * Regenerates the output folder from the app and the state files. With `scope`, only the state
   * files of those canaries changed since the output was last synthesized from the same app (the
   * tick's second synth): a synth that can (an in-process `canarykit compile`) renders only their
   * folders; any other synth ignores it and regenerates everything.
   */
  synth(scope?: SynthScope): Promise<void>;
  /** The clock; injected so tests and backfilled Prometheus data agree on "now". */
  now(): Date;
  log(line: string): void;
  /** Where stages are proposed in `git.mode: pull-request` (src/stages/pull-requests.ts). */
  pullRequests?: PullRequestHost;
  /** Last quiet tick per canary (tick-cache.ts). @default the clone's `.git/canarykit/last-ticks.json` */
  tickCache?: TickCache;
}

/** What one canary's tick decided. */
export interface CanaryOutcome {
  readonly canary: string;
  /** The decided action; `await-review` when a pull request for the canary is still open. */
  readonly action: Decision['action']['type'] | 'await-review';
  readonly summary: string;
  readonly phase: string;
  readonly weight: number;
  readonly failedChecks: number;
  readonly commit?: string;
  /** Pull-request mode: the pull request opened, still open, or that would be opened. */
  readonly pullRequest?: PullRequestReport;
}

export interface StepReport {
  readonly outcomes: CanaryOutcome[];
  /** Something was pushed: the branch (push mode) or a pull-request branch. */
  readonly pushed: boolean;
  readonly attempts: number;
  /**
   * Pull-request mode: output folders (`<outdir>/<namespace>/<name>`) the synth changed for
   * canaries with no pull request opened or open. Push mode commits such changes in a sync commit;
   * pull-request mode leaves them to the canary's next stage pull request, or to you.
   */
  readonly unsynced?: string[];
}

interface PendingCommit {
  entry: PlanEntry;
  decision: Decision;
  lines: string[];
  seen: TickSeen;
  /** This tick's metric results, for the numbers in the commit subject. */
  checks: readonly CheckResult[];
  /** The review sections of the stage commit (weight chart, checks table, graph links). */
  extras: StageExtras;
}

/** One canary's part of a tick, applied in the canaries' order once all are observed. */
type CanaryTick =
  | { kind: 'in-review'; outcome: CanaryOutcome; folder: string }
  | { kind: 'decided'; outcome: CanaryOutcome; pending?: PendingCommit; quiet?: QuietTick };

/** A due tick that committed nothing but still has events or alerts to send (a closed gate, a wait). */
interface QuietTick {
  plan: AnalysisPlan;
  decision: Decision;
  seen: TickSeen;
}

/**
 * One tick: sync -> synth -> for each canary (observe -> decide) -> write states -> synth ->
 * one commit per changed canary -> push. A rejected push re-derives everything from the new
 * remote head; any failure resets the work tree to where the tick started. In pull-request mode
 * each changed canary's commit goes to its own branch and pull request instead (proposeAll).
 */
export async function step(opts: StepOptions, deps: DriverDeps): Promise<StepReport> {
  if (!opts.configure) hostFor(opts.config, deps);
  return inTransaction(opts, deps, (tick) => tickOnce({ ...opts, config: tick.config }, tick.deps, tick));
}

interface Tick {
  config: CanarykitConfig;
  deps: DriverDeps;
  attempt: number;
  /**
   * The body may have written to the work tree (true unless the body says otherwise). A body that
   * returns without having written anything leaves the clone exactly where the sync put it, so the
   * reset is skipped: at a thousand canaries it walks ~11,000 files twice on every idle tick.
   */
  wrote: boolean;
}

/**
 * Runs `body` from a synced clone. Nothing pushed: the clone is reset to the remote head. Push
 * rejected because the remote moved: everything is re-derived from the new head, a bounded number
 * of times. Any failure: the clone is reset, so it is exactly at the remote or fully at the next
 * stage, never in between.
 */
async function inTransaction<R extends { pushed: boolean }>(
  opts: { config: CanarykitConfig; configure?: Configure },
  deps: DriverDeps,
  body: (tick: Tick) => Promise<R>,
): Promise<R> {
  const attempts = opts.config.git.maxAttempts;
  const bootManaged = managedPaths(opts.config);
  return deps.git.exclusive(async () => {
    // Where the clone was, for a configuration at the tip that does not load (see Configure).
    const before = opts.configure ? await deps.git.head().catch(() => undefined) : undefined;
    for (let attempt = 1; ; attempt++) {
      const start = await deps.git.sync({ managed: bootManaged });
      await pauseForTest('synced');
      let tick: Tick;
      try {
        tick = { ...configured(opts, deps), attempt, wrote: true };
      } catch (e) {
        await deps.git.rollbackLocal(before ?? start, bootManaged);
        throw e;
      }
      const managed = managedPaths(tick.config);
      try {
        const result = await body(tick);
        if (!result.pushed && tick.wrote) await deps.git.rollbackLocal(start, managed);
        return result;
      } catch (e) {
        await deps.git.rollbackLocal(start, managed);
        if (e instanceof PushRejectedError && attempt < attempts) {
          deps.log(`push rejected (the remote moved); re-deriving from the new head (attempt ${attempt + 1}/${attempts})`);
          continue;
        }
        if (e instanceof PushRejectedError) {
          throw new TickError(`push rejected ${attempts} times because the remote kept moving; nothing was changed, try again`);
        }
        throw e;
      }
    }
  });
}

/** The tick's configuration and adapters: read at the synced tip when `configure` is given. */
function configured(opts: { config: CanarykitConfig; configure?: Configure }, deps: DriverDeps): { config: CanarykitConfig; deps: DriverDeps } {
  if (!opts.configure) return { config: opts.config, deps };
  const tick = opts.configure();
  hostFor(tick.config, tick.deps);
  return tick;
}

/**
 * A manual transition (`canarykit promote|rollback|pause|resume`), committed like any stage: a
 * commit on the branch, or in pull-request mode a pull request (refused while one is open).
 */
export async function applyManual(
  opts: { repoDir: string; config: CanarykitConfig; configure?: Configure; canary: string; command: ManualCommand; dryRun?: boolean },
  bootDeps: DriverDeps,
): Promise<{ pushed: boolean; commit?: string; state: CanaryState; pullRequest?: PullRequestReport }> {
  if (!opts.configure) hostFor(opts.config, bootDeps);
  return inTransaction(opts, bootDeps, async ({ config, deps }) => {
    const host = hostFor(config, deps);
    await deps.synth();
    const [entry] = selectPlans(readPlans(opts.repoDir, config.outdir), { canary: opts.canary });
    const file = path.join(opts.repoDir, entry.plan.stateFile);
    const state = readStateFile(file);
    if (!state) throw new TransitionError(`${opts.canary} has no state yet; run canarykit step first`);
    const next = manualTransition(opts.command, entry.plan, state, deps.now());
    const message = buildCommitMessage({
      namespace: next.namespace,
      name: next.name,
      subject: `${opts.command} (manual)`,
      checks: [],
      trailers: { phase: next.phase, weight: next.canaryWeight, revision: next.canaryRevision, failedChecks: next.failedChecks },
    });
    if (host) {
      const branch = pullRequestBranch(config, entry.plan.namespace, entry.plan.name);
      const open = await host.findOpen(branch);
      if (open) {
        throw new TransitionError(`${opts.canary} has pull request #${open.number} open (${open.url}); merge or close it first, then run ${opts.command} again`);
      }
      const title = titleAndBody(message).title;
      if (opts.dryRun) return { pushed: false, state: next, pullRequest: { status: 'would-open', branch, title } };
      const start = await deps.git.head();
      const proposed = await proposeStage(
        opts.repoDir,
        { branch, stateFile: entry.plan.stateFile, folder: entry.folder, state: next, message, date: deps.now() },
        { sha: start, cleanPaths: managedPaths(config) },
        { ...deps, pullRequests: host },
      );
      if (!proposed) return { pushed: false, state: next };
      const { number, url } = proposed.pullRequest;
      return { pushed: true, commit: proposed.commit, state: next, pullRequest: { status: proposed.existing ? 'open' : 'opened', branch, number, url, title } };
    }
    if (opts.dryRun) return { pushed: false, state: next };
    writeStateFile(file, next);
    await deps.synth();
    const commit = (await deps.git.commit({ message, paths: [entry.plan.stateFile, entry.folder], date: deps.now() })) ?? undefined;
    await deps.git.push();
    return { pushed: true, commit, state: next };
  });
}

/** The pull-request host in pull-request mode (required there), undefined in push mode. */
function hostFor(config: CanarykitConfig, deps: DriverDeps): PullRequestHost | undefined {
  if (!isPullRequestMode(config)) return undefined;
  if (!deps.pullRequests) throw new ConfigError('git.mode is pull-request but no review host is configured (set CANARYKIT_GITHUB_TOKEN or CANARYKIT_GITLAB_TOKEN)');
  return deps.pullRequests;
}

function managedPaths(config: CanarykitConfig): string[] {
  return [config.stateDir, config.outdir];
}

async function tickOnce(opts: StepOptions, deps: DriverDeps, tick: Tick): Promise<StepReport> {
  const { repoDir, config } = opts;
  const { attempt } = tick;
  const host = hostFor(config, deps);
  // Set again before the first write below (a synth, a state file, a pull-request branch).
  tick.wrote = false;
  // A head committed by canarykit itself holds manifests synthesized from exactly its inputs: the
  // first synth is only needed when someone else's commit may have changed the app.
  const [head] = await deps.git.log(1);
  const synthesized = head?.committerEmail !== config.git.committer.email;
  tick.wrote = synthesized;
  if (synthesized) await deps.synth();
  const entries = selectPlans(readPlans(repoDir, config.outdir), opts.select);
  const now = deps.now();
  const cache = deps.tickCache ?? fileTickCache(repoDir);
  const lastTicks = cache.read();
  // Stage commits so far, read once and only when a stage is committed (its review chart).
  let history: Promise<StageRecord[]> | undefined;
  const stageHistory = (): Promise<StageRecord[]> => (history ??= readStageHistory(repoDir, 'HEAD', config.stateDir));
  // Before anything is observed or written: a state this plan never produces stops the tick.
  const canaries = entries.map((entry) => {
    const { plan } = entry;
    const id = `${plan.namespace}/${plan.name}`;
    const state = readStateFile(path.join(repoDir, plan.stateFile));
    if (state) checkStateAgainstPlan(state, plan, plan.stateFile);
    return { entry, id, state };
  });
  // Canaries are observed concurrently (bounded) and applied below in their order, so the outcomes,
  // commits and notifications of a tick do not depend on which Prometheus answered first.
  const ticked = await mapBounded(canaries, OBSERVE_CONCURRENCY, async ({ entry, id, state }): Promise<CanaryTick> => {
    const { plan } = entry;
    const lastTick = lastTicks[id];
    const request = observationsNeeded(plan, state, now, lastTick);
    const branch = host && pullRequestBranch(config, plan.namespace, plan.name);
    // While a canary's pull request awaits review it is not observed (no queries, no webhooks):
    // the stage it proposes has not been applied.
    let awaited = host && branch && request.dueNow ? await awaitingReview(host, branch, id, state, deps) : undefined;
    if (awaited) return { kind: 'in-review', outcome: awaited, folder: entry.folder };
    const observed = request.dueNow
      ? await observe(plan, state, request.steps, {
          canary: committedReplicas(repoDir, entry.folder, plan.targetName),
          primary: committedReplicas(repoDir, entry.folder, `${plan.targetName}-primary`),
        }, deps, now)
      : { observations: { webhooks: [], metrics: [] }, checks: [], hooks: [] };
    const decision = decide(plan, state, observed.observations, now, lastTick);
    if (host && branch && !request.dueNow && isCommitted(decision)) awaited = await awaitingReview(host, branch, id, state, deps);
    if (awaited) return { kind: 'in-review', outcome: awaited, folder: entry.folder };
    const { subject, reason } = describeAction(decision.action, decision.state, observed.checks);
    // The CLI prints one line per canary from the outcome; logging it too would say it twice.
    const summary = reason ? `${subject}: ${reason}` : subject;
    const committed = isCommitted(decision);
    const lines = checkLines(observed.checks, observed.hooks);
    const pullRequest: PullRequestReport | undefined = branch && committed && opts.dryRun
      ? { status: 'would-open', branch, title: titleAndBody(stageCommitMessage(decision, lines, observed.checks)).title }
      : undefined;
    const outcome: CanaryOutcome = { canary: id, action: decision.action.type, summary, phase: decision.state.phase, weight: decision.state.canaryWeight, failedChecks: decision.state.failedChecks, pullRequest };
    const seen: TickSeen = { state, observations: observed.observations, now, lastTick };
    if (committed && !opts.dryRun) {
      const extras = stageExtras(plan, decision, observed.checks, await stageHistory(), now, config.prometheus.address);
      return { kind: 'decided', outcome, pending: { entry, decision, lines, seen, checks: observed.checks, extras } };
    }
    return { kind: 'decided', outcome, quiet: !committed && request.dueNow ? { plan, decision, seen } : undefined };
  });
  const outcomes: CanaryOutcome[] = ticked.map((t) => t.outcome);
  const pending: PendingCommit[] = ticked.flatMap((t) => (t.kind === 'decided' && t.pending ? [t.pending] : []));
  const quiet: QuietTick[] = ticked.flatMap((t) => (t.kind === 'decided' && t.quiet ? [t.quiet] : []));
  /** Folders of canaries whose pull request is open: their output lands with it or the next one. */
  const inReview: string[] = ticked.flatMap((t) => (t.kind === 'in-review' ? [t.folder] : []));
  if (opts.dryRun) return { outcomes, pushed: false, attempts: attempt };
  // A due tick that committed nothing still used up its interval (Flagger's cadence).
  if (quiet.length > 0) cache.write({ ...lastTicks, ...Object.fromEntries(quiet.map((q) => [`${q.plan.namespace}/${q.plan.name}`, now.toISOString()])) });
  if (host) {
    tick.wrote = true;
    const report = await proposeAll(opts, { ...deps, pullRequests: host }, { outcomes, pending, inReview, attempt, synthesized });
    await notifyQuiet(quiet, deps);
    return report;
  }

  if (pending.length > 0) tick.wrote = true;
  for (const p of pending) writeStateFile(path.join(repoDir, p.entry.plan.stateFile), p.decision.state);
  await pauseForTest('state-written');
  // The app is what the output was synthesized from (by this tick's first synth, or by canarykit's
  // own head commit): only the written state files changed.
  if (pending.length > 0) await deps.synth({ canaries: pending.map((p) => `${p.entry.plan.namespace}/${p.entry.plan.name}`) });
  await pauseForTest('synthesized');
  // Manifests that changed with the app but not with a stage (a new port, a new canary, a removed
  // one) are committed too, so the output folder never lags behind the app and the state files.
  // Without a synth this tick nothing under the output folder can have changed.
  const syncMessage = `canarykit: sync ${config.outdir}/ with the app and the state files`;
  const shas = await deps.git.commitAll([
    ...pending.map((p) => ({ message: stageCommitMessage(p.decision, p.lines, p.checks, p.extras), paths: [p.entry.plan.stateFile, p.entry.folder], date: now })),
    ...(synthesized || pending.length > 0 ? [{ message: syncMessage, paths: [config.outdir] }] : []),
  ]);
  const committed = new Map<string, string>();
  pending.forEach((p, i) => {
    const sha = shas[i];
    if (sha) committed.set(`${p.entry.plan.namespace}/${p.entry.plan.name}`, sha);
  });
  const synced = shas.length > pending.length ? shas[pending.length] : null;
  if (synced) deps.log(`synced ${config.outdir}/ with the app (${synced.slice(0, 8)})`);
  if (committed.size === 0 && !synced) {
    await notifyQuiet(quiet, deps);
    return { outcomes, pushed: false, attempts: attempt };
  }
  await pauseForTest('committed');
  await deps.git.push();
  await pauseForTest('pushed');
  for (const p of pending) await notifyAfterPush(p.entry.plan, p.decision, deps, p.seen);
  await notifyQuiet(quiet, deps);
  return {
    outcomes: outcomes.map((o) => ({ ...o, commit: committed.get(o.canary) })),
    pushed: true,
    attempts: attempt,
  };
}

/** The outcome of a canary whose pull request is still open, or undefined when none is. */
async function awaitingReview(
  host: PullRequestHost,
  branch: string,
  id: string,
  state: CanaryState | undefined,
  deps: Pick<DriverDeps, 'log'>,
): Promise<CanaryOutcome | undefined> {
  const open = await host.findOpen(branch);
  if (!open) return undefined;
  const summary = `waiting for review of pull request #${open.number} (${open.url})`;
  return {
    canary: id,
    action: 'await-review',
    summary,
    // Where the canary is on the base branch: the open pull request is not applied yet.
    phase: state?.phase ?? 'Uninitialized',
    weight: state?.canaryWeight ?? 0,
    failedChecks: state?.failedChecks ?? 0,
    pullRequest: { status: 'open', branch, number: open.number, url: open.url },
  };
}

/**
 * Pull-request mode after the decisions: each decided stage is built on its own branch from the
 * synced head and proposed; the base branch is never pushed. There is no sync commit: output the
 * synth changed for canaries with no pull request in flight (or for no canary) is reported as
 * `unsynced`, one entry per `<outdir>/<namespace>/<name>` folder.
 */
async function proposeAll(
  opts: StepOptions,
  deps: DriverDeps & { pullRequests: PullRequestHost },
  tick: { outcomes: CanaryOutcome[]; pending: PendingCommit[]; inReview: string[]; attempt: number; synthesized: boolean },
): Promise<StepReport> {
  const { repoDir, config } = opts;
  const start = await deps.git.head();
  const drift = tick.synthesized ? outputFolders(config.outdir, await deps.git.changedPaths([config.outdir])) : [];
  const outcomes = [...tick.outcomes];
  const proposedFolders: string[] = [...tick.inReview];
  let pushed = false;
  for (const p of tick.pending) {
    const { plan } = p.entry;
    const id = `${plan.namespace}/${plan.name}`;
    const branch = pullRequestBranch(config, plan.namespace, plan.name);
    const message = stageCommitMessage(p.decision, p.lines, p.checks, p.extras);
    const proposed = await proposeStage(
      repoDir,
      { branch, stateFile: plan.stateFile, folder: p.entry.folder, state: p.decision.state, message, date: deps.now() },
      { sha: start, cleanPaths: managedPaths(config) },
      deps,
    );
    if (!proposed) continue;
    pushed = true;
    proposedFolders.push(p.entry.folder);
    const { number, url } = proposed.pullRequest;
    const i = outcomes.findIndex((o) => o.canary === id);
    outcomes[i] = {
      ...outcomes[i],
      commit: proposed.commit,
      pullRequest: { status: proposed.existing ? 'open' : 'opened', branch, number, url, title: titleAndBody(message).title },
    };
    // The stage is proposed, not applied: hooks and alerts describe what the pull request does.
    await notifyAfterPush(plan, p.decision, deps, p.seen);
  }
  const unsynced = drift.filter((f) => !proposedFolders.includes(f));
  if (unsynced.length > 0) {
    deps.log(
      `not committed in pull-request mode: ${preview(unsynced)} changed with the app; it lands with that canary's next ` +
        'stage pull request, or commit it yourself',
    );
  }
  return { outcomes, pushed, attempts: tick.attempt, ...(unsynced.length > 0 ? { unsynced } : {}) };
}

/** Changed output paths grouped into `<outdir>/<namespace>/<name>` folders (shallower paths as they are). */
function outputFolders(outdir: string, changed: readonly string[]): string[] {
  const root = outdir.replace(/\/+$/, '');
  // The marker is rewritten by every synth and belongs to no canary folder.
  const folders = changed.filter((p) => p !== `${root}/${OUTPUT_MARKER}`).map((p) => {
    const rel = p.startsWith(`${root}/`) ? p.slice(root.length + 1).split('/') : [];
    return rel.length > 2 ? `${root}/${rel[0]}/${rel[1]}` : p;
  });
  return [...new Set(folders)].sort();
}

function preview(items: readonly string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

export function selectPlans(entries: PlanEntry[], select: CanarySelector): PlanEntry[] {
  if ('all' in select) return entries.filter((e) => inShard(`${e.plan.namespace}/${e.plan.name}`, select.shard));
  const found = entries.filter((e) => `${e.plan.namespace}/${e.plan.name}` === select.canary);
  if (found.length === 0) {
    const known = entries.map((e) => `${e.plan.namespace}/${e.plan.name}`).join(', ') || 'none';
    throw new ConfigError(`no canary ${select.canary} in the synth output (known: ${known})`);
  }
  return found;
}

/** Events and alerts of due ticks that committed nothing; sent once the tick's pushes are done. */
async function notifyQuiet(quiet: readonly QuietTick[], deps: Pick<DriverDeps, 'now' | 'log'>): Promise<void> {
  for (const q of quiet) await notifyTick(q.plan, q.decision, q.seen, deps);
}

/**
 * Non-blocking hooks and alerts of a decision, after the step is on the remote (notify.ts). Without
 * `seen`, event webhooks get only the events the decision itself implies.
 */
export async function notifyAfterPush(plan: AnalysisPlan, decision: Decision, deps: Pick<DriverDeps, 'now' | 'log'>, seen?: TickSeen): Promise<void> {
  await notifyTick(plan, decision, seen ?? unseen(undefined), deps);
}
