import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testMetricSource } from './support/metric-source';
import { tickEvents } from '../src/machine/flagger-events';
import { decide } from '../src/machine/decide';
import { emptyObservations } from '../src/model/observations';
import { observe } from '../src/driver/observe';
import { PlannedMetric } from '../src/model/plan';
import { clientForProvider } from '../src/adapters/prometheus/client';
import { observationsNeeded } from '../src/machine/tick';
import { readyDeployment } from './support/driver-fixture';
import { T0, after, makePlan, makeState, metric } from './support/plans';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, freePort, startPrometheus } from './support/prometheus';

/*
 * Flagger v1.44.0 pkg/controller/scheduler_metrics.go checkMetricProviderAvailability, called by
 * scheduler.go advanceCanary on every tick while the canary is Initializing (not with
 * skipAnalysis): built-in metrics' metricsServer and MetricTemplates' providers must answer
 * vector(1); the outcome is recorded as an event ("all the metrics providers are available!" or
 * "Error checking metric providers: ...") and the tick goes on either way.
 */

const NOW = after(T0, 60);
const initializing = makeState({ phase: 'Initializing' });
const template = (address: string): PlannedMetric => ({ ...metric('error-budget'), builtin: false, template: true, templateRef: { name: 'error-budget', namespace: 'monitoring' }, provider: { type: 'prometheus', address } });
const inline = (address: string): PlannedMetric => ({ ...metric('inline'), builtin: false, provider: { type: 'prometheus', address } });

describe('which ticks check the metric providers', () => {
  it('only Initializing ticks, before the primary check, and not with skipAnalysis', () => {
    const plan = makePlan();
    expect(observationsNeeded(plan, initializing, NOW).steps.map((s) => s.kind)).toEqual(['providers', 'readiness']);
    expect(observationsNeeded({ ...plan, skipAnalysis: true }, initializing, NOW).steps).toEqual([]);
    for (const phase of ['Progressing', 'Promoting', 'Finalising', 'Waiting'] as const) {
      const steps = observationsNeeded(plan, makeState({ phase, canaryRevision: 'rev-2' }), NOW).steps;
      expect(steps.some((s) => s.kind === 'providers')).toBe(false);
    }
  });

  it('built-in and MetricTemplate metrics are checked, inline queries are not', () => {
    const plan = makePlan({ metrics: [metric('request-success-rate'), inline('http://a:9090'), template('http://b:9090')] });
    const [providers] = observationsNeeded(plan, initializing, NOW).steps;
    expect(providers).toEqual({ kind: 'providers', metrics: [plan.metrics[0], plan.metrics[2]] });
  });

  it('the outcome is an event on the Initializing phase and never changes the decision', () => {
    const plan = makePlan({ webhooks: [] });
    for (const [providers, event] of [
      [{ available: true } as const, { message: 'all the metrics providers are available!', type: 'Normal' }],
      [{ available: false, message: 'prometheus not avaiable: running query failed: refused' } as const, { message: 'Error checking metric providers: prometheus not avaiable: running query failed: refused', type: 'Warning' }],
    ] as const) {
      const observations = { ...emptyObservations(), providers, primary: { ready: true as const } };
      const decision = decide(plan, initializing, observations, NOW);
      expect(decision.state.phase).toBe('Initialized');
      const events = tickEvents(plan, initializing, observations, decision, NOW).before;
      expect(events).toEqual([{ ...event, phase: 'Initializing' }, { message: 'Initialization done! podinfo.test', type: 'Normal', phase: 'Initialized' }]);
    }
  });
});

describeWithPrometheus('checking the providers against a real Prometheus', () => {
  let prom: PrometheusServer;
  beforeAll(async () => {
    prom = await startPrometheus(String(readyDeployment(new OpenMetricsWriter(), 'test', 'podinfo-primary', 2)));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
  });
  const run = async (metrics: PlannedMetric[], metricsServer = prom.url) => {
    const plan = makePlan({ metricsServer, metrics });
    const request = observationsNeeded(plan, initializing, at(600));
    const deps = {
      metricsClient: (provider: PlannedMetric['provider'] & { address: string }, driverServer: string) => clientForProvider(provider, { timeoutMs: 2000, driverAddress: driverServer }),
      metricSource: testMetricSource(),
      callWebhook: async () => ({ ok: true, message: 'unused', attempts: 1 }),
    };
    return (await observe(plan, initializing, request.steps, { primary: 2 }, deps, at(600))).observations;
  };

  it('every provider online: available, then the primary is checked', async () => {
    const obs = await run([{ ...metric('request-success-rate'), provider: { type: 'prometheus', address: prom.url } }, template(prom.url)]);
    expect(obs.providers).toEqual({ available: true });
    expect(obs.primary).toEqual({ ready: true });
  });

  it('an unreachable MetricTemplate provider: Flagger-style error, and the tick still goes on to the primary check', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const obs = await run([template(dead)]);
    expect(obs.providers).toMatchObject({ available: false, message: expect.stringMatching(/^prometheus in metric template error-budget.monitoring not avaiable: running query failed: /) });
    expect(obs.primary).toEqual({ ready: true });
  });

  it('an unreachable metricsServer for the built-in metrics', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const obs = await run([{ ...metric('request-duration'), provider: { type: 'prometheus', address: dead } }], dead);
    expect(obs.providers).toMatchObject({ available: false, message: expect.stringMatching(/^prometheus not avaiable: running query failed: /) });
  });
});
