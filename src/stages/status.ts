import * as path from 'path';
import { PlanEntry } from './repo-files';
import { CanaryState } from './state';
import { readStateFile } from './state-store';
import { AnalysisPlan } from './plan';
import { hasNewRevision } from './tick';
import { effectiveStrategy } from './weights';

/** One row of `canarykit status`, read from the files in git alone. */
export interface StatusRow {
  canary: string;
  provider: string;
  phase: string;
  weight: number;
  failedChecks: number;
  iterations: number;
  lastTransitionTime?: string;
  /** When the next tick may act: now for a pending new revision, else lastTransition + interval. */
  nextDue?: string;
  paused: boolean;
  suspended: boolean;
  /** A canary revision differs from the primary's and waits for the next tick. */
  pendingRevision: boolean;
}

/** Status of every canary with a plan in the output folder. */
export function readStatus(repoDir: string, entries: readonly PlanEntry[]): StatusRow[] {
  return entries.map(({ plan }) => {
    const state: CanaryState | undefined = readStateFile(path.join(repoDir, plan.stateFile));
    if (!state) {
      return { canary: `${plan.namespace}/${plan.name}`, provider: plan.provider, phase: 'Uninitialized', weight: 0, failedChecks: 0, iterations: 0, paused: false, suspended: plan.suspend, pendingRevision: false };
    }
    const pending = hasNewRevision(plan, state);
    const atRest = state.phase === 'Initialized' || state.phase === 'Succeeded' || state.phase === 'Failed';
    const nextDue = atRest && !pending ? undefined : new Date(Date.parse(state.lastTransitionTime) + plan.analysis.intervalSeconds * 1000).toISOString();
    return {
      canary: `${plan.namespace}/${plan.name}`,
      provider: plan.provider,
      phase: state.phase,
      weight: state.canaryWeight,
      failedChecks: state.failedChecks,
      iterations: shownIterations(plan, state),
      lastTransitionTime: state.lastTransitionTime,
      nextDue: pending && atRest ? state.lastTransitionTime : nextDue,
      paused: state.paused ?? false,
      suspended: plan.suspend,
      pendingRevision: pending,
    };
  });
}

/**
 * The iterations Flagger's status shows. status.go setStatusPhase sets `analysis.iterations - 1`
 * on entering WaitingPromotion: for A/B and blue/green the state file holds that count already
 * (it drives the extra iteration); for the canary strategy it is -1, which only the display shows
 * (a count in the state file is never negative and nothing reads it there).
 */
export function shownIterations(plan: AnalysisPlan, state: CanaryState): number {
  if (state.phase === 'WaitingPromotion' && effectiveStrategy(plan).strategy === 'canary') return plan.analysis.iterations - 1;
  return state.iterations;
}

/** Fixed-width table for people. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
