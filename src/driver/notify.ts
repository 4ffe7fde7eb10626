import { alertContext, alertsFor, withDefaultNotifier } from '../adapters/alerts/routing';
import { FlaggerEvent, postRolloutEvent, tickEvents } from '../machine/flagger-events';
import { payloadChecksum } from '../adapters/webhooks/hook-context';
import { Decision } from '../machine/action';
import { Observations, emptyObservations } from '../model/observations';
import { AnalysisPlan } from '../model/plan';
import { CanaryState } from '../model/state';
import type { WebhookContext } from '../adapters/webhooks/call';
import type { DriverDeps, QuietTick } from './tick-types';

/** What the tick saw before deciding: the state it started from and its observations. */
export interface TickSeen {
  state: CanaryState | undefined;
  observations: Observations;
  /** When the tick ran (the decision's `now`) and the cached last quiet tick it was decided with. */
  now?: Date;
  lastTick?: string;
}

/**
 * The non-blocking side of a decided tick, as Flagger does it during its tick: every recorded
 * event to the `event` webhooks (events.go sendEventToWebhook, Flagger's wording and phases,
 * flagger-events.ts), post-rollout hooks when the run ended (each followed by its event), then the
 * alerts (alerts.ts). Called after the stage is pushed, or at the end of a tick that committed
 * nothing (a closed confirm-traffic-increase gate alerts on every such tick). Failures are logged
 * only, as in Flagger.
 */
/** The adapters notification goes through: the tick's webhook caller and alert sender (injected, tick-types.ts). */
export type NotifyDeps = Pick<DriverDeps, 'now' | 'log' | 'callWebhook' | 'sendAlerts' | 'notifications'>;

export async function notifyTick(plan: AnalysisPlan, decision: Decision, seen: TickSeen, deps: NotifyDeps): Promise<void> {
  const log = (r: { ok: boolean; message: string }): void => {
    if (!r.ok) deps.log(`${plan.namespace}/${plan.name}: ${r.message} (ignored)`);
  };
  const events = tickEvents(plan, seen.state, seen.observations, decision, seen.now ?? deps.now(), seen.lastTick);
  const notifications = deps.notifications;
  // events.go sendEventToWebhook: the controller's -event-webhook only for canaries without an event hook.
  const own = plan.webhooks.filter((h) => h.type === 'event');
  const eventHooks = own.length > 0 ? own : notifications?.eventWebhook ? [notifications.eventWebhook] : [];
  const hasEventHooks = eventHooks.length > 0;
  const emit = async (e: FlaggerEvent, state: CanaryState | undefined): Promise<void> => {
    if (!hasEventHooks) return;
    const ctx: WebhookContext = {
      name: plan.name,
      namespace: plan.namespace,
      phase: e.phase,
      checksum: payloadChecksum(plan, state),
      event: { message: e.message, type: e.type, timestamp: deps.now().getTime() },
    };
    // events.go sendEventToWebhook: every event hook, whatever the others answered.
    for (const hook of eventHooks) log(await deps.callWebhook(hook, ctx));
  };
  for (const e of events.before) await emit(e, seen.state);
  if (events.postRollout) {
    const ctx: WebhookContext = { name: plan.name, namespace: plan.namespace, phase: events.postRollout.payloadPhase, checksum: payloadChecksum(plan, decision.state) };
    // scheduler_hooks.go runPostRolloutHooks: in spec order, each call followed by its event, stop at the first failure.
    for (const hook of plan.webhooks.filter((h) => h.type === 'post-rollout')) {
      const result = await deps.callWebhook(hook, ctx);
      log(result);
      await emit(postRolloutEvent(hook.name, result, events.postRollout.eventPhase), decision.state);
      if (!result.ok) break;
    }
  }
  for (const e of events.after) await emit(e, decision.state);
  const context = alertContext(decision);
  // events.go alert: a canary without analysis.alerts alerts through the controller's notifier.
  const alerting = withDefaultNotifier(plan, notifications?.defaultNotifier);
  if (alertsFor(alerting, decision.events, context).length === 0) return;
  // Loaded on use by default: most ticks of a fleet alert nothing (issue 14).
  const send = deps.sendAlerts ?? (await import('../adapters/alerts/sending')).sendAlerts;
  const opts = { context, ...(notifications?.clusterName ? { clusterName: notifications.clusterName } : {}), ...(notifications?.defaultNotifier ? { defaultNotifier: notifications.defaultNotifier } : {}) };
  (await send(alerting, decision.events, opts)).forEach(log);
}

/** A tick seen without observations (manual transitions, callers that kept none). */
export function unseen(state: CanaryState | undefined): TickSeen {
  return { state, observations: emptyObservations() };
}

/** Events and alerts of due ticks that committed nothing; sent once the tick's pushes are done. */
export async function notifyQuiet(quiet: readonly QuietTick[], deps: NotifyDeps): Promise<void> {
  for (const q of quiet) await notifyTick(q.plan, q.decision, q.seen, deps);
}

/**
 * Non-blocking hooks and alerts of a decision, after the step is on the remote. Without `seen`,
 * event webhooks get only the events the decision itself implies.
 */
export async function notifyAfterPush(plan: AnalysisPlan, decision: Decision, deps: NotifyDeps, seen?: TickSeen): Promise<void> {
  await notifyTick(plan, decision, seen ?? unseen(undefined), deps);
}

