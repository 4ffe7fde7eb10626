import { Decision } from './action';
import { MetricResult, ObservationStep, Observations, Readiness, WebhookResult } from '../model/observations';
import { Phase } from '../model/phase';
import { AnalysisPlan, PlannedMetric } from '../model/plan';
import { CanaryState } from '../model/state';
import { isFirstAnalysisTick, planTick } from './tick';
import { assertNever } from '../model/never';

/**
 * The Kubernetes events Flagger v1.44.0 records during one tick (events.go recordEvent*), which it
 * forwards to `event` webhooks: the exact wording of scheduler.go, scheduler_hooks.go and
 * scheduler_metrics.go, with the phase of the canary object each one is recorded on. Pure: derived
 * from the plan, the state before the tick, what was observed and what was decided.
 *
 * Post-rollout hooks run in the middle (after "Canary failed!", before "Promotion completed!"); the
 * driver calls them and adds `postRolloutEvent` lines, so `TickEvents` is split around them.
 */

/** One recorded event: what an `event` webhook receives as eventMessage/eventType and phase. */
export interface FlaggerEvent {
  message: string;
  type: 'Normal' | 'Warning';
  phase: Phase;
}

export interface TickEvents {
  /** Events up to the post-rollout hooks (all of them when the run does not end). */
  before: FlaggerEvent[];
  /** Set when the run ended: post-rollout hooks are called with `payloadPhase`, their events recorded on `eventPhase`. */
  postRollout?: { payloadPhase: Phase; eventPhase: Phase };
  /** Events after the post-rollout hooks. */
  after: FlaggerEvent[];
}

/** Flagger's event for one post-rollout hook call (scheduler_hooks.go runPostRolloutHooks). */
export function postRolloutEvent(hook: string, result: { ok: boolean; message: string }, phase: Phase): FlaggerEvent {
  return result.ok
    ? { message: `Post-rollout check ${hook} passed`, type: 'Normal', phase }
    : { message: `Post-rollout hook ${hook} failed ${result.message}`, type: 'Warning', phase };
}

/** The events of one decided tick, in the order Flagger records them. */
export function tickEvents(plan: AnalysisPlan, prior: CanaryState | undefined, observations: Observations, decision: Decision, now: Date, lastTick?: string): TickEvents {
  const out: TickEvents = { before: [], after: [] };
  // Bootstrap (no state yet) records nothing in Flagger either; a caller without the prior state
  // still gets the events the decision implies.
  if (!prior && decision.action.type === 'initialize') return out;
  const state = prior ?? decision.state;
  const names = nameOf(plan);
  const phase = state.phase;
  const normal = (message: string, at: Phase = phase): FlaggerEvent => ({ message, type: 'Normal', phase: at });
  const warning = (message: string, at: Phase = phase): FlaggerEvent => ({ message, type: 'Warning', phase: at });
  const tick = planTick(plan, state, now, lastTick);
  const push = (e: FlaggerEvent): void => void out.before.push(e);
  if (tick.due && prior && tick.stage === 'suspended') push(normal('skipping canary run as object is suspended'));
  const analysis = tick.stage === 'analysis';
  let started = false;
  const startAnalysis = (): void => {
    if (analysis && !started && isFirstAnalysisTick(plan, state)) push(normal(`Starting canary analysis for ${names.target}`));
    started = true;
  };
  let webhookIndex = 0;
  let metricIndex = 0;
  let stopped = false;
  for (const step of tick.due && prior ? tick.steps : []) {
    if (isAnalysisCheck(step)) startAnalysis();
    const line = stepEvents(plan, state, step, observations, step.kind === 'webhook' ? webhookIndex++ : step.kind === 'metric' ? metricIndex++ : 0);
    line.events.forEach(push);
    if (line.stop) {
      stopped = true;
      break;
    }
  }
  if (!stopped && tick.due && prior) startAnalysis();
  const action = decision.action;
  switch (action.type) {
    case 'initialize':
      if (phase === 'Initializing') push(normal(`Initialization done! ${names.canary}`, 'Initialized'));
      break;
    case 'start':
      push(normal(`New revision detected! Scaling up ${names.target}`, 'Progressing'));
      break;
    case 'restart':
      push(normal(`New revision detected! Restarting analysis for ${names.target}`));
      break;
    case 'mirror':
      push(normal(`Advance ${names.canary} canary weight 0`));
      break;
    case 'advance':
      push(normal(`Advance ${names.canary} canary weight ${action.to}`));
      break;
    case 'iterate':
      push(normal(`Advance ${names.canary} canary iteration ${action.n}/${action.of}`));
      break;
    case 'cutover':
      if (plan.routing.shiftsWeights) push(normal(plan.analysis.mirror ? 'Stop traffic mirroring and route all traffic to canary' : 'Routing all traffic to canary'));
      break;
    case 'promote':
      push(normal(`Copying ${names.target} template spec to ${names.primary}`));
      break;
    case 'promotion-step':
      push(normal(`Advance ${names.canary} primary weight ${100 - action.to}`));
      break;
    case 'finalise':
      if (plan.routing.shiftsWeights) {
        push(normal(plan.analysis.stepWeightPromotion > 0 ? `Advance ${names.canary} primary weight 100` : 'Routing all traffic to primary'));
      }
      break;
    case 'succeed':
      out.postRollout = { payloadPhase: 'Succeeded', eventPhase: 'Succeeded' };
      out.after.push(normal(`Promotion completed! Scaling down ${names.target}`, 'Succeeded'));
      break;
    case 'skip-promote':
      push(normal(`Copying ${names.target} template spec to ${names.primary}`));
      out.postRollout = { payloadPhase: 'Succeeded', eventPhase: 'Succeeded' };
      out.after.push(normal(`Promotion completed! Canary analysis was skipped for ${names.target}`, 'Succeeded'));
      break;
    case 'rollback':
      if (action.reason === 'ThresholdReached') push(warning(`Rolling back ${names.canary} failed checks threshold reached ${state.failedChecks}`));
      push(warning(`Canary failed! Scaling down ${names.canary}`, 'Failed'));
      out.postRollout = { payloadPhase: 'Failed', eventPhase: phase };
      break;
    case 'fail-promotion':
      push(warning(action.message.replace(/^Promotion failed, primary not ready: /, `Promotion of ${names.target} failed, primary not ready: `)));
      out.postRollout = { payloadPhase: 'Failed', eventPhase: phase };
      break;
    case 'none':
    case 'hold':
    case 'wait':
      break;
    default:
      return assertNever(action);
  }
  return out;
}

