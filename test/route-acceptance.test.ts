import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { step } from '../src/stages/driver';
import { PlannedRoute } from '../src/stages/plan';
import { PrometheusClient, Sample } from '../src/stages/prometheus';
import {
  ROUTE_CRS_CONFIG,
  ROUTE_GENERATION_SERIES,
  ROUTE_PARENT_SERIES,
  judgeRouteAcceptance,
  observeRouteAcceptance,
} from '../src/stages/route-acceptance';
import { CanaryState } from '../src/stages/state';
import { AppSpec, TEST_CONFIG, appJson, httpRouteStatus, httpTraffic, readyDeployment, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, freePort, startPrometheus } from './support/prometheus';
import { Recorder } from './support/recorder';

/*
 * Flagger v1.44.0 pkg/router/gateway_api.go GetRoutes, called by pkg/controller/scheduler.go
 * advanceCanary after the primary check: while a parent of the HTTPRoute has not Accepted it at
 * its current generation, the tick records the error and returns (no advance, no failed check).
 * canarykit reads the HTTPRoute status from kube-state-metrics custom-resource-state series.
 */

const ROUTE: PlannedRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  namespace: 'test',
  name: 'podinfo',
  parents: [
    { name: 'public', namespace: 'gateway-system' },
    { name: 'internal', namespace: 'test', sectionName: 'http' },
  ],
};

const generation = (value: number): Sample => ({ labels: { __name__: ROUTE_GENERATION_SERIES, namespace: 'test', name: 'podinfo' }, value });
const parent = (labels: Record<string, string>, value: number): Sample => ({
  labels: { __name__: ROUTE_PARENT_SERIES, namespace: 'test', name: 'podinfo', controller_name: 'example.com/gw', ...labels },
  value,
});
const PUBLIC = { parent_name: 'public', parent_namespace: 'gateway-system' };
const INTERNAL = { parent_name: 'internal', parent_section_name: 'http' };

describe('judgeRouteAcceptance (gateway_api.go GetRoutes readiness loop)', () => {
  const cases: { name: string; samples: Sample[]; want: ReturnType<typeof judgeRouteAcceptance> }[] = [
    {
      name: 'every parent Accepted=True at the current generation',
      samples: [generation(4), parent({ ...PUBLIC, status: 'True' }, 4), parent({ ...INTERNAL, status: 'True' }, 5)],
      want: { accepted: true },
    },
    {
      name: 'Accepted=False',
      samples: [generation(4), parent({ ...PUBLIC, status: 'False' }, 4), parent({ ...INTERNAL, status: 'True' }, 4)],
      want: { accepted: false, message: 'HTTPRoute podinfo.test parent public is not ready (status: False, observed generation: 4, current generation: 4)' },
    },
    {
      name: 'accepted at an older generation',
      samples: [generation(4), parent({ ...PUBLIC, status: 'True' }, 4), parent({ ...INTERNAL, status: 'True' }, 3)],
      want: { accepted: false, message: 'HTTPRoute podinfo.test parent internal is not ready (status: True, observed generation: 3, current generation: 4)' },
    },
    {
      name: 'the first failing parent in spec order is reported',
      samples: [generation(2), parent({ ...INTERNAL, status: 'Unknown' }, 2), parent({ ...PUBLIC, status: 'True' }, 1)],
      want: { accepted: false, message: 'HTTPRoute podinfo.test parent public is not ready (status: True, observed generation: 1, current generation: 2)' },
    },
    {
      name: 'any of two controllers reporting on one parent can stop the tick',
      samples: [generation(2), parent({ ...PUBLIC, status: 'True' }, 2), parent({ ...PUBLIC, status: 'False', controller_name: 'other.io/gw' }, 2), parent({ ...INTERNAL, status: 'True' }, 2)],
      want: { accepted: false, message: 'HTTPRoute podinfo.test parent public is not ready (status: False, observed generation: 2, current generation: 2)' },
    },
    {
      name: 'a parent without a status entry, or an entry without an Accepted condition, is not checked (as Flagger)',
      samples: [generation(2), parent({ ...PUBLIC }, 0)],
      want: { accepted: true },
    },
    {
      name: 'an entry for another section or namespace of the same Gateway name is not this parent',
      samples: [generation(2), parent({ parent_name: 'internal', parent_section_name: 'https', status: 'False' }, 2), parent({ parent_name: 'public', parent_namespace: 'test', status: 'False' }, 2)],
      want: { accepted: true },
    },
    {
      name: 'a status parentRef without namespace is in the route namespace',
      samples: [generation(2), parent({ parent_name: 'internal', parent_section_name: 'http', status: 'False' }, 2)],
      want: { accepted: false, message: 'HTTPRoute podinfo.test parent internal is not ready (status: False, observed generation: 2, current generation: 2)' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(judgeRouteAcceptance(ROUTE, c.samples)).toEqual(c.want);
    });
  }

  it('without the generation series the status cannot be observed: the reason names the config to deploy', () => {
    const got = judgeRouteAcceptance(ROUTE, [parent({ ...PUBLIC, status: 'True' }, 2)]);
    expect(got).toEqual({
      accepted: false,
      observationError: true,
      message:
        'HTTPRoute podinfo.test status cannot be observed: series canarykit_httproute_metadata_generation missing (is the HTTPRoute applied, ' +
        'and kube-state-metrics running with deploy/kube-state-metrics/httproute-crs-config.yaml and scraped by this Prometheus?)',
    });
  });
});

