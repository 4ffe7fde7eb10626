import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { step } from '../src/driver/driver';
import { computeRevision } from '../src/constructs/revision';
import { CanaryState } from '../src/model/state';
import { AppSpec, TEST_CONFIG, appJson, knativeTemplate, readyDeployment, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * The step driver on a Knative canary, end to end: real git remote, real Prometheus holding
 * Kourier's Envoy series of the latest revision (observers/knative.go) and kube-state-metrics
 * series of the revisions' Deployments; the Service's annotation and spec.traffic committed at
 * every stage as knative_controller.go Initialize / Promote and knative.go SetRoutes write them.
 */

type CanarySpec = AppSpec['canaries'][number];
const OLD = 'podinfo:6.0.0';
const NEW = 'podinfo:6.1.0';
const revisionOf = (image: string): string => `podinfo-${computeRevision(knativeTemplate(image), {}).slice(0, 10)}`;

/** Envoy cluster `<ns>/<revision>`: `rps` requests, `errorRatio` of them 503s, 20-50 ms. */
function kourierTraffic(w: OpenMetricsWriter, ns: string, revision: string, rps: number, errorRatio: number): void {
  const cluster = { envoy_cluster_name: `${ns}/${revision}` };
  w.counter('envoy_cluster_upstream_rq', { ...cluster, envoy_response_code: '200' }, rps * (1 - errorRatio));
  if (errorRatio > 0) w.counter('envoy_cluster_upstream_rq', { ...cluster, envoy_response_code: '503' }, rps * errorRatio);
  w.histogram('envoy_cluster_upstream_rq_time', cluster, { '10': 0, '25': rps / 2, '50': rps, '100': rps }, rps * 30);
}

describeWithPrometheus('the step driver on a Knative canary', () => {
  let prom: PrometheusServer;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    const w = new OpenMetricsWriter(3600);
    kourierTraffic(w, 'kngood', revisionOf(NEW), 10, 0);
    kourierTraffic(w, 'knbad', revisionOf(NEW), 10, 0.2);
    for (const ns of ['kngood', 'knbad']) {
      for (const image of [OLD, NEW]) readyDeployment(w, ns, `${revisionOf(image)}-deployment`, 1);
    }
    prom = await startPrometheus(String(w));
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    for (const c of cleanups) await c();
  });

  const scenario = (namespace: string) => {
    let spec: CanarySpec = { namespace, image: OLD, provider: 'knative', stepWeight: 20, maxWeight: 40, threshold: 2 };
    const fx: GitFixture = createGitFixture({ 'app.json': appJson({ canaries: [spec] }) });
    const clone = fx.clone('driver');
    cleanups.push(() => fx.cleanup());
    const clock = { now: at(60) };
    return {
      tick: (advanceSeconds = 60) => {
        clock.now = new Date(clock.now.getTime() + advanceSeconds * 1000);
        return step({ repoDir: clone, config: TEST_CONFIG, select: { all: true } }, realDeps(clone, prom.url, clock));
      },
      release: () => {
        spec = { ...spec, image: NEW };
        fx.pushConcurrently({ 'app.json': appJson({ canaries: [spec] }) }, `release ${NEW}`);
      },
      state: (): CanaryState => JSON.parse(fx.remoteGit('show', `main:state/${namespace}/podinfo.json`)),
      service: (): any => parse(fx.remoteGit('show', `main:dist/${namespace}/podinfo/service-podinfo.yaml`)),
    };
  };

  /** Phase, primary revision (old/new), latest/primary percentages after each tick, until the run ends. */
  async function run(s: ReturnType<typeof scenario>): Promise<string[]> {
    await s.tick(0); // bootstrap
    await s.tick(); // Initialized
    s.release();
    await s.tick(0); // syncs the release
    const seen: string[] = [];
    const name = (rev: string): string => (rev === revisionOf(OLD) ? 'old' : rev === revisionOf(NEW) ? 'new' : rev);
    for (let i = 0; i < 12; i++) {
      await s.tick();
      const st = s.state();
      const svc = s.service();
      const [latest, primary] = svc.spec.traffic;
      expect(svc.spec.template.metadata.name).toBe(revisionOf(NEW));
      expect(primary.revisionName).toBe(svc.metadata.annotations['flagger.app/primary-revision']);
      const entry = `${st.phase} primary=${name(primary.revisionName)} ${latest.percent}/${primary.percent}${st.failedChecks ? ` failedChecks=${st.failedChecks}` : ''}`;
      if (seen.at(-1) !== entry) seen.push(entry);
      if (st.phase === 'Succeeded' || st.phase === 'Failed') break;
    }
    return seen;
  }

  it('healthy revision: 20/80, 40/60, promotion moves the primary to the new revision, then 0/100', async () => {
    expect(await run(scenario('kngood'))).toEqual([
      'Progressing primary=old 20/80',
      'Progressing primary=old 40/60',
      'Promoting primary=new 40/60',
      'Finalising primary=new 0/100',
      'Succeeded primary=new 0/100',
    ]);
  });

  it('20% 503s on the latest revision: failed checks up to the threshold, rolled back to the old revision 0/100', async () => {
    expect(await run(scenario('knbad'))).toEqual([
      'Progressing primary=old 20/80',
      'Progressing primary=old 20/80 failedChecks=1',
      'Progressing primary=old 20/80 failedChecks=2',
      'Failed primary=old 0/100',
    ]);
  });
});
