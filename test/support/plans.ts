import { routingFacts } from '../../src/providers/module';
import { PROVIDERS, ProviderName } from '../../src/providers/registry';
import { decide } from '../../src/machine/decide';
import { Decision } from '../../src/machine/action';
import { MetricOutcome, ObservationRequest, Observations, ObservationStep, Readiness, RouteAcceptance, emptyObservations } from '../../src/model/observations';
import { AnalysisPlan, AnalysisSettings, PLAN_API_VERSION, PlannedMetric, PlannedWebhook, WebhookType } from '../../src/model/plan';
import { CanaryState, STATE_API_VERSION } from '../../src/model/state';
import { endsTick, observationsNeeded } from '../../src/machine/tick';

/** Builders for plans, states and observations, plus a fake driver that runs ticks. */

export const T0 = new Date('2024-05-01T10:00:00.000Z');

/** `base` plus `seconds`. */
export function after(base: Date, seconds: number): Date {
  return new Date(base.getTime() + seconds * 1000);
}

export function metric(name: string): PlannedMetric {
  return {
    name,
    query: `sum(rate(${name}[1m]))`,
    interval: '1m',
    thresholdRange: { min: 99 },
    provider: { type: 'prometheus', address: 'http://prometheus:9090' },
    builtin: true,
  };
}

export function hook(name: string, type: WebhookType): PlannedWebhook {
  return { name, type, url: `http://loadtester/${name}`, timeoutSeconds: 10, retries: 0 };
}

/** A workload revision: template and config differ per revision. */
export function workload(revision: string): AnalysisPlan['canary'] {
  return {
    revision,
    template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [{ name: 'podinfo', image: `podinfo:${revision}` }] } },
    workload: { replicas: 2 },
    annotations: { team: 'web' },
    configMaps: { 'podinfo-config': { color: revision } },
  };
}

export type PlanOverrides = Partial<Omit<AnalysisPlan, 'analysis'>> & { analysis?: Partial<AnalysisSettings> };

/** Istio canary, interval 60s, threshold 5, stepWeight 10 up to 50, two metrics, canary at rev-2. */
export function makePlan(overrides: PlanOverrides = {}): AnalysisPlan {
  const { analysis, ...rest } = overrides;
  return {
    apiVersion: PLAN_API_VERSION,
    kind: 'AnalysisPlan',
    namespace: 'test',
    name: 'podinfo',
    targetName: 'podinfo',
    serviceName: 'podinfo',
    provider: 'istio',
    // The facts the construct writes for the provider (providers/module.ts routingFacts).
    routing: routingFacts(PROVIDERS[(rest.provider ?? 'istio') as ProviderName].capabilities),
    strategy: 'canary',
    skipAnalysis: false,
    suspend: false,
    progressDeadlineSeconds: 600,
    metricsServer: 'http://prometheus:9090',
    metrics: [metric('request-success-rate'), metric('request-duration')],
    webhooks: [],
    canary: workload('rev-2'),
    replicas: { canary: 2, primary: 2 },
    stateFile: 'state/test/podinfo.json',
    ...rest,
    analysis: {
      intervalSeconds: 60,
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
      stepWeights: [],
      stepWeightPromotion: 0,
      iterations: 0,
      hasMatch: false,
      mirror: false,
      mirrorWeight: 0,
      primaryReadyThreshold: 100,
      canaryReadyThreshold: 100,
      ...analysis,
    },
  };
}

/** The plan with the target at another revision. */
export function withRevision(plan: AnalysisPlan, revision: string): AnalysisPlan {
  return { ...plan, canary: workload(revision) };
}

/** A state with the primary at rev-1; by default Succeeded at rest, last transition at T0. */
export function makeState(overrides: Partial<CanaryState> = {}): CanaryState {
  const primary = workload('rev-1');
  return {
    apiVersion: STATE_API_VERSION,
    kind: 'CanaryState',
    namespace: 'test',
    name: 'podinfo',
    phase: 'Succeeded',
    canaryWeight: 0,
    mirror: false,
    iterations: 0,
    failedChecks: 0,
    canaryRevision: 'rev-1',
    primary: { revision: primary.revision, template: primary.template, workload: primary.workload, annotations: primary.annotations, configMaps: primary.configMaps },
    lastTransitionTime: T0.toISOString(),
    ...overrides,
  };
}

