import * as path from 'path';
import { ConfigError, PushRejectedError, TickError } from '../errors';
import { alertContext, sendAlerts } from './alerts';
import { buildCommitMessage } from './commit-message';
import { CanarykitConfig } from './config';
import { ManualCommand, TransitionError, manualTransition } from './manual';
import { GitWorkspace } from './git';
import { Decision, endsRun, isCommitted } from './machine-action';
import { decide } from './machine';
import { ObserverDeps, observe } from './observe';
import { AnalysisPlan } from './plan';
import { PlanEntry, committedReplicas, readPlans } from './repo-files';
import { checkLines, describeAction, stageCommitMessage } from './stage-commit';
import { CanaryState } from './state';
import { readStateFile, writeStateFile } from './state-store';
import { observationsNeeded } from './tick';
import { CanaryEvent, WebhookContext, runHooks } from './webhooks';

/** Which canaries a tick looks at. */
export type CanarySelector = { all: true } | { canary: string };

export interface StepOptions {
  readonly repoDir: string;
  readonly config: CanarykitConfig;
  readonly select: CanarySelector;
  /** Decide and print, but write, commit and push nothing. */
  readonly dryRun?: boolean;
}

/** Everything with side effects, built in one place (src/cli.ts) and passed in. */
export interface DriverDeps extends ObserverDeps {
  readonly git: GitWorkspace;
  /** Regenerates the output folder from the app and the state files. */
  synth(): Promise<void>;
  /** The clock; injected so tests and backfilled Prometheus data agree on "now". */
  now(): Date;
  log(line: string): void;
}

/** What one canary's tick decided. */
export interface CanaryOutcome {
  readonly canary: string;
  readonly action: Decision['action']['type'];
  readonly summary: string;
  readonly phase: string;
  readonly weight: number;
  readonly failedChecks: number;
  readonly commit?: string;
}

export interface StepReport {
  readonly outcomes: CanaryOutcome[];
  readonly pushed: boolean;
  readonly attempts: number;
}

interface PendingCommit {
  entry: PlanEntry;
  decision: Decision;
  lines: string[];
}

/**
 * One tick: sync -> synth -> for each canary (observe -> decide) -> write states -> synth ->
 * one commit per changed canary -> push. A rejected push re-derives everything from the new
 * remote head; any failure resets the work tree to where the tick started.
 */
export async function step(opts: StepOptions, deps: DriverDeps): Promise<StepReport> {
  return inTransaction(opts, deps, (attempt) => tickOnce(opts, deps, attempt));
}

/**
 * Runs `body` from a synced clone. Nothing pushed: the clone is reset to the remote head. Push
 * rejected because the remote moved: everything is re-derived from the new head, a bounded number
 * of times. Any failure: the clone is reset, so it is exactly at the remote or fully at the next
 * stage, never in between.
 */
