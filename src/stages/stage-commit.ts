import { buildCommitMessage } from './commit-message';
import { Action, Decision } from './machine-action';
import { CheckResult, describeCheck } from './metric-check';
import { PlannedWebhook } from './plan';
import { WebhookResult } from './webhooks';

const short = (rev: string): string => rev.slice(0, 8);

/** The imperative subject and optional reason of a stage commit. */
export function describeAction(action: Action, weight: number): { subject: string; reason?: string } {
  switch (action.type) {
    case 'none':
      return { subject: 'no change', reason: action.message };
    case 'initialize':
      return { subject: 'initialize' };
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
    case 'hold':
      return { subject: `hold at weight ${weight}`, reason: action.message };
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
export function checkLines(checks: readonly CheckResult[], hooks: readonly { hook: PlannedWebhook; result: WebhookResult }[]): string[] {
  return [
    ...hooks.map(({ hook, result }) => `${hook.type} ${result.message}${result.ok ? '' : ' (failed)'}`),
    ...checks.map(describeCheck),
  ];
}

/** The full commit message of one decision. */
export function stageCommitMessage(decision: Decision, lines: string[]): string {
  const s = decision.state;
  const { subject, reason } = describeAction(decision.action, s.canaryWeight);
  return buildCommitMessage({
    namespace: s.namespace,
    name: s.name,
    subject,
    reason,
    checks: [...lines, ...decision.events.map((e) => `${e.reason}: ${e.message}`)],
    trailers: { phase: s.phase, weight: s.canaryWeight, revision: s.canaryRevision, failedChecks: s.failedChecks },
  });
}
