import { IdleReason } from './action';
import { gatesFor, Move, nextMove } from './moves';
import {
  MetricResult,
  ObservationRequest,
  ObservationStep,
  Observations,
  Readiness,
  RouteAcceptance,
  TickStage,
  WebhookResult,
} from '../model/observations';
import { isAtRest } from '../model/phase';
import { AnalysisPlan, PlannedMetric, PlannedWebhook, WebhookType } from '../model/plan';
import { CanaryState } from '../model/state';
import { assertNever } from '../model/never';

/**
 * Which part of Flagger's tick (reference §3.2) a state is in, whether it is due, and which
 * observations it needs in which order. Shared by `observationsNeeded` and `decide`, so the
 * observations asked for are exactly the ones the decision reads.
 *
 * When a tick is due (git-ops translation of Flagger's fixed-period job):
 * - a state at rest (Initialized / Succeeded / Failed) with a new revision, and a run whose
 *   revision changed (restart), are due at once: detection needs no interval to elapse;
 * - a detection that held (a quiet tick since the last transition) and a suspended canary are due
 *   once per interval, as Flagger's ticker;
 * - every other state is due once `intervalSeconds` have passed since `lastTransitionTime`.
 *   Ticks that change nothing do not move `lastTransitionTime`, so a state waiting for readiness
 *   or a gate is re-examined on every driver run after that; a counted failed check or a move
 *   restarts the interval, so checks are counted at most once per interval, as in Flagger.
 */
export interface TickPlan {
  stage: TickStage;
  due: boolean;
  dueAt?: string;
  /** Set when the stage is `idle`. */
  idle?: IdleReason;
  why: string;
  steps: ObservationStep[];
  /** Set when the stage is `analysis`: the move an all-green tick makes. */
  move?: Move;
}

/** A new revision waits to start: neither the one last applied nor the one the primary runs (§3.9). */
export function hasNewRevision(plan: AnalysisPlan, state: CanaryState): boolean {
  return plan.canary.revision !== state.canaryRevision && plan.canary.revision !== state.primary.revision;
}

/** Failed checks that trigger a rollback (Flagger treats threshold <= 0 as 1). */
export function failureThreshold(plan: AnalysisPlan): number {
  return Math.max(1, plan.analysis.threshold);
}

/** The first analysis tick runs pre-rollout hooks only (§3.2 step 22). */
export function isFirstAnalysisTick(plan: AnalysisPlan, state: CanaryState): boolean {
  return state.canaryWeight === 0 && state.iterations === 0 && !(plan.analysis.mirror && state.mirror);
}

/**
 * The idle reasons classifyTick gives from the plan and the state alone, read before the clock and
 * the tick cache (a paused canary; one at rest without a new revision): such a tick's outcome is a
 * function of (plan, state), which the driver's resting-canary index relies on (issue 14).
 */
export const PLAN_AND_STATE_IDLE: ReadonlySet<IdleReason> = new Set<IdleReason>(['paused', 'no-new-revision']);

/** Classifies a tick; see TickPlan for the due rules. */
export function planTick(plan: AnalysisPlan, state: CanaryState | undefined, now: Date, lastTick?: string): TickPlan {
  const tick = classifyTick(plan, state, now, lastTick);
  // A Service target has no workload: service_controller.go IsPrimaryReady/IsCanaryReady answer ready at once.
  return plan.workloadKind === 'Service' ? { ...tick, steps: tick.steps.filter((s) => s.kind !== 'readiness') } : tick;
}

