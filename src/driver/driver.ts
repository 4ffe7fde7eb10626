import * as path from 'path';
import { ConfigError, PushRejectedError, StalePlanError, TickError, TransitionError } from '../errors';
import { buildCommitMessage } from '../model/commit-message';
import { CONFIG_FILE, CanarykitConfig } from '../adapters/config';
import { synthPaths } from '../adapters/synth';
import { ManualCommand, manualTransition } from '../machine/manual';
import { isCommitted } from '../machine/action';
import { TickSeen } from './notify';
import { decide } from '../machine/decide';
import { observe } from './observe';
import { PullRequestReport } from '../adapters/review/pull-requests';
import { PlanEntry, readPlans, readPlansOrKnown } from '../adapters/repo-files';
import { RestingHit, RestingIndex, fileRestingIndex } from '../adapters/resting-index';
import { packageVersion } from '../version';
import { checkLines, describeAction, stageCommitMessage, stageExtras } from './stage-commit';
import { StageRecord, stageHistoryCacheFile, stageHistoryReader } from '../adapters/git/stage-history';
import { CanaryState } from '../model/state';
import { checkStateAgainstPlan } from '../machine/state-plan';
import { readStateFile } from '../model/state-store';
import { pauseForTest } from '../adapters/test-pause';
import { PLAN_AND_STATE_IDLE, observationsNeeded, planTick } from '../machine/tick';
import { fileTickCache } from '../adapters/tick-cache';
import { Publisher } from './publish';
import { pushPublisher } from './publish-push';
import { reviewPublisher } from './publish-review';
import { isPullRequestMode } from '../adapters/review/pull-requests';
import { CanaryOutcome, CanarySelector, Configure, DriverDeps, PendingCommit, QuietTick, StepOptions, StepReport, managedPaths } from './tick-types';
import { OBSERVE_CONCURRENCY, mapBounded } from './bounded';
import { inShard } from './shard';

export type { CanaryOutcome, CanarySelector, Configure, DriverDeps, StepOptions, StepReport } from './tick-types';
export { notifyAfterPush } from './notify';

/**
 * One tick: sync -> synth -> for each canary (observe -> decide) -> write states -> synth ->
 * one commit per changed canary -> push. A rejected push re-derives everything from the new
 * remote head; any failure resets the work tree to where the tick started. In pull-request mode
 * each changed canary's commit goes to its own branch and pull request instead (proposeAll).
 */