async function inTransaction<R extends { pushed: boolean }>(
  opts: { config: CanarykitConfig },
  deps: DriverDeps,
  body: (attempt: number) => Promise<R>,
): Promise<R> {
  const attempts = opts.config.git.maxAttempts;
  const managed = [opts.config.stateDir, opts.config.outdir];
  for (let attempt = 1; ; attempt++) {
    const start = await deps.git.sync();
    try {
      const result = await body(attempt);
      if (!result.pushed) await deps.git.rollbackLocal(start, managed);
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
}

/** A manual transition (`canarykit promote|rollback|pause|resume`), committed like any stage. */
export async function applyManual(
  opts: { repoDir: string; config: CanarykitConfig; canary: string; command: ManualCommand; dryRun?: boolean },
  deps: DriverDeps,
): Promise<{ pushed: boolean; commit?: string; state: CanaryState }> {
  return inTransaction(opts, deps, async () => {
    await deps.synth();
    const [entry] = selectPlans(readPlans(opts.repoDir, opts.config.outdir), { canary: opts.canary });
    const file = path.join(opts.repoDir, entry.plan.stateFile);
    const state = readStateFile(file);
    if (!state) throw new TransitionError(`${opts.canary} has no state yet; run canarykit step first`);
    const next = manualTransition(opts.command, entry.plan, state, deps.now());
    if (opts.dryRun) return { pushed: false, state: next };
    writeStateFile(file, next);
    await deps.synth();
    const message = buildCommitMessage({
      namespace: next.namespace,
      name: next.name,
      subject: `${opts.command} (manual)`,
      checks: [],
      trailers: { phase: next.phase, weight: next.canaryWeight, revision: next.canaryRevision, failedChecks: next.failedChecks },
    });
    const commit = (await deps.git.commit({ message, paths: [entry.plan.stateFile, entry.folder] })) ?? undefined;
    await deps.git.push();
    return { pushed: true, commit, state: next };
  });
}

async function tickOnce(opts: StepOptions, deps: DriverDeps, attempt: number): Promise<StepReport> {
  const { repoDir, config } = opts;
  // A head committed by canarykit itself holds manifests synthesized from exactly its inputs: the
  // first synth is only needed when someone else's commit may have changed the app.
  const [head] = await deps.git.log(1);
  if (head?.committerEmail !== config.git.committer.email) await deps.synth();
  const entries = selectPlans(readPlans(repoDir, config.outdir), opts.select);
  const now = deps.now();
  const outcomes: CanaryOutcome[] = [];
  const pending: PendingCommit[] = [];
  for (const entry of entries) {
    const { plan } = entry;
    const id = `${plan.namespace}/${plan.name}`;
    const state = readStateFile(path.join(repoDir, plan.stateFile));
    const request = observationsNeeded(plan, state, now);
    const observed = request.dueNow
      ? await observe(plan, state, request.steps, {
          canary: committedReplicas(repoDir, entry.folder, plan.targetName),
          primary: committedReplicas(repoDir, entry.folder, `${plan.targetName}-primary`),
        }, deps, now)
      : { observations: { webhooks: [], metrics: [] }, checks: [], hooks: [] };
    const decision = decide(plan, state, observed.observations, now);
    const { subject, reason } = describeAction(decision.action, decision.state.canaryWeight);
    const summary = reason ? `${subject}: ${reason}` : subject;
    deps.log(`${id}: ${summary}`);
    outcomes.push({ canary: id, action: decision.action.type, summary, phase: decision.state.phase, weight: decision.state.canaryWeight, failedChecks: decision.state.failedChecks });
    if (isCommitted(decision)) pending.push({ entry, decision, lines: checkLines(observed.checks, observed.hooks) });
  }
  if (opts.dryRun) return { outcomes, pushed: false, attempts: attempt };

  for (const p of pending) writeStateFile(path.join(repoDir, p.entry.plan.stateFile), p.decision.state);
  if (pending.length > 0) await deps.synth();
  const committed = new Map<string, string>();
  for (const p of pending) {
    const sha = await deps.git.commit({ message: stageCommitMessage(p.decision, p.lines), paths: [p.entry.plan.stateFile, p.entry.folder] });
    if (sha) committed.set(`${p.entry.plan.namespace}/${p.entry.plan.name}`, sha);
  }
  // Manifests that changed with the app but not with a stage (a new port, a new canary, a removed
  // one) are committed too, so the output folder never lags behind the app and the state files.
  const synced = await deps.git.commit({ message: `canarykit: sync ${config.outdir}/ with the app and the state files`, paths: [config.outdir] });
  if (synced) deps.log(`synced ${config.outdir}/ with the app (${synced.slice(0, 8)})`);
  if (committed.size === 0 && !synced) return { outcomes, pushed: false, attempts: attempt };
  await deps.git.push();
  for (const p of pending) await notifyAfterPush(p.entry.plan, p.decision, deps);
  return {
    outcomes: outcomes.map((o) => ({ ...o, commit: committed.get(o.canary) })),
    pushed: true,
    attempts: attempt,
  };
}

export function selectPlans(entries: PlanEntry[], select: CanarySelector): PlanEntry[] {
  if ('all' in select) return entries;
  const found = entries.filter((e) => `${e.plan.namespace}/${e.plan.name}` === select.canary);
  if (found.length === 0) {
    const known = entries.map((e) => `${e.plan.namespace}/${e.plan.name}`).join(', ') || 'none';
    throw new ConfigError(`no canary ${select.canary} in the synth output (known: ${known})`);
  }
  return found;
}

/**
 * Non-blocking hooks, after the step is on the remote: post-rollout when a run ended, an event
 * hook per event, then the alerts (src/stages/alerts.ts). Failures are logged only, as in Flagger.
 */
export async function notifyAfterPush(plan: AnalysisPlan, decision: Decision, deps: Pick<DriverDeps, 'now' | 'log'>): Promise<void> {
  const state: CanaryState = decision.state;
  const ctx: WebhookContext = { name: plan.name, namespace: plan.namespace, phase: state.phase, checksum: plan.canary.revision };
  const log = (r: { ok: boolean; message: string }): void => {
    if (!r.ok) deps.log(`${plan.namespace}/${plan.name}: ${r.message} (ignored)`);
  };
  if (endsRun(decision.action)) (await runHooks(plan.webhooks, 'post-rollout', ctx)).forEach(log);
  if (plan.webhooks.some((h) => h.type === 'event')) {
    for (const e of decision.events) {
      const event: CanaryEvent = { message: e.message, type: e.severity === 'info' ? 'Normal' : 'Warning', timestamp: deps.now().getTime() };
      (await runHooks(plan.webhooks, 'event', { ...ctx, event })).forEach(log);
    }
  }
  (await sendAlerts(plan, decision.events, { context: alertContext(decision) })).forEach(log);
}