function classifyTick(plan: AnalysisPlan, state: CanaryState | undefined, now: Date, lastTick?: string): TickPlan {
  if (!state) return ready('bootstrap', 'no state yet: write the initial state', []);
  // scheduler.go advanceCanary returns at once for a suspended canary, recording an event on every
  // ticker tick: due once per interval, observing nothing.
  if (plan.suspend) return afterInterval(plan, state, now, lastTick, ready('suspended', 'the canary is suspended', []));
  if (state.paused) return idle('paused', 'the canary is paused (canarykit resume to continue)');
  const primary = readinessStep('primary');
  const canary = readinessStep('canary');
  const skip = plan.skipAnalysis;
  // scheduler.go advanceCanary: the primary check (unless skipAnalysis), then GetRoutes, then the rest.
  const routed = [...(skip ? [] : [primary]), ...routeSteps(plan)];
  switch (state.phase) {
    case 'Initializing':
      // setPhaseInitialized runs before shouldAdvance and GetRoutes: initialization is not gated by the route.
      // scheduler.go checks the metric providers first on every tick while Initializing (not with skipAnalysis).
      return afterInterval(plan, state, now, lastTick, ready('initializing', 'waiting for the primary to become ready', skip ? [] : [providersStep(plan), primary]));
    case 'Initialized':
    case 'Succeeded':
    case 'Failed': {
      if (!hasNewRevision(plan, state)) return idle('no-new-revision', `at rest in ${state.phase}: no new revision`);
      const start = ready('start', `new revision ${plan.canary.revision} detected`, [...routed, ...hooks(plan, 'confirm-rollout')]);
      // Detected at once; a detection that held (primary not ready, route not accepted) is retried
      // once per interval, as Flagger's ticker would.
      return heldSinceTransition(state, lastTick) ? afterInterval(plan, state, now, lastTick, start) : start;
    }
    case 'Waiting':
      return afterInterval(plan, state, now, lastTick, ready('start', 'waiting for confirm-rollout approval', [...routed, ...hooks(plan, 'confirm-rollout')]));
    case 'Progressing':
    case 'WaitingPromotion':
      return analysisTick(plan, state, now, lastTick);
    case 'Promoting':
      return afterInterval(plan, state, now, lastTick, skip ? ready('skip', 'skipAnalysis: promote at once', [...routed, canary]) : ready('promoting', 'shifting traffic back to the primary', [...routed, canary]));
    case 'Finalising':
      return afterInterval(plan, state, now, lastTick, skip ? ready('skip', 'skipAnalysis: promote at once', [...routed, canary]) : ready('finalising', 'finishing the promotion', [...routed, canary]));
    default:
      return assertNever(state.phase);
  }
}

function analysisTick(plan: AnalysisPlan, state: CanaryState, now: Date, lastTick?: string): TickPlan {
  const primary = readinessStep('primary');
  const canary = readinessStep('canary');
  const routed = [...(plan.skipAnalysis ? [] : [primary]), ...routeSteps(plan)];
  // spec.go hasSpecChanged: a target reverted to the promoted spec is no change ("do not trigger a
  // canary deployment on manual rollback"), so the run continues; any other revision restarts it.
  if (plan.canary.revision !== state.canaryRevision && plan.canary.revision !== state.primary.revision) {
    const restart = ready('restart', `revision changed to ${plan.canary.revision} mid-run`, routed);
    return heldSinceTransition(state, lastTick) ? afterInterval(plan, state, now, lastTick, restart) : restart;
  }
  if (plan.skipAnalysis) return afterInterval(plan, state, now, lastTick, ready('skip', 'skipAnalysis: promote at once', [...routed, canary]));
  const base = [...routed, canary, ...hooks(plan, 'rollback')];
  if (state.failedChecks >= failureThreshold(plan)) {
    return afterInterval(plan, state, now, lastTick, ready('threshold', `failed checks threshold ${failureThreshold(plan)} reached`, base));
  }
  const checks = isFirstAnalysisTick(plan, state)
    ? hooks(plan, 'pre-rollout')
    : [...hooks(plan, 'rollout'), ...plan.metrics.map((metric): ObservationStep => ({ kind: 'metric', metric }))];
  const move = nextMove(plan, state);
  const gates = gatesFor(state, move).flatMap((gate) => hooks(plan, gate));
  const tick = ready('analysis', `analysis (next: ${move.kind})`, [...base, ...checks, ...gates]);
  return afterInterval(plan, state, now, lastTick, { ...tick, move });
}