export async function step(opts: StepOptions, deps: DriverDeps): Promise<StepReport> {
  // Checked before the sync: pull-request mode needs a review host.
  if (!opts.configure) publisherFor(opts.repoDir, opts.config, deps);
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
  opts: { repoDir: string; config: CanarykitConfig; configure?: Configure },
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
function configured(opts: { repoDir: string; config: CanarykitConfig; configure?: Configure }, deps: DriverDeps): { config: CanarykitConfig; deps: DriverDeps } {
  if (!opts.configure) return { config: opts.config, deps };
  const tick = opts.configure();
  // A pull-request mode without a review host is the new configuration's error, before anything runs.
  publisherFor(opts.repoDir, tick.config, tick.deps);
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
  if (!opts.configure) publisherFor(opts.repoDir, opts.config, bootDeps);
  return inTransaction(opts, bootDeps, async ({ config, deps }) => {
    const publisher = publisherFor(opts.repoDir, config, deps);
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
    return publisher.publishManual({ entry, file, next, message, canary: opts.canary, command: opts.command, dryRun: opts.dryRun });
  });
}

async function tickOnce(opts: StepOptions, deps: DriverDeps, tick: Tick): Promise<StepReport> {
  const { repoDir, config } = opts;
  const { attempt } = tick;
  const publisher = publisherFor(repoDir, config, deps);
  // Set again before the first write below (a synth, a state file, a pull-request branch).
  tick.wrote = false;
  // A head committed by canarykit itself holds manifests synthesized from exactly its inputs: the
  // first synth is only needed when someone else's commit may have changed the app.
  const [head] = await deps.git.log(1);
  let synthesized = head?.committerEmail !== config.git.committer.email && !(await ownOutputStillCurrent(config, deps));
  tick.wrote = synthesized;
  if (synthesized) await deps.synth();
  // Canaries resting on their plan and state alone, unchanged since a tick read them, are answered
  // from the resting-canary index without reading either file (issue 14).
  const resting = restingIndexOf(repoDir, config, deps);
  const readEntries = (): Array<PlanEntry | RestingHit> => {
    const read = (only?: string) => readPlansOrKnown(repoDir, config.outdir, (folder, file) => resting.lookup(folder, file), only);
    const select = opts.select;
    // One canary: only its own folder is read; every plan when it is not there (the error lists them).
    const own = 'canary' in select ? read(select.canary) : [];
    return selectPlans(own.length > 0 ? own : read(), select);
  };
  let entries: Array<PlanEntry | RestingHit>;
  try {
    entries = readEntries();
  } catch (e) {
    // Output committed by an older canarykit: synthesize it with this one, then read again.
    if (!(e instanceof StalePlanError) || synthesized) throw e;
    synthesized = true;
    tick.wrote = true;
    await deps.synth();
    entries = readEntries();
  }
  const now = deps.now();
  const cache = deps.tickCache ?? fileTickCache(repoDir);
  const lastTicks = cache.read();
  // Stage commits so far, read once and only when a stage is committed (its review chart).
  let history: ReturnType<typeof stageHistoryReader> | undefined;
  const stageHistory = async (canary: string): Promise<StageRecord[]> => (await (history ??= stageHistoryReader(repoDir, 'HEAD', config.stateDir, stageHistoryCacheFile(repoDir)))).of(canary);
  // Before anything is observed or written: a state this plan never produces stops the tick.
  const canaries = entries.map((entry): ReadCanary => {
    if (!('plan' in entry)) return { kind: 'resting', hit: entry };
    const { plan } = entry;
    const id = `${plan.namespace}/${plan.name}`;
    resting.statState(entry.folder, plan.stateFile);
    const state = readStateFile(path.join(repoDir, plan.stateFile));
    if (state) checkStateAgainstPlan(state, plan, plan.stateFile);
    return { kind: 'read', entry, id, state };
  });
  // Canaries are observed concurrently (bounded) and applied below in their order, so the outcomes,
  // commits and notifications of a tick do not depend on which Prometheus answered first.
  const ticked = await mapBounded(canaries, OBSERVE_CONCURRENCY, async (read): Promise<CanaryTick> => {
    if (read.kind === 'resting') return { kind: 'decided', outcome: restingOutcome(read.hit) };
    const { entry, id, state } = read;
    const { plan } = entry;
    const lastTick = lastTicks[id];
    const request = observationsNeeded(plan, state, now, lastTick);
    // While a canary's pull request awaits review it is not observed (no queries, no webhooks):
    // the stage it proposes has not been applied.
    let awaited = request.dueNow ? await publisher.awaitingReview(plan, state) : undefined;
    if (awaited) return { kind: 'in-review', outcome: awaited, folder: entry.folder };
    const observed = request.dueNow
      ? await observe(plan, state, request.steps, plan.replicas, deps, now)
      : { observations: { webhooks: [], metrics: [] }, checks: [], hooks: [] };
    const decision = decide(plan, state, observed.observations, now, lastTick);
    if (!request.dueNow && isCommitted(decision)) awaited = await publisher.awaitingReview(plan, state);
    if (awaited) return { kind: 'in-review', outcome: awaited, folder: entry.folder };
    const { subject, reason } = describeAction(decision.action, decision.state, observed.checks);
    // The CLI prints one line per canary from the outcome; logging it too would say it twice.
    const summary = reason ? `${subject}: ${reason}` : subject;
    const committed = isCommitted(decision);
    const lines = checkLines(observed.checks, observed.hooks);
    const pullRequest = committed && opts.dryRun ? publisher.wouldPropose(plan, stageCommitMessage(decision, lines, observed.checks)) : undefined;
    const outcome: CanaryOutcome = { canary: id, action: decision.action.type, summary, phase: decision.state.phase, weight: decision.state.canaryWeight, failedChecks: decision.state.failedChecks, pullRequest };
    const seen: TickSeen = { state, observations: observed.observations, now, lastTick };
    const idleReason = planTick(plan, state, now, lastTick).idle;
    if (state && !committed && idleReason && PLAN_AND_STATE_IDLE.has(idleReason)) resting.record(entry.folder, outcome);
    if (committed && !opts.dryRun) {
      const extras = stageExtras(plan, decision, observed.checks, await stageHistory(id), now, config.prometheus.address);
      return { kind: 'decided', outcome, pending: { entry, decision, lines, seen, checks: observed.checks, extras } };
    }
    return { kind: 'decided', outcome, quiet: !committed && request.dueNow ? { plan, decision, seen } : undefined };
  });
  // A one-canary tick looked at one folder: the other canaries' entries stay for the next --all.
  resting.save({ keepUnread: 'canary' in opts.select });
  const outcomes: CanaryOutcome[] = ticked.map((t) => t.outcome);
  const pending: PendingCommit[] = ticked.flatMap((t) => (t.kind === 'decided' && t.pending ? [t.pending] : []));
  const quiet: QuietTick[] = ticked.flatMap((t) => (t.kind === 'decided' && t.quiet ? [t.quiet] : []));
  /** Folders of canaries whose pull request is open: their output lands with it or the next one. */
  const inReview: string[] = ticked.flatMap((t) => (t.kind === 'in-review' ? [t.folder] : []));
  if (opts.dryRun) return { outcomes, pushed: false, attempts: attempt };
  // A due tick that committed nothing still used up its interval (Flagger's cadence).
  if (quiet.length > 0) cache.write({ ...lastTicks, ...Object.fromEntries(quiet.map((q) => [`${q.plan.namespace}/${q.plan.name}`, now.toISOString()])) });
  // Pull-request mode builds branches in the clone; push mode writes only for a stage.
  if (pending.length > 0 || isPullRequestMode(config)) tick.wrote = true;
  return publisher.publishTick({ outcomes, pending, quiet, inReview, attempt, synthesized, now });
}

/**
 * After someone else's commits: for a synth that is the in-process `canarykit compile`, whose every
 * input is known (synthPaths), the output of canarykit's newest own commit is still current when
 * none of those paths changed since (a README edit, a change elsewhere in a monorepo): the same
 * rule as for a head committed by canarykit, checked by one git tree comparison instead of a
 * compile that reads every input, state file and output folder (issue 14).
 */
async function ownOutputStillCurrent(config: CanarykitConfig, deps: DriverDeps): Promise<boolean> {
  const paths = synthPaths(config.synth, config.outdir, config.stateDir, CONFIG_FILE);
  if (!paths || !deps.git.unchangedSinceCommitBy) return false;
  return deps.git.unchangedSinceCommitBy(config.git.committer.email, paths).catch(() => false);
}

/** A canary before its tick: its plan and state as read, or its outcome from the resting index. */
type ReadCanary = { kind: 'read'; entry: PlanEntry; id: string; state: CanaryState | undefined } | { kind: 'resting'; hit: RestingHit };

/** The outcome the full read reported for a resting canary, in the same shape (and key order). */
function restingOutcome(hit: RestingHit): CanaryOutcome {
  const o = hit.outcome;
  return { canary: o.canary, action: o.action as CanaryOutcome['action'], summary: o.summary, phase: o.phase, weight: o.weight, failedChecks: o.failedChecks, pullRequest: undefined };
}

let version: string | undefined;

/** The tick's resting-canary index (adapters/resting-index.ts); `deps.restingIndex: false` turns it off. */
function restingIndexOf(repoDir: string, config: CanarykitConfig, deps: DriverDeps): RestingIndex {
  if (deps.restingIndex === false) return { lookup: () => undefined, statState: () => undefined, record: () => undefined, save: () => undefined };
  return fileRestingIndex(repoDir, { outdir: config.outdir, stateDir: config.stateDir, version: (version ??= packageVersion()) }, deps.restingIndex);
}

/** One canary's part of a tick, applied in the canaries' order once all are observed. */
type CanaryTick =
  | { kind: 'in-review'; outcome: CanaryOutcome; folder: string }
  | { kind: 'decided'; outcome: CanaryOutcome; pending?: PendingCommit; quiet?: QuietTick };

export function selectPlans<T extends PlanEntry | RestingHit>(entries: T[], select: CanarySelector): T[] {
  const idOf = (e: T): string => ('plan' in e ? `${e.plan.namespace}/${e.plan.name}` : `${e.namespace}/${e.name}`);
  if ('all' in select) return entries.filter((e) => inShard(idOf(e), select.shard));
  const found = entries.filter((e) => idOf(e) === select.canary);
  if (found.length === 0) {
    const known = entries.map(idOf).join(', ') || 'none';
    throw new ConfigError(`no canary ${select.canary} in the synth output (known: ${known})`);
  }
  return found;
}

/** The publisher of the configured git.mode; pull-request mode needs a review host. */
function publisherFor(repoDir: string, config: CanarykitConfig, deps: DriverDeps): Publisher {
  if (!isPullRequestMode(config)) return pushPublisher(repoDir, config, deps);
  if (!deps.pullRequests) throw new ConfigError('git.mode is pull-request but no review host is configured (set CANARYKIT_GITHUB_TOKEN or CANARYKIT_GITLAB_TOKEN)');
  return reviewPublisher(repoDir, config, { ...deps, pullRequests: deps.pullRequests });
}
