import { Decision } from '../../machine/action';
import { AlertSeverity, AnalysisPlan, PlannedAlert, WebhookType } from '../../model/plan';
import { DefaultNotifier } from '../../model/driver-settings';
import { FLAGGER_MESSAGES, Reason, Severity, StageEvent } from '../../model/reasons';

/** Alert routing (Flagger's AlertProviders, reference §1.4 and §6): which events go to which alert. Pure. */

/**
 * What Flagger does with each reason: `fields` = alert with the canary's fields attached, `plain` =
 * alert with the message only, `false` = Kubernetes event only, never an alert (weight steps,
 * failed checks, readiness waits...). Exhaustive, so a new reason has to be classified here.
 */
export const ALERT_KIND = {
  Initializing: false,
  Initialized: 'fields',
  NewRevision: 'fields',
  Restarted: false,
  WaitingForApproval: 'plain',
  ReadinessWait: false,
  // scheduler.go records GetRoutes errors as events only.
  RouteNotReady: false,
  MirrorStarted: false,
  WeightIncreased: false,
  IterationAdvanced: false,
  TrafficSwitched: false,
  MetricCheckFailed: false,
  NoMetricData: false,
  MetricError: false,
  WebhookFailed: false,
  ThresholdReached: 'plain',
  RollbackRequested: 'plain',
  // scheduler.go sends "Progress deadline exceeded" only on paths a not-ready canary never reaches
  // (IsCanaryReady returns before them), so a deadline rollback sends no alert of its own.
  ProgressDeadlineExceeded: false,
  RolledBack: false,
  Promoted: false,
  PromotionTrafficShifted: false,
  Finalised: false,
  Succeeded: 'plain',
  AnalysisSkipped: 'plain',
  PromotionFailed: 'plain',
  ObservationMissing: false,
} as const satisfies Record<Reason, 'fields' | 'plain' | false>;

/** What the decision knew beyond its events. */
export interface AlertContext {
  /** The confirm-* webhook whose closed gate produced a WaitingForApproval event (for muteAlert). */
  webhook?: string;
}

/** The context `alertsFor` needs from a decision. */
export function alertContext(decision: Decision): AlertContext {
  return { webhook: decision.action.type === 'wait' ? decision.action.webhook : undefined };
}

/** Flagger's routing: `info` receives everything, `warn` warn and error, `error` only errors. */
export function receives(alert: AlertSeverity, event: Severity): boolean {
  switch (alert) {
    case 'info':
      return true;
    case 'warn':
      return event === 'warn' || event === 'error';
    case 'error':
      return event === 'error';
    default:
      return false;
  }
}

export interface AlertDelivery {
  alert: PlannedAlert;
  event: StageEvent;
}

/**
 * The plan as the alert sender sees it: a canary without `analysis.alerts` gets the controller's
 * default notifier (src: pkg/controller/events.go alert, "send alert with the global notifier").
 */
export function withDefaultNotifier(plan: AnalysisPlan, notifier: DefaultNotifier | undefined): AnalysisPlan {
  if (!notifier || (plan.alerts ?? []).length > 0) return plan;
  return { ...plan, alerts: [notifier.alert] };
}

/** The (alert, event) pairs to send, event by event in order, each to the alerts in plan order. */
export function alertsFor(plan: AnalysisPlan, events: readonly StageEvent[], context: AlertContext = {}): AlertDelivery[] {
  const alerts = plan.alerts ?? [];
  const out: AlertDelivery[] = [];
  for (const event of events) {
    if (!isAlerted(plan, event, context)) continue;
    for (const alert of alerts) if (receives(alert.severity, event.severity)) out.push({ alert, event });
  }
  return out;
}

function isAlerted(plan: AnalysisPlan, event: StageEvent, context: AlertContext): boolean {
  if (!ALERT_KIND[event.reason]) return false;
  if (event.reason === 'WaitingForApproval') return !muted(plan, event, context);
  return true;
}

const GATE_OF_MESSAGE: Record<string, WebhookType> = {
  [FLAGGER_MESSAGES.waitingRollout]: 'confirm-rollout',
  [FLAGGER_MESSAGES.waitingPromotion]: 'confirm-promotion',
  [FLAGGER_MESSAGES.waitingTrafficIncrease]: 'confirm-traffic-increase',
};

/** `muteAlert` on the closed gate's webhook (or, not knowing which one, on every hook of the gate). */
function muted(plan: AnalysisPlan, event: StageEvent, context: AlertContext): boolean {
  const hooks = context.webhook
    ? plan.webhooks.filter((h) => h.name === context.webhook)
    : plan.webhooks.filter((h) => h.type === GATE_OF_MESSAGE[event.message]);
  return hooks.length > 0 && hooks.every((h) => h.muteAlert === true);
}

// ---------------------------------------------------------------------------------------------
// Payloads (pure)