/**
 * Which observations the driver must make now, in order (reference §3.2). Run the steps in order
 * and stop as soon as `endsTick(request.steps, observations)` is true: later steps would not be
 * read, and Flagger would not have made those calls (e.g. no rollout hooks for a canary that is not
 * ready, no gate after a failed metric).
 */
export function observationsNeeded(plan: AnalysisPlan, state: CanaryState | undefined, now: Date, lastTick?: string): ObservationRequest {
  const tick = planTick(plan, state, now, lastTick);
  const steps = tick.due ? tick.steps : [];
  const webhookTypes: WebhookType[] = [];
  for (const step of steps) {
    if (step.kind === 'webhook' && !webhookTypes.includes(step.webhook.type)) webhookTypes.push(step.webhook.type);
  }
  return {
    dueNow: tick.due,
    ...(tick.dueAt === undefined ? {} : { dueAt: tick.dueAt }),
    stage: tick.stage,
    why: tick.why,
    steps,
    primaryReadiness: steps.some((s) => s.kind === 'readiness' && s.workload === 'primary'),
    canaryReadiness: steps.some((s) => s.kind === 'readiness' && s.workload === 'canary'),
    webhookTypes,
    metrics: steps.some((s) => s.kind === 'metric'),
  };
}

/** The first step whose result is not a pass: it decides the tick. */
export type StepVerdict =
  | { kind: 'pass' }
  | { kind: 'missing'; what: string }
  | { kind: 'not-ready'; workload: 'primary' | 'canary'; readiness: Extract<Readiness, { ready: false }> }
  /** The routing object is not accepted at its generation, or its status could not be seen. */
  | { kind: 'route'; acceptance: Extract<RouteAcceptance, { accepted: false }> }
  /** A failed webhook, or a successful rollback webhook. */
  | { kind: 'webhook'; webhook: PlannedWebhook; result: WebhookResult }
  | { kind: 'metric'; metric: PlannedMetric; result: MetricResult };

/**
 * Reads the observations in step order. The k-th webhook step reads `observations.webhooks[k]`
 * and the k-th metric step `observations.metrics[k]`; a result whose name does not match its step
 * counts as missing.
 */
export function readSteps(steps: readonly ObservationStep[], observations: Observations): StepVerdict {
  let webhookIndex = 0;
  let metricIndex = 0;
  for (const step of steps) {
    const verdict = readStep(step, observations, step.kind === 'webhook' ? webhookIndex++ : step.kind === 'metric' ? metricIndex++ : 0);
    if (verdict.kind !== 'pass') return verdict;
  }
  return { kind: 'pass' };
}

/** True once the observations gathered so far decide the tick: the driver stops observing. */
export function endsTick(steps: readonly ObservationStep[], observations: Observations): boolean {
  const verdict = readSteps(steps, observations);
  return verdict.kind !== 'pass' && verdict.kind !== 'missing';
}

function readStep(step: ObservationStep, observations: Observations, index: number): StepVerdict {
  switch (step.kind) {
    case 'readiness': {
      const readiness = observations[step.workload];
      if (!readiness) return { kind: 'missing', what: `${step.workload} readiness` };
      return readiness.ready ? { kind: 'pass' } : { kind: 'not-ready', workload: step.workload, readiness };
    }
    case 'providers':
      // Flagger records the outcome as an event and goes on either way.
      return { kind: 'pass' };
    case 'route': {
      const acceptance = observations.route;
      if (!acceptance) return { kind: 'missing', what: `HTTPRoute ${step.route.name}.${step.route.namespace} status` };
      return acceptance.accepted ? { kind: 'pass' } : { kind: 'route', acceptance };
    }
    case 'webhook': {
      const result = observations.webhooks[index];
      const hook = step.webhook;
      if (!result || result.name !== hook.name || result.type !== hook.type) return { kind: 'missing', what: `${hook.type} webhook ${hook.name}` };
      // A rollback hook that answers OK asks for a rollback; every other blocking hook must answer OK.
      const decisive = hook.type === 'rollback' ? result.ok : !result.ok;
      return decisive ? { kind: 'webhook', webhook: hook, result } : { kind: 'pass' };
    }
    case 'metric': {
      const result = observations.metrics[index];
      if (!result || result.metric !== step.metric.name) return { kind: 'missing', what: `metric ${step.metric.name}` };
      return result.outcome === 'pass' ? { kind: 'pass' } : { kind: 'metric', metric: step.metric, result };
    }
    default:
      return assertNever(step);
  }
}