interface StepLines {
  events: FlaggerEvent[];
  /** The step decided the tick (or was not observed): later steps made no calls. */
  stop: boolean;
}

function stepEvents(plan: AnalysisPlan, state: CanaryState, step: ObservationStep, observations: Observations, index: number): StepLines {
  const names = nameOf(plan);
  const phase = state.phase;
  const normal = (message: string): FlaggerEvent => ({ message, type: 'Normal', phase });
  const warning = (message: string): FlaggerEvent => ({ message, type: 'Warning', phase });
  switch (step.kind) {
    case 'readiness': {
      const r: Readiness | undefined = observations[step.workload];
      if (!r) return { events: [], stop: true };
      if (r.ready) return { events: [], stop: false };
      // deployment_ready.go / daemonset_ready.go IsPrimaryReady / IsCanaryReady error texts ("damonset" is Flagger's spelling).
      const prefix = plan.workloadKind === 'DaemonSet'
        ? step.workload === 'primary' ? `primary daemonset ${names.primary} not ready` : `canary damonset ${names.target} not ready with retryable ${r.retriable}`
        : step.workload === 'primary' ? `${names.primary} not ready` : `canary deployment ${names.target} not ready`;
      return { events: [warning(`${prefix}: ${r.reason}`)], stop: true };
    }
    case 'providers': {
      // scheduler_metrics.go checkMetricProviderAvailability / scheduler.go "Error checking metric providers".
      const p = observations.providers;
      if (!p) return { events: [], stop: false };
      return { events: [p.available ? normal('all the metrics providers are available!') : warning(`Error checking metric providers: ${p.message}`)], stop: false };
    }
    case 'route': {
      // scheduler.go: recordEventWarningf(cd, "%v", err) with GetRoutes' error.
      const r = observations.route;
      if (!r) return { events: [], stop: true };
      return r.accepted ? { events: [], stop: false } : { events: [warning(r.message)], stop: true };
    }
    case 'webhook': {
      const result: WebhookResult | undefined = observations.webhooks[index];
      const hook = step.webhook;
      if (!result || result.name !== hook.name || result.type !== hook.type) return { events: [], stop: true };
      switch (hook.type) {
        case 'confirm-rollout':
          if (result.ok) return { events: [normal(`Confirm-rollout check ${hook.name} passed`)], stop: false };
          return { events: phase === 'Waiting' ? [] : [warning(`Halt ${names.canary} advancement waiting for approval ${hook.name}`)], stop: true };
        case 'pre-rollout':
          if (result.ok) return { events: [normal(`Pre-rollout check ${hook.name} passed`)], stop: false };
          return { events: [warning(`Halt ${names.canary} advancement pre-rollout check ${hook.name} failed ${result.message}`)], stop: true };
        case 'rollout':
          if (result.ok) return { events: [], stop: false };
          return { events: [warning(`Halt ${names.canary} advancement external check ${hook.name} failed ${result.message}`)], stop: true };
        case 'rollback':
          if (!result.ok) return { events: [normal(`Rollback hook ${hook.name} not signaling a rollback`)], stop: false };
          return { events: [warning(`Rollback check ${hook.name} passed`), warning(`Rolling back ${names.canary} manual webhook invoked`)], stop: true };
        case 'confirm-traffic-increase':
          if (result.ok) return { events: [normal(`Confirm-traffic-increase check ${hook.name} passed`)], stop: false };
          return { events: [warning(`Halt ${names.canary} advancement waiting for traffic increase approval ${hook.name}`)], stop: true };
        case 'confirm-promotion':
          if (result.ok) return { events: [normal(`Confirm-promotion check ${hook.name} passed`)], stop: false };
          return { events: phase === 'WaitingPromotion' ? [] : [warning(`Halt ${names.canary} advancement waiting for promotion approval ${hook.name}`)], stop: true };
        case 'post-rollout':
        case 'event':
          return { events: [], stop: false };
        default:
          return assertNever(hook.type);
      }
    }
    case 'metric': {
      const result: MetricResult | undefined = observations.metrics[index];
      if (!result || result.metric !== step.metric.name) return { events: [], stop: true };
      if (result.outcome === 'pass') return { events: [], stop: false };
      return { events: [metricEvent(plan, step.metric, result, phase)], stop: true };
    }
    default:
      return assertNever(step);
  }
}

