import { describe, expect, it } from 'vitest';
import { Duration } from 'cdk8s';
import { PLAN_API_VERSION, PLAN_FILE } from '../../src/model/plan';
import { IMAGE_OLD, NO_STATE_DIR, podinfoJson, render, stage } from '../support/construct-fixtures';

const squash = (q: string) => q.replace(/\s+/g, '');

describe('canary.plan.json', () => {
  // scheduler_metrics.go: a metric without thresholdRange is compared against the deprecated threshold (default 0).
  it('metrics without thresholdRange carry Flagger\'s threshold (default 0); with a range they do not', () => {
    const f = render({
      analysis: {
        stepWeight: 10,
        metrics: [
          { name: 'request-success-rate', threshold: 99 },
          { name: 'request-duration' },
          { name: 'request-duration-2', query: 'vector(1)', thresholdRange: { max: 5 } },
        ],
      },
    });
    const metrics = f.plan!.metrics.map((m) => ({ name: m.name, threshold: m.threshold, range: m.thresholdRange }));
    expect(metrics).toEqual([
      { name: 'request-success-rate', threshold: 99, range: { min: undefined, max: undefined } },
      { name: 'request-duration', threshold: 0, range: { min: undefined, max: undefined } },
      { name: 'request-duration-2', threshold: undefined, range: { min: undefined, max: 5 } },
    ]);
  });

  it('identity, provider, strategy and Flagger defaults for the analysis settings', () => {
    const f = render({ analysis: { stepWeight: 10 } });
    const plan = f.plan!;
    expect(plan).toMatchObject({
      apiVersion: PLAN_API_VERSION,
      kind: 'AnalysisPlan',
      namespace: 'test',
      name: 'podinfo',
      targetName: 'podinfo',
      serviceName: 'podinfo',
      provider: 'istio',
      strategy: 'canary',
      skipAnalysis: false,
      suspend: false,
      progressDeadlineSeconds: 600,
      metricsServer: 'http://prometheus:9090',
      metrics: [],
      webhooks: [],
    });
    expect(plan.analysis).toEqual({
      intervalSeconds: 60,
      threshold: 1,
      maxWeight: 100,
      stepWeight: 10,
      stepWeights: [],
      stepWeightPromotion: 0,
      iterations: 0,
      hasMatch: false,
      mirror: false,
      mirrorWeight: 0,
      primaryReadyThreshold: 100,
      canaryReadyThreshold: 100,
      maxWeightUnset: true,
    });
    expect(plan.ingressName).toBeUndefined();
    expect(plan.stateFile).toBe(`${NO_STATE_DIR}/test/podinfo.json`);
  });

  it('is written next to the manifests and is not a kustomize resource', () => {
    const f = render({});
    expect(f.files.has(PLAN_FILE)).toBe(true);
    expect(f.kustomization.resources).not.toContain(PLAN_FILE);
    expect(f.kustomization.resources.every((r: string) => r.endsWith('.yaml'))).toBe(true);
    expect(f.files.get(PLAN_FILE)!.endsWith('}\n')).toBe(true);
  });

  it('settings as given; stepWeights set maxWeight to the last step', () => {
    const f = render({
      analysis: {
        interval: Duration.seconds(30),
        threshold: 3,
        stepWeights: [1, 5, 25, 60],
        stepWeightPromotion: 20,
        primaryReadyThreshold: 90,
        canaryReadyThreshold: 80,
        sessionAffinity: { cookieName: 'c', primaryCookieName: 'p', maxAge: Duration.hours(1) },
      },
      canary: { skipAnalysis: true, suspend: true, progressDeadline: Duration.minutes(5), metricsServer: 'http://prom.monitoring:9090' },
    });
    expect(f.plan).toMatchObject({ skipAnalysis: true, suspend: true, progressDeadlineSeconds: 300, metricsServer: 'http://prom.monitoring:9090' });
    expect(f.plan!.analysis).toMatchObject({
      intervalSeconds: 30,
      threshold: 3,
      maxWeight: 60,
      stepWeight: 0,
      stepWeights: [1, 5, 25, 60],
      stepWeightPromotion: 20,
      primaryReadyThreshold: 90,
      canaryReadyThreshold: 80,
      sessionAffinity: { cookieName: 'c', primaryCookieName: 'p', maxAge: 3600 },
    });
  });

  it.each([
    [{ iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, 'ab-testing', true],
    [{ iterations: 10 }, 'blue-green', false],
    [{ iterations: 10, mirror: true, mirrorWeight: 25 }, 'blue-green', false],
    [{ stepWeight: 5, maxWeight: 30 }, 'canary', false],
  ])('strategy of %j is %s', (analysis, strategy, hasMatch) => {
    const plan = render({ analysis }).plan!;
    expect(plan.strategy).toBe(strategy);
    expect(plan.analysis.hasMatch).toBe(hasMatch);
  });

  it('built-in metrics are fully expanded PromQL for the provider, with thresholds', () => {
    const f = render({
      analysis: {
        stepWeight: 10,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) },
          { name: 'request-duration', thresholdRange: { max: 500 }, interval: Duration.seconds(30) },
        ],
      },
    });
    const [sr, dur] = f.plan!.metrics;
    expect(sr).toMatchObject({ name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 }, builtin: true, unit: 'percent', provider: { type: 'prometheus', address: 'http://prometheus:9090' } });
    expect(sr.query).toContain('destination_workload=~"podinfo"');
    expect(sr.query).toContain('destination_workload_namespace="test"');
    expect(sr.query).toContain('[1m]');
    expect(sr.query).not.toContain('{{');
    expect(squash(sr.query)).toBe(
      squash(`sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo",response_code!~"5.*"}[1m]))
        / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[1m])) * 100`),
    );
    expect(dur).toMatchObject({ name: 'request-duration', interval: '30s', thresholdRange: { max: 500 }, unit: 'milliseconds' });
    expect(dur.query).toContain('[30s]');
    expect(dur.query).toContain('histogram_quantile(');
  });

  it('the NGINX success rate queries the ingress', () => {
    const f = render({ provider: 'nginx', analysis: { stepWeight: 10, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] } });
    const q = f.plan!.metrics[0].query;
    expect(q).toContain('nginx_ingress_controller_requests');
    expect(q).toContain('ingress="podinfo"');
    expect(q).toContain('namespace="test"');
    expect(q).not.toContain('{{');
  });

  it('MetricTemplate and inline queries are rendered with every variable; built-in and inline come first', () => {
    const f = render({
      service: { name: 'web' },
      analysis: {
        stepWeight: 10,
        metrics: [
          {
            name: 'error-budget',
            interval: Duration.minutes(5),
            thresholdRange: { min: 0, max: 1 },
            templateVariables: { slo: '99.9' },
            template: {
              name: 'budget',
              provider: { address: 'http://thanos:9090', headers: { 'X-Scope-OrgID': ['tenant'] }, secretRef: 'prom-auth', insecureSkipVerify: true },
              query: 'budget{ns="{{ namespace }}",t="{{ target }}",svc="{{ service }}",c="{{ name }}",i="{{ interval }}",slo="{{ variables.slo }}"}',
            },
          },
          { name: 'inline', query: 'up{namespace="{{ namespace }}"}', thresholdRange: { min: 1 } },
        ],
      },
    });
    const [inline, templated] = f.plan!.metrics;
    expect(inline).toMatchObject({ name: 'inline', query: 'up{namespace="test"}', builtin: false, interval: '1m', provider: { address: 'http://prometheus:9090' } });
    expect(inline.template).toBeUndefined(); // Flagger checks template providers only (scheduler_metrics.go)
    expect(templated).toEqual({
      name: 'error-budget',
      query: 'budget{ns="test",t="podinfo",svc="web",c="podinfo",i="5m",slo="99.9"}',
      interval: '5m',
      thresholdRange: { min: 0, max: 1 },
      builtin: false,
      template: true,
      // The template's namespace defaults to the canary's, as templateRef.namespace does in Flagger.
      templateRef: { name: 'budget', namespace: 'test' },
      provider: { type: 'prometheus', address: 'http://thanos:9090', headers: { 'X-Scope-OrgID': ['tenant'] }, secretRef: 'prom-auth', insecureSkipVerify: true },
    });
  });

  // pkg/metrics/providers/factory.go: the template's provider type picks the client; datadog.go
  // defaults its address and needs the Secret's keys (NewDatadogProvider).
  it('a MetricTemplate of another provider keeps its type, gets no Prometheus address, and names its template', () => {
    const f = render({
      analysis: {
        stepWeight: 10,
        metrics: [{ name: 'errors', thresholdRange: { max: 1 }, template: { name: 'dd-errors', namespace: 'monitoring', provider: { type: 'datadog', secretRef: 'datadog' }, query: 'sum:errors{service:{{ target }}}' } }],
      },
    });
    expect(f.plan!.metrics[0]).toMatchObject({
      name: 'errors',
      query: 'sum:errors{service:podinfo}',
      provider: { type: 'datadog', secretRef: 'datadog' },
      templateRef: { name: 'dd-errors', namespace: 'monitoring' },
    });
    expect(f.plan!.metrics[0].provider.address).toBeUndefined();
  });

  it("a provider's synth-time checks name the prop and the fix (CloudWatch without region, Datadog without secretRef)", () => {
    const metric = (provider: object) => ({ name: 'm', thresholdRange: { max: 1 }, template: { name: 't', provider, query: 'q' } });
    expect(() => render({ analysis: { stepWeight: 10, metrics: [metric({ type: 'datadog' })] } })).toThrow(/analysis\.metrics\[0\]\.template\.provider\.secretRef: is required for type datadog/);
    expect(() => render({ analysis: { stepWeight: 10, metrics: [metric({ type: 'cloudwatch' })] } })).toThrow(/analysis\.metrics\[0\]\.template\.provider\.region: /);
  });

  it('webhooks with defaults applied', () => {
    const f = render({
      analysis: {
        stepWeight: 10,
        webhooks: [
          { name: 'load-test', url: 'http://flagger-loadtester.test/', metadata: { cmd: 'hey -z 1m http://podinfo-canary.test:9898/' } },
          { name: 'gate', type: 'confirm-promotion', url: 'https://gate.example.com/approve', timeout: Duration.seconds(30), retries: 2, muteAlert: true, disableTLS: true },
        ],
      },
    });
    expect(f.plan!.webhooks).toEqual([
      { name: 'load-test', type: 'rollout', url: 'http://flagger-loadtester.test/', timeoutSeconds: 10, retries: 0, metadata: { cmd: 'hey -z 1m http://podinfo-canary.test:9898/' } },
      { name: 'gate', type: 'confirm-promotion', url: 'https://gate.example.com/approve', timeoutSeconds: 30, retries: 2, muteAlert: true, disableTLS: true },
    ]);
  });

  it('the canary template is the target pod template; workload settings and annotations are recorded', () => {
    const f = render({ podinfo: { annotations: { 'example.com/owner': 'web' } }, state: stage('Progressing', { canaryWeight: 10 }) });
    const json = podinfoJson();
    expect(f.plan!.canary.template).toEqual(json.spec.template);
    expect(f.plan!.canary.workload).toEqual({ replicas: 3, minReadySeconds: 5, progressDeadlineSeconds: 60, revisionHistoryLimit: 5, strategy: json.spec.strategy });
    expect(f.plan!.canary.annotations).toEqual({ 'example.com/owner': 'web' });
    // The plan describes the canary, whatever the primary runs.
    expect(JSON.stringify(f.plan!.canary)).not.toContain(IMAGE_OLD);
  });

  describe('canary revision', () => {
    const revision = (o: Parameters<typeof render>[0]) => render(o).plan!.canary.revision;
    const cm = { envFrom: [{ configMapRef: { name: 'cfg' } }] };
    const base = revision({ podinfo: cm, configMaps: { cfg: { a: '1' } } });

    it('is a stable 16-hex hash', () => {
      expect(base).toMatch(/^[0-9a-f]{16}$/);
      expect(revision({ podinfo: cm, configMaps: { cfg: { a: '1' } } })).toBe(base);
    });

    it('changes with the pod template', () => {
      expect(revision({ podinfo: { ...cm, image: IMAGE_OLD }, configMaps: { cfg: { a: '1' } } })).not.toBe(base);
      expect(revision({ podinfo: { ...cm, podAnnotations: { x: 'y' } }, configMaps: { cfg: { a: '1' } } })).not.toBe(base);
    });

    it('changes with a tracked ConfigMap', () => {
      expect(revision({ podinfo: cm, configMaps: { cfg: { a: '2' } } })).not.toBe(base);
    });

    it('does not change with replicas, an untracked ConfigMap, Deployment metadata or the stage', () => {
      expect(revision({ podinfo: { ...cm, replicas: 7 }, configMaps: { cfg: { a: '1' } } })).toBe(base);
      expect(revision({ podinfo: { ...cm, labels: { team: 'x' } }, configMaps: { cfg: { a: '1' }, other: { b: '1' } } })).toBe(base);
      expect(revision({ podinfo: cm, configMaps: { cfg: { a: '1' } }, state: stage('Progressing', { canaryWeight: 40 }) })).toBe(base);
    });

    it('does not change with an excluded ConfigMap', () => {
      const a = revision({ podinfo: cm, configMaps: { cfg: { a: '1' } }, canary: { configTracking: { exclude: ['cfg'] } } });
      const b = revision({ podinfo: cm, configMaps: { cfg: { a: '2' } }, canary: { configTracking: { exclude: ['cfg'] } } });
      expect(a).toBe(b);
    });
  });
});
