import { buildCommitMessage } from '../model/commit-message';
import { Action, Decision } from '../machine/action';
import { CheckResult, describeCheck, shortCheck } from '../adapters/prometheus/metric-check';
import { isRolloutPhase } from '../model/phase';
import { CanaryState } from '../model/state';
import { AnalysisPlan, PlannedWebhook } from '../model/plan';
import { WeightPoint, reviewSections } from './review-body';
import { StageRecord, canaryHistory, runsOf } from '../adapters/git/stage-history';
import { WebhookCallResult } from '../adapters/webhooks/call';

const short = (rev: string): string => rev.slice(0, 8);

/**
 * The imperative subject and optional reason of a stage commit (and of the step's output line).
 * `checks` are this tick's metric results: a hold on a metric is then summarised with its numbers
 * (`request-success-rate 95 < 99`); the full message stays in the commit body.
 */
export function describeAction(
  action: Action,
  state: Pick<CanaryState, 'canaryWeight' | 'phase'>,
  checks: readonly CheckResult[] = [],
): { subject: string; reason?: string } {
  const weight = state.canaryWeight;
  switch (action.type) {
    case 'none':
      return { subject: 'no change', reason: action.message };
    case 'initialize':
      // Two stages share the action: the primary is created, then found ready (Flagger's
      // Initializing and Initialized), and each commit must say which.
      return state.phase === 'Initialized' ? { subject: 'initialized: primary ready' } : { subject: 'initialize: create the primary' };
    case 'start':
      return { subject: `start analysis of rev ${short(action.revision)}` };
    case 'restart':
      return { subject: `restart analysis with new rev ${short(action.revision)}` };
    case 'wait':
      return { subject: `wait for ${action.gate}`, reason: action.message };
    case 'mirror':
      return { subject: 'mirror traffic to the canary' };
    case 'advance':
      return { subject: `advance weight ${action.from} -> ${action.to}` };
    case 'iterate':
      return { subject: `iteration ${action.n}/${action.of}` };
    case 'cutover':
      return { subject: 'route all traffic to the canary' };
    case 'hold': {
      const failed = checks.find((c) => c.metric === action.check && c.outcome !== 'pass');
      return { subject: `hold at weight ${weight}`, reason: failed ? shortCheck(failed) : action.message };
    }
    case 'promote':
      return { subject: `promote rev ${short(action.revision)}` };
    case 'promotion-step':
      return { subject: `return traffic to primary: canary weight ${action.from} -> ${action.to}` };
    case 'finalise':
      return { subject: 'finalise: all traffic on the primary' };
    case 'succeed':
      return { subject: 'succeeded' };
    case 'skip-promote':
      return { subject: `promote rev ${short(action.revision)} (analysis skipped)` };
    case 'rollback':
      return { subject: 'roll back', reason: action.message };
    case 'fail-promotion':
      return { subject: 'promotion failed', reason: action.message };
    default: {
      const never: never = action;
      return never;
    }
  }
}

/** Lines for the commit body: every check and webhook observed this tick. */
export function checkLines(checks: readonly CheckResult[], hooks: readonly { hook: PlannedWebhook; result: WebhookCallResult }[]): string[] {
  return [
    ...hooks.map(({ hook, result }) => `${hook.type} ${result.message}${result.ok ? '' : ' (failed)'}`),
    ...checks.map(describeCheck),
  ];
}

/** What a stage commit carries besides its checks: measured values and the review sections. */
export interface StageExtras {
  metrics: { name: string; value: number }[];
  sections: string[];
}

/**
 * The run's weight history (from the stage commits in `history`, plus the stage being decided),
 * this tick's checks as a table, and links to each metric's graph over the run.
 */
export function stageExtras(
  plan: AnalysisPlan,
  decision: Decision,
  checks: readonly CheckResult[],
  history: readonly StageRecord[],
  now: Date,
  prometheusAddress?: string,
): StageExtras {
  const id = `${plan.namespace}/${plan.name}`;
  const s = decision.state;
  const runs = runsOf(canaryHistory(history, id));
  const last = runs[runs.length - 1];
  const ongoing = last && !last.ended ? last : undefined;
  const points: WeightPoint[] = [];
  if (ongoing || isRolloutPhase(s.phase)) {
    const before = ongoing ? ongoing.before : history.filter((r) => r.canary === id).at(-1);
    if (before) points.push({ time: before.time, phase: before.trailers.phase, weight: before.trailers.weight });
    for (const r of ongoing?.stages ?? []) points.push({ time: r.time, phase: r.trailers.phase, weight: r.trailers.weight });
    points.push({ time: now, phase: s.phase, weight: s.canaryWeight });
  }
  const metrics = checks.flatMap((c) => (c.outcome === 'pass' || c.outcome === 'fail' ? [{ name: c.metric, value: c.value }] : []));
  return { metrics, sections: reviewSections({ canary: id, points, checks, metrics: plan.metrics, prometheusAddress }) };
}

/**
 * The full commit message of one decision; `checks` as for {@link describeAction}, `extras` the
 * review sections of a stage that is committed.
 */
export function stageCommitMessage(decision: Decision, lines: string[], checks: readonly CheckResult[] = [], extras?: StageExtras): string {
  const s = decision.state;
  const { subject, reason } = describeAction(decision.action, s, checks);
  return buildCommitMessage({
    namespace: s.namespace,
    name: s.name,
    subject,
    reason,
    checks: [...lines, ...decision.events.map((e) => `${e.reason}: ${e.message}`)],
    metrics: extras?.metrics,
    sections: extras?.sections,
    trailers: { phase: s.phase, weight: s.canaryWeight, revision: s.canaryRevision, failedChecks: s.failedChecks },
  });
}