describe('deploy/kube-state-metrics/httproute-crs-config.yaml', () => {
  const config = parse(fs.readFileSync(path.join(__dirname, '..', ROUTE_CRS_CONFIG), 'utf8'));
  const resource = config.spec.resources[0];

  it('is a CustomResourceStateMetrics for gateway.networking.k8s.io/v1 HTTPRoute', () => {
    expect(config.kind).toBe('CustomResourceStateMetrics');
    expect(config.spec.resources).toHaveLength(1);
    expect(resource.groupVersionKind).toEqual({ group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' });
    expect(resource.labelsFromPath).toEqual({ namespace: ['metadata', 'namespace'], name: ['metadata', 'name'] });
  });

  it('exports exactly the series and labels the driver reads (names owned by route-acceptance.ts)', () => {
    const names = resource.metrics.map((m: { name: string }) => `${resource.metricNamePrefix}_${m.name}`);
    expect(names).toEqual([ROUTE_GENERATION_SERIES, ROUTE_PARENT_SERIES]);
    const [gen, parents] = resource.metrics.map((m: { each: { gauge: unknown } }) => m.each.gauge);
    expect(gen).toEqual({ path: ['metadata', 'generation'] });
    expect(parents).toMatchObject({
      path: ['status', 'parents'],
      labelsFromPath: {
        parent_name: ['parentRef', 'name'],
        parent_namespace: ['parentRef', 'namespace'],
        parent_section_name: ['parentRef', 'sectionName'],
        status: ['conditions', '[type=Accepted]', 'status'],
      },
      valueFrom: ['conditions', '[type=Accepted]', 'observedGeneration'],
      nilIsZero: true,
    });
  });
});

describeWithPrometheus('observeRouteAcceptance against a real Prometheus', () => {
  let prom: PrometheusServer;
  const route = (namespace: string): PlannedRoute => ({ ...ROUTE, namespace, parents: [{ name: 'public', namespace: 'gateway-system' }] });
  beforeAll(async () => {
    const w = new OpenMetricsWriter();
    httpRouteStatus(w, 'accepted');
    httpRouteStatus(w, 'rejected', { status: 'False' });
    httpRouteStatus(w, 'stale', { generation: 5, observed: () => 4 });
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
  });
  const observe = (namespace: string, address = prom.url) => observeRouteAcceptance(new PrometheusClient({ address, timeoutMs: 2000 }), route(namespace), at(600));

  it('Accepted=True at the current generation', async () => {
    expect(await observe('accepted')).toEqual({ accepted: true });
  });

  it("Accepted=False and an older observed generation give Flagger's error", async () => {
    expect(await observe('rejected')).toEqual({
      accepted: false,
      message: 'HTTPRoute podinfo.rejected parent public is not ready (status: False, observed generation: 3, current generation: 3)',
    });
    expect(await observe('stale')).toEqual({
      accepted: false,
      message: 'HTTPRoute podinfo.stale parent public is not ready (status: True, observed generation: 4, current generation: 5)',
    });
  });

  it('absent series and an unreachable Prometheus are observation errors, never "accepted"', async () => {
    expect(await observe('absent')).toMatchObject({ accepted: false, observationError: true, message: expect.stringContaining('series canarykit_httproute_metadata_generation missing') });
    const down = await observe('accepted', `http://127.0.0.1:${await freePort()}`);
    expect(down).toMatchObject({ accepted: false, observationError: true, message: expect.stringMatching(/^HTTPRoute podinfo\.accepted status cannot be observed: /) });
  });
});

type CanarySpec = AppSpec['canaries'][number];

describeWithPrometheus('a Gateway API canary holds while its HTTPRoute is not Accepted (scheduler.go GetRoutes)', () => {
  let prom: PrometheusServer;
  const cleanups: (() => unknown)[] = [];
  // gwhold: the gateway controller catches up with generation 3 at t=400 s.
  // gwmid: accepted until t=300 s, lagging behind (observed 2) from 300 s to 600 s, then accepted again.
  // gwnoksm: no HTTPRoute series at all (kube-state-metrics not configured).
  beforeAll(async () => {
    const w = new OpenMetricsWriter(3600);
    for (const ns of ['gwhold', 'gwmid', 'gwnoksm']) {
      httpTraffic(w, ns, 10);
      readyDeployment(w, ns, 'podinfo', 2);
      readyDeployment(w, ns, 'podinfo-primary', 2);
    }
    httpRouteStatus(w, 'gwhold', { observed: (t) => (t < 400 ? 2 : 3) });
    httpRouteStatus(w, 'gwmid', { observed: (t) => (t >= 300 && t < 600 ? 2 : 3) });
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    for (const c of cleanups) await c();
  });

  const scenario = async (namespace: string) => {
    const rec = await new Recorder().start();
    let spec: CanarySpec = {
      namespace,
      image: 'podinfo:6.0.0',
      provider: 'gatewayapi',
      stepWeight: 10,
      maxWeight: 30,
      webhooks: [{ name: 'events', type: 'event', url: `${rec.url}/event` }],
      slack: `${rec.url}/slack`,
    };
    const fx: GitFixture = createGitFixture({ 'app.json': appJson({ canaries: [spec] }) });
    const clone = fx.clone('driver');
    cleanups.push(() => rec.stop(), () => fx.cleanup());
    const clock = { now: at(60) };
    return {
      rec,
      fx,
      clock,
      tick: (advanceSeconds = 60) => {
        clock.now = new Date(clock.now.getTime() + advanceSeconds * 1000);
        return step({ repoDir: clone, config: TEST_CONFIG, select: { all: true } }, realDeps(clone, prom.url, clock));
      },
      release: () => {
        spec = { ...spec, image: 'podinfo:6.1.0' };
        fx.pushConcurrently({ 'app.json': appJson({ canaries: [spec] }) }, 'release podinfo:6.1.0');
      },
      state: (): CanaryState => JSON.parse(fx.remoteGit('show', `main:state/${namespace}/podinfo.json`)),
      head: () => fx.remoteGit('rev-parse', 'main'),
    };
  };

  it('the plan carries the route fact written by the Gateway API router', async () => {
    const s = await scenario('gwhold');
    await s.tick(0);
    const plan = JSON.parse(s.fx.remoteGit('show', 'main:dist/gwhold/podinfo/canary.plan.json'));
    expect(plan.route).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      namespace: 'gwhold',
      name: 'podinfo',
      parents: [{ name: 'public', namespace: 'gateway-system' }],
    });
  });

  it('a new revision waits while the route is not Accepted at its generation, once per interval, then starts and runs to Succeeded', async () => {
    const s = await scenario('gwhold');
    await s.tick(0); // t=60 bootstrap
    await s.tick(); // t=120 Initialized: initialization is not gated by GetRoutes (setPhaseInitialized runs first)
    expect(s.state().phase).toBe('Initialized');
    s.release();
    s.rec.clear();
    const outcomes = [(await s.tick(0)).outcomes[0]]; // t=120 (commits only the synced manifests of the release)
    expect(s.fx.remoteGit('log', '-1', '--format=%s')).toBe('canarykit: sync dist/ with the app and the state files');
    const head = s.head();
    for (const advance of [30, 30, 60, 60, 60]) outcomes.push((await s.tick(advance)).outcomes[0]); // t=150..360
    expect(s.head()).toBe(head);
    expect(s.state()).toMatchObject({ phase: 'Initialized', canaryWeight: 0, failedChecks: 0 });
    expect(outcomes[0]).toMatchObject({ action: 'none', summary: expect.stringContaining('parent public is not ready') });
    const notReady = 'HTTPRoute podinfo.gwhold parent public is not ready (status: True, observed generation: 2, current generation: 3)';
    // Due at t=120, then once per 1-minute interval: 180 (the t=150 run is not due), 240, 300, 360.
    expect(s.rec.events()).toEqual(Array(5).fill(['Initialized', notReady]));
    expect(s.rec.to('event').every((c) => c.body.metadata.eventType === 'Warning')).toBe(true);
    expect(s.rec.alerts()).toEqual([]); // Flagger records GetRoutes errors as events, never alerts

    await s.tick(); // t=420: accepted at generation 3
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 0 });
    for (let i = 0; i < 8 && s.state().phase !== 'Succeeded'; i++) await s.tick();
    expect(s.state()).toMatchObject({ phase: 'Succeeded', canaryWeight: 0, failedChecks: 0 });
  });

  it('mid-run, a route the gateway has not caught up with holds the weight without failed checks, then the run goes on', async () => {
    const s = await scenario('gwmid');
    await s.tick(0); // 60
    await s.tick(); // 120 Initialized
    s.release();
    await s.tick(0); // 120 start
    await s.tick(); // 180 first analysis: 0 -> 10
    await s.tick(); // 240: 10 -> 20
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
    const head = s.head();
    s.rec.clear();
    for (let t = 300; t < 600; t += 60) await s.tick(); // 300..540: observed generation 2
    expect(s.head()).toBe(head);
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 0 });
    expect(s.rec.events()).toEqual(
      Array(5).fill(['Progressing', 'HTTPRoute podinfo.gwmid parent public is not ready (status: True, observed generation: 2, current generation: 3)']),
    );
    await s.tick(); // 600: accepted again
    expect(s.state()).toMatchObject({ phase: 'Progressing', canaryWeight: 30, failedChecks: 0 });
  });

  it('without the HTTPRoute series the canary holds with the reason, and never starts', async () => {
    const s = await scenario('gwnoksm');
    await s.tick(0);
    await s.tick();
    s.release();
    s.rec.clear();
    const out = (await s.tick(0)).outcomes[0];
    const head = s.head();
    await s.tick();
    expect(s.head()).toBe(head);
    expect(s.state().phase).toBe('Initialized');
    expect(out.summary).toContain('HTTPRoute podinfo.gwnoksm status cannot be observed: series canarykit_httproute_metadata_generation missing');
    expect(s.rec.events().map(([, m]) => m)).toEqual(Array(2).fill(expect.stringContaining('deploy/kube-state-metrics/httproute-crs-config.yaml')));
  });
});
