import * as path from 'path';
import { CanarykitConfig } from '../adapters/config';
import { pauseForTest } from '../adapters/test-pause';
import { writeStateFile } from '../model/state-store';
import { notifyAfterPush, notifyQuiet } from './notify';
import type { DecidedTick, ManualResult, ManualStage, Publisher } from './publish';
import { stageCommitMessage } from './stage-commit';
import { DriverDeps, StepReport } from './tick-types';

/**
 * Push mode: the states are written, the output synthesized, one commit per changed canary plus a
 * sync commit, one push; hooks and alerts after the push.
 */
export function pushPublisher(repoDir: string, config: CanarykitConfig, deps: DriverDeps): Publisher {
  return {
    awaitingReview: async () => undefined,
    wouldPropose: () => undefined,
    publishTick: (tick) => publishTick(repoDir, config, deps, tick),
    publishManual: (stage) => publishManual(deps, stage),
  };
}

async function publishTick(repoDir: string, config: CanarykitConfig, deps: DriverDeps, tick: DecidedTick): Promise<StepReport> {
  const { outcomes, pending, quiet, attempt, now } = tick;
  for (const p of pending) writeStateFile(path.join(repoDir, p.entry.plan.stateFile), p.decision.state);
  await pauseForTest('state-written');
  // The app is what the output was synthesized from (by this tick's first synth, or by canarykit's
  // own head commit): only the written state files changed.
  const wrote = pending.length > 0 ? await deps.synth({ canaries: pending.map((p) => `${p.entry.plan.namespace}/${p.entry.plan.name}`) }) : undefined;
  await pauseForTest('synthesized');
  // Manifests that changed with the app but not with a stage (a new port, a new canary, a removed
  // one) are committed too, so the output folder never lags behind the app and the state files.
  // Without a synth this tick nothing under the output folder can have changed, nor when the
  // stage's synth wrote only the staged canaries' folders (committed with their stages). All of
  // the tick's commits are made by one git fast-import (GitWorkspace.commitAll).
  const sync = tick.synthesized || (pending.length > 0 && !wrote?.onlyScoped);
  const syncMessage = `canarykit: sync ${config.outdir}/ with the app and the state files`;
  const shas = await deps.git.commitAll([
    ...pending.map((p) => ({ message: stageCommitMessage(p.decision, p.lines, p.checks, p.extras), paths: [p.entry.plan.stateFile, p.entry.folder], date: now })),
    ...(sync ? [{ message: syncMessage, paths: [config.outdir] }] : []),
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

async function publishManual(deps: DriverDeps, stage: ManualStage): Promise<ManualResult> {
  const { entry, file, next, message } = stage;
  if (stage.dryRun) return { pushed: false, state: next };
  writeStateFile(file, next);
  await deps.synth();
  const commit = (await deps.git.commit({ message, paths: [entry.plan.stateFile, entry.folder], date: deps.now() })) ?? undefined;
  await deps.git.push();
  return { pushed: true, commit, state: next };
}