function readinessStep(workload: 'primary' | 'canary'): ObservationStep {
  return { kind: 'readiness', workload };
}

/** scheduler_metrics.go checkMetricProviderAvailability: built-in metrics and MetricTemplates, not inline queries. */
function providersStep(plan: AnalysisPlan): ObservationStep {
  return { kind: 'providers', metrics: plan.metrics.filter((m) => m.builtin || m.template) };
}

/** The provider's routing object, when it has one whose status gates the tick (plan.route). */
function routeSteps(plan: AnalysisPlan): ObservationStep[] {
  return plan.route ? [{ kind: 'route', route: plan.route }] : [];
}

function hooks(plan: AnalysisPlan, type: WebhookType): ObservationStep[] {
  return plan.webhooks.filter((w) => w.type === type).map((webhook) => ({ kind: 'webhook', webhook }));
}

function ready(stage: TickStage, why: string, steps: ObservationStep[]): TickPlan {
  return { stage, due: true, why, steps };
}

function idle(reason: IdleReason, why: string): TickPlan {
  return { stage: 'idle', due: false, idle: reason, why, steps: [] };
}

/** A quiet due tick ran since the state's last transition (the tick cache says when). */
function heldSinceTransition(state: CanaryState, lastTick: string | undefined): boolean {
  if (lastTick === undefined) return false;
  const last = Date.parse(lastTick);
  return !Number.isNaN(last) && last >= Date.parse(state.lastTransitionTime);
}

/**
 * Makes a tick wait for Flagger's fixed cadence (job.go: one tick per analysis interval): due
 * intervalSeconds after the last transition, then once per interval after that. `lastTick` is when
 * a tick that committed nothing last ran (the driver's local cache, tick-cache.ts); without it
 * every driver run after the first slot is due, so a lost cache costs at most one extra tick.
 */
/** Epoch ms from which a tick waiting for the interval may act (NaN: unparsable, act now). */
function intervalDueAt(plan: AnalysisPlan, state: CanaryState, lastTick: string | undefined): number {
  const interval = Math.max(1, plan.analysis.intervalSeconds) * 1000;
  const since = Date.parse(state.lastTransitionTime);
  const last = lastTick === undefined ? NaN : Date.parse(lastTick);
  // The slot after the one the last quiet tick ran in; only ticks since the last transition count.
  const slots = !Number.isNaN(last) && last >= since ? Math.floor((last - since) / interval) + 1 : 1;
  return since + slots * interval;
}

/**
 * When the next tick may act on this state (what `canarykit status` shows): at rest, at once for a
 * pending new revision and never otherwise (undefined); else after the interval, as planTick.
 */
export function nextDueTime(plan: AnalysisPlan, state: CanaryState, lastTick?: string): string | undefined {
  if (isAtRest(state.phase)) return hasNewRevision(plan, state) ? state.lastTransitionTime : undefined;
  const dueAt = intervalDueAt(plan, state, lastTick);
  return Number.isNaN(dueAt) ? undefined : new Date(dueAt).toISOString();
}

function afterInterval(plan: AnalysisPlan, state: CanaryState, now: Date, lastTick: string | undefined, tick: TickPlan): TickPlan {
  const dueAt = intervalDueAt(plan, state, lastTick);
  // An unparsable timestamp cannot block progress: treat the tick as due.
  if (Number.isNaN(dueAt) || now.getTime() >= dueAt) return tick;
  const at = new Date(dueAt).toISOString();
  return { stage: 'idle', due: false, dueAt: at, idle: 'not-due', why: `next tick due at ${at} (${tick.why})`, steps: [] };
}