/** A state in the middle of a run of rev-2. */
export function runState(overrides: Partial<CanaryState> = {}): CanaryState {
  return makeState({ phase: 'Progressing', canaryRevision: 'rev-2', ...overrides });
}

/** How the fake world answers; anything not given is green. */
export interface World {
  primary?: Readiness;
  canary?: Readiness;
  /** Answer of a webhook; default: OK, except rollback hooks which default to "no rollback". */
  webhook?: (hook: PlannedWebhook) => boolean;
  metric?: (metric: PlannedMetric) => MetricOutcome;
  /** The routing object's acceptance (default: accepted). */
  route?: RouteAcceptance;
}

export const GREEN: World = {};

/**
 * The driver's observation loop: runs the requested steps in order, stopping as soon as
 * `endsTick` says the tick is decided.
 */
export function observe(request: ObservationRequest, world: World = GREEN): Observations {
  const obs = emptyObservations();
  for (const step of request.steps) {
    record(step, obs, world);
    if (endsTick(request.steps, obs)) break;
  }
  return obs;
}

function record(step: ObservationStep, obs: Observations, world: World): void {
  switch (step.kind) {
    case 'readiness':
      obs[step.workload] = world[step.workload] ?? { ready: true };
      return;
    case 'providers':
      obs.providers = { available: true };
      return;
    case 'route':
      obs.route = world.route ?? { accepted: true };
      return;
    case 'webhook': {
      const ok = world.webhook ? world.webhook(step.webhook) : step.webhook.type !== 'rollback';
      obs.webhooks.push({ name: step.webhook.name, type: step.webhook.type, ok, message: ok ? 'OK' : 'HTTP 403 Forbidden' });
      return;
    }
    case 'metric': {
      const outcome = world.metric ? world.metric(step.metric) : 'pass';
      obs.metrics.push({ metric: step.metric.name, outcome, message: `${step.metric.name} ${outcome}` });
      return;
    }
  }
}

/** One tick as the driver runs it: ask, observe, decide. */
export function tick(plan: AnalysisPlan, state: CanaryState | undefined, now: Date, world: World = GREEN): { request: ObservationRequest; decision: Decision } {
  const request = observationsNeeded(plan, state, now);
  const observations = request.dueNow ? observe(request, world) : emptyObservations();
  return { request, decision: decide(plan, state, observations, now) };
}

export interface TraceRow {
  action: Decision['action']['type'];
  phase: CanaryState['phase'];
  weight: number;
  mirror: boolean;
  iterations: number;
  failedChecks: number;
}

export interface Run {
  trace: TraceRow[];
  decisions: Decision[];
  requests: ObservationRequest[];
  state: CanaryState;
  now: Date;
}

/**
 * Ticks once per interval from `state` until `until` holds for the new state (default: back at
 * rest) or `maxTicks` ran. `world` may depend on the tick number and the current state.
 */
export function runTicks(
  plan: AnalysisPlan | ((n: number, state: CanaryState) => AnalysisPlan),
  start: CanaryState,
  options: { world?: (n: number, state: CanaryState) => World; maxTicks?: number; until?: (state: CanaryState) => boolean; from?: Date } = {},
): Run {
  const planAt = typeof plan === 'function' ? plan : () => plan;
  const until = options.until ?? ((s: CanaryState) => s.phase === 'Succeeded' || s.phase === 'Failed');
  const trace: TraceRow[] = [];
  const decisions: Decision[] = [];
  const requests: ObservationRequest[] = [];
  let state = start;
  let now = options.from ?? after(new Date(start.lastTransitionTime), planAt(0, start).analysis.intervalSeconds);
  for (let n = 1; n <= (options.maxTicks ?? 60); n++) {
    const p = planAt(n, state);
    const { request, decision } = tick(p, state, now, options.world?.(n, state) ?? GREEN);
    requests.push(request);
    decisions.push(decision);
    state = decision.state;
    trace.push({
      action: decision.action.type,
      phase: state.phase,
      weight: state.canaryWeight,
      mirror: state.mirror,
      iterations: state.iterations,
      failedChecks: state.failedChecks,
    });
    if (until(state)) break;
    now = after(now, p.analysis.intervalSeconds);
  }
  return { trace, decisions, requests, state, now };
}

/** (phase, weight) pairs of a trace, the shape most run assertions compare. */
export function phaseWeights(run: Run): [string, number][] {
  return run.trace.map((r) => [r.phase, r.weight]);
}
