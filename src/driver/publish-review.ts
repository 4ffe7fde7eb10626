import { CanarykitConfig } from '../adapters/config';
import { PullRequestHost, proposeStage, pullRequestBranch, titleAndBody } from '../adapters/review/pull-requests';
import { TransitionError } from '../errors';
import { OUTPUT_MARKER } from '../constructs/output-dir';
import { AnalysisPlan } from '../model/plan';
import { CanaryState } from '../model/state';
import { notifyAfterPush, notifyQuiet } from './notify';
import type { DecidedTick, ManualResult, ManualStage, Publisher } from './publish';
import { stageCommitMessage } from './stage-commit';
import { CanaryOutcome, DriverDeps, StepReport, managedPaths } from './tick-types';

type ReviewDeps = DriverDeps & { pullRequests: PullRequestHost };

/**
 * Pull-request mode: each decided stage is committed on its own branch from the synced head and
 * proposed; the base branch is never pushed. A canary whose pull request is open is not observed.
 */
export function reviewPublisher(repoDir: string, config: CanarykitConfig, deps: ReviewDeps): Publisher {
  const branchOf = (plan: AnalysisPlan): string => pullRequestBranch(config, plan.namespace, plan.name);
  return {
    awaitingReview: (plan, state) => awaitingReview(deps.pullRequests, branchOf(plan), `${plan.namespace}/${plan.name}`, state),
    wouldPropose: (plan, message) => ({ status: 'would-open', branch: branchOf(plan), title: titleAndBody(message).title }),
    publishTick: (tick) => proposeAll(repoDir, config, deps, tick),
    publishManual: (stage) => proposeManual(repoDir, config, deps, branchOf(stage.entry.plan), stage),
  };
}

/** The outcome of a canary whose pull request is still open, or undefined when none is. */
async function awaitingReview(
  host: PullRequestHost,
  branch: string,
  id: string,
  state: CanaryState | undefined,
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
async function proposeAll(repoDir: string, config: CanarykitConfig, deps: ReviewDeps, tick: DecidedTick): Promise<StepReport> {
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
  await notifyQuiet(tick.quiet, deps);
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

/** A manual transition as a pull request (refused while one is open). */
async function proposeManual(repoDir: string, config: CanarykitConfig, deps: ReviewDeps, branch: string, stage: ManualStage): Promise<ManualResult> {
  const { entry, next, message } = stage;
  const open = await deps.pullRequests.findOpen(branch);
  if (open) {
    throw new TransitionError(`${stage.canary} has pull request #${open.number} open (${open.url}); merge or close it first, then run ${stage.command} again`);
  }
  const title = titleAndBody(message).title;
  if (stage.dryRun) return { pushed: false, state: next, pullRequest: { status: 'would-open', branch, title } };
  const start = await deps.git.head();
  const proposed = await proposeStage(
    repoDir,
    { branch, stateFile: entry.plan.stateFile, folder: entry.folder, state: next, message, date: deps.now() },
    { sha: start, cleanPaths: managedPaths(config) },
    deps,
  );
  if (!proposed) return { pushed: false, state: next };
  const { number, url } = proposed.pullRequest;
  return { pushed: true, commit: proposed.commit, state: next, pullRequest: { status: proposed.existing ? 'open' : 'opened', branch, number, url, title } };
}