/** scheduler_metrics.go: the "Halt ... advancement" line of a metric that did not pass. */
export function metricEvent(plan: AnalysisPlan, metric: PlannedMetric, result: MetricResult, phase: Phase): FlaggerEvent {
  const names = nameOf(plan);
  const warning = (message: string): FlaggerEvent => ({ message, type: 'Warning', phase });
  const provider = plan.routing.flaggerName;
  const successRate = metric.builtin && metric.name === 'request-success-rate';
  const duration = metric.builtin && metric.name === 'request-duration';
  if (result.outcome === 'no-data') {
    if (successRate) return warning(`Halt advancement no values found for ${provider} metric ${metric.name} probably ${names.target} is not receiving traffic: no values found`);
    if (duration) return warning(`Halt advancement no values found for ${provider} metric ${metric.name} probably ${names.target} is not receiving traffic`);
    return warning(`Halt advancement no values found for custom metric: ${metric.name}: no values found`);
  }
  if (result.outcome === 'error') {
    return warning(metric.builtin ? `Prometheus query failed: ${result.message}` : `Metric query failed for ${metric.name}: ${result.message}`);
  }
  const value = result.value ?? NaN;
  const { min, max } = metric.thresholdRange;
  const below = metric.threshold !== undefined ? successRate && value < metric.threshold : min !== undefined && value < min;
  const bound = metric.threshold !== undefined ? metric.threshold : below ? min : max;
  const op = below ? '<' : '>';
  if (successRate) return warning(`Halt ${names.canary} advancement success rate ${value.toFixed(2)}% ${op} ${goNumber(bound)}%`);
  if (duration) return warning(`Halt ${names.canary} advancement request duration ${goDuration(value)} ${op} ${goDuration(bound ?? 0)}`);
  return warning(`Halt ${names.canary} advancement ${metric.name} ${value.toFixed(2)} ${op} ${goNumber(bound)}`);
}

/** Go's `%v` of a time.Duration built from whole milliseconds: `500ms`, `1.5s`, `2m3.4s`. */
export function goDuration(ms: number): string {
  const whole = Math.trunc(ms);
  if (whole === 0) return '0s';
  if (Math.abs(whole) < 1000) return `${whole}ms`;
  const sign = whole < 0 ? '-' : '';
  let rest = Math.abs(whole);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = (rest / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function goNumber(n: number | undefined): string {
  return n === undefined ? '<nil>' : String(n);
}

function isAnalysisCheck(step: ObservationStep): boolean {
  if (step.kind === 'metric') return true;
  if (step.kind !== 'webhook') return false;
  const t = step.webhook.type;
  return t === 'pre-rollout' || t === 'rollout' || t === 'confirm-traffic-increase' || t === 'confirm-promotion';
}

function nameOf(plan: AnalysisPlan): { canary: string; target: string; primary: string } {
  return {
    canary: `${plan.name}.${plan.namespace}`,
    target: `${plan.targetName}.${plan.namespace}`,
    primary: `${plan.targetName}-primary.${plan.namespace}`,
  };
}
