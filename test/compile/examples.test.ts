import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile, compileFiles } from '../../src/compile';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, compileFixture, tempDir, writeStage } from './support';

// Flagger's documented podinfo scenarios, written as Flagger YAML, compiled through the Canary
// construct. Assertions follow Flagger's object shapes (reference §2).

let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** Every PromQL query of a plan, to check that no template action is left. */
function queries(out: Output, dir: string): string[] {
  return out.plan(dir).metrics.map((m) => m.query);
}

describe('podinfo on Istio (three files in a folder)', () => {
  it('emits the primary, services, autoscalers and routing at the bootstrap stage', () => {
    const out = compileFixture('istio', stateDir);
    expect(out.compiled.canaries).toEqual(['test/podinfo']);
    expect(out.dirs).toEqual(['test/podinfo', '_unreferenced']);
    const dir = 'test/podinfo';
    expect(out.files(dir).sort()).toEqual([
      'canary.plan.json',
      'deployment-podinfo-primary.yaml',
      'deployment-podinfo.yaml',
      'destinationrule-podinfo-canary.yaml',
      'destinationrule-podinfo-primary.yaml',
      'horizontalpodautoscaler-podinfo-primary.yaml',
      'horizontalpodautoscaler-podinfo.yaml',
      'kustomization.yaml',
      'service-podinfo-canary.yaml',
      'service-podinfo-primary.yaml',
      'service-podinfo.yaml',
      'virtualservice-podinfo.yaml',
    ]);

    const target = out.obj(dir, 'deployment-podinfo');
    expect(target.metadata).toEqual({ name: 'podinfo', namespace: 'test', labels: { app: 'podinfo' } });
    expect(target.spec.selector.matchLabels).toEqual({ app: 'podinfo' });

    const primary = out.obj(dir, 'deployment-podinfo-primary');
    expect(primary.metadata).toMatchObject({ name: 'podinfo-primary', namespace: 'test', labels: { app: 'podinfo-primary' } });
    expect(primary.spec.selector.matchLabels).toEqual({ app: 'podinfo-primary' });
    expect(primary.spec.replicas).toBeUndefined(); // the primary HPA owns replicas
    expect(primary.spec.template.metadata.labels).toEqual({ app: 'podinfo-primary' });
    expect(primary.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'flagger-id': expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(primary.spec).toMatchObject({ minReadySeconds: 5, revisionHistoryLimit: 5, progressDeadlineSeconds: 60 });

    const ports = [{ name: 'http', port: 9898, protocol: 'TCP', targetPort: 9898 }];
    expect(out.obj(dir, 'service-podinfo').spec).toEqual({ type: 'ClusterIP', selector: { app: 'podinfo-primary' }, ports });
    expect(out.obj(dir, 'service-podinfo-primary').spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(out.obj(dir, 'service-podinfo-canary').spec.selector).toEqual({ app: 'podinfo' });
    expect(out.obj(dir, 'service-podinfo-canary').metadata.labels).toEqual({ app: 'podinfo-canary' });

    const hpa = out.obj(dir, 'horizontalpodautoscaler-podinfo-primary');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' });
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 6 }); // primaryScalerReplicas
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(90);
    expect(out.obj(dir, 'horizontalpodautoscaler-podinfo').spec.scaleTargetRef.name).toBe('podinfo');

    expect(out.obj(dir, 'destinationrule-podinfo-canary').spec).toEqual({ host: 'podinfo-canary', trafficPolicy: { tls: { mode: 'DISABLE' } } });
    const vs = out.obj(dir, 'virtualservice-podinfo');
    expect(vs.spec.hosts).toEqual(['app.example.com', 'podinfo']);
    expect(vs.spec.gateways).toEqual(['istio-system/public-gateway']);
    expect(vs.spec.http).toEqual([
      {
        retries: { attempts: 3, perTryTimeout: '1s', retryOn: 'gateway-error,connect-failure,refused-stream' },
        route: [
          { destination: { host: 'podinfo-primary' }, weight: 100 },
          { destination: { host: 'podinfo-canary' }, weight: 0 },
        ],
      },
    ]);
  });

  it('writes the analysis plan with Flagger defaults and rendered built-in queries', () => {
    const out = compileFixture('istio', stateDir);
    const plan = out.plan('test/podinfo');
    expect(plan).toMatchObject({
      namespace: 'test',
      name: 'podinfo',
      targetName: 'podinfo',
      serviceName: 'podinfo',
      provider: 'istio',
      strategy: 'canary',
      skipAnalysis: false,
      suspend: false,
      progressDeadlineSeconds: 120,
      metricsServer: 'http://prometheus:9090',
      stateFile: `${stateDir}/test/podinfo.json`,
    });
    expect(plan.analysis).toMatchObject({ intervalSeconds: 60, threshold: 5, maxWeight: 50, stepWeight: 10, iterations: 0, stepWeightPromotion: 0 });
    expect(plan.metrics.map((m) => [m.name, m.interval, m.thresholdRange, m.unit])).toEqual([
      ['request-success-rate', '1m', { min: 99 }, 'percent'],
      ['request-duration', '30s', { max: 500 }, 'milliseconds'],
    ]);
    expect(plan.metrics[1].query).toContain('istio_request_duration_milliseconds_bucket');
    expect(plan.metrics[1].query).toContain('destination_workload_namespace="test"');
    expect(plan.metrics[1].query).toContain('destination_workload=~"podinfo"');
    expect(plan.metrics[1].query).toContain('[30s]');
    for (const q of queries(out, 'test/podinfo')) expect(q).not.toContain('{{');
    expect(plan.webhooks).toEqual([
      {
        name: 'acceptance-test',
        type: 'pre-rollout',
        url: 'http://flagger-loadtester.test/',
        timeoutSeconds: 30,
        retries: 0,
        metadata: { type: 'bash', cmd: "curl -sd 'test' http://podinfo-canary:9898/token | grep token" },
      },
      { name: 'load-test', type: 'rollout', url: 'http://flagger-loadtester.test/', timeoutSeconds: 5, retries: 0, metadata: { cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/' } },
    ]);
    expect(plan.alerts).toBeUndefined();
  });

  it('scales the target to zero once initialized', () => {
    writeStage(stateDir, compileFixture('istio', stateDir).plan('test/podinfo'), { phase: 'Initialized' });
    expect(compileFixture('istio', stateDir).obj('test/podinfo', 'deployment-podinfo').spec.replicas).toBe(0);
  });

  it('renders the weights of the committed stage and scales the canary up from the HPA minimum', () => {
    const plan = compileFixture('istio', stateDir).plan('test/podinfo');
    writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 30 });
    const out = compileFixture('istio', stateDir);
    const route = out.obj('test/podinfo', 'virtualservice-podinfo').spec.http[0].route;
    expect(route.map((r: any) => [r.destination.host, r.weight])).toEqual([
      ['podinfo-primary', 70],
      ['podinfo-canary', 30],
    ]);
    expect(out.obj('test/podinfo', 'deployment-podinfo').spec.replicas).toBe(2);
  });

  it('passes objects no Canary refers to through unchanged', () => {
    const out = compileFixture('istio', stateDir);
    expect(out.compiled.passthrough).toBe(1);
    expect(out.files('_unreferenced')).toEqual(['namespace-test.yaml', 'kustomization.yaml']);
    expect(out.obj('_unreferenced', 'namespace-test')).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'test', labels: { 'istio-injection': 'enabled' } } });
  });
});

describe('passthrough of values YAML 1.1 readers could misread', () => {
  it('keeps quoted yes/on/0644 strings strings for kubectl', () => {
    const file = path.join(stateDir, 'cm.yaml');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  enabled: "yes"\n  mode: "0644"\n  switch: "on"\n  day: 2024-01-31\n');
    const text = compileFiles([file], { stateDir }).folders[0].files.get('configmap-flags.yaml')!;
    expect(parse(text, { version: '1.1' }).data).toEqual({ enabled: 'yes', mode: '0644', switch: 'on', day: '2024-01-31' });
  });
});

describe('podinfo on NGINX', () => {
  it('clones the Ingress as <ingress>-canary with canary annotations pointing at the canary Service', () => {
    const out = compileFixture('nginx', stateDir);
    const dir = 'test/podinfo';
    const user = out.obj(dir, 'ingress-podinfo');
    expect(user.spec.rules[0].http.paths[0].backend.service.name).toBe('podinfo'); // never modified
    const ing = out.obj(dir, 'ingress-podinfo-canary');
    expect(ing.metadata.labels).toEqual({ app: 'podinfo' });
    expect(ing.metadata.annotations).toEqual({
      'kubernetes.io/ingress.class': 'nginx',
      'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-weight': '0',
    });
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'podinfo-canary', port: { number: 80 } });
    expect(out.obj(dir, 'service-podinfo').spec).toMatchObject({ selector: { 'app.kubernetes.io/name': 'podinfo-primary' }, ports: [{ name: 'http', port: 80, targetPort: 9898, protocol: 'TCP' }] });
    expect(out.obj(dir, 'deployment-podinfo-primary').spec.replicas).toBe(2);
    expect(out.files(dir)).not.toContain('virtualservice-podinfo.yaml');
  });

  it('resolves {{ ingress }} in built-in and MetricTemplate queries', () => {
    const plan = compileFixture('nginx', stateDir).plan('test/podinfo');
    expect(plan).toMatchObject({ provider: 'nginx', ingressName: 'podinfo', strategy: 'canary', progressDeadlineSeconds: 60 });
    expect(plan.analysis).toMatchObject({ intervalSeconds: 10, threshold: 10, maxWeight: 50, stepWeight: 5 });
    const [builtin, latency] = plan.metrics;
    expect(builtin.query).toContain('nginx_ingress_controller_requests{');
    expect(builtin.query).toContain('ingress="podinfo"');
    expect(latency).toMatchObject({ name: 'latency', builtin: false, interval: '1m', thresholdRange: { max: 0.5 }, provider: { type: 'prometheus', address: 'http://prometheus.ingress-nginx:9090' } });
    expect(latency.query).toBe(
      'histogram_quantile(0.99,\n  sum(rate(nginx_ingress_controller_request_duration_seconds_bucket{\n    namespace="test", ingress="podinfo", canary!=""\n  }[1m])) by (le))\n',
    );
  });

  it('sets canary-weight to the committed canary weight', () => {
    const plan = compileFixture('nginx', stateDir).plan('test/podinfo');
    writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 15 });
    const out = compileFixture('nginx', stateDir);
    expect(out.obj('test/podinfo', 'ingress-podinfo-canary').metadata.annotations['nginx.ingress.kubernetes.io/canary-weight']).toBe('15');
    expect(out.obj('test/podinfo', 'deployment-podinfo').spec.replicas).toBe(2);
  });
});

describe('A/B testing with header and cookie matches', () => {
  const header = { 'x-canary': { regex: '.*insider.*' } };
  const cookie = { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } };

  it('Istio: a matching route and a default route, all traffic on the primary at bootstrap', () => {
    const out = compileFixture('ab-istio', stateDir);
    const dir = 'test/abtest';
    const vs = out.obj(dir, 'virtualservice-abtest');
    expect(vs.spec.hosts).toEqual(['abtest.example.com', 'abtest']);
    expect(vs.spec.http).toEqual([
      {
        match: [{ headers: header }, { headers: cookie }],
        route: [
          { destination: { host: 'abtest-primary' }, weight: 100 },
          { destination: { host: 'abtest-canary' }, weight: 0 },
        ],
      },
      { route: [{ destination: { host: 'abtest-primary' }, weight: 100 }] },
    ]);
    const plan = out.plan(dir);
    expect(plan.strategy).toBe('ab-testing');
    expect(plan.analysis).toMatchObject({ iterations: 10, hasMatch: true, stepWeight: 0 });
  });

  it('Istio: matching requests go to the canary during the run', () => {
    writeStage(stateDir, compileFixture('ab-istio', stateDir).plan('test/abtest'), { phase: 'Progressing', canaryWeight: 100, iterations: 2 });
    const http = compileFixture('ab-istio', stateDir).obj('test/abtest', 'virtualservice-abtest').spec.http;
    expect(http[0].route.map((r: any) => r.weight)).toEqual([0, 100]);
    expect(http[1].route).toEqual([{ destination: { host: 'abtest-primary' }, weight: 0 }]);
  });

  it('NGINX: canary-by-header and canary-by-cookie once the run starts', () => {
    const dir = 'test/abtest';
    const boot = compileFixture('ab-nginx', stateDir);
    const prefix = 'nginx.ingress.kubernetes.io';
    expect(boot.obj(dir, 'ingress-abtest-canary').metadata.annotations).toEqual({
      'kubernetes.io/ingress.class': 'nginx',
      [`${prefix}/canary`]: 'true',
      [`${prefix}/canary-weight`]: '0',
    });
    expect(boot.obj(dir, 'service-abtest').spec.ports[0].targetPort).toBe('http');
    expect(boot.plan(dir).strategy).toBe('ab-testing');

    writeStage(stateDir, boot.plan(dir), { phase: 'Progressing', canaryWeight: 100 });
    const run = compileFixture('ab-nginx', stateDir);
    expect(run.obj(dir, 'ingress-abtest-canary').metadata.annotations).toEqual({
      'kubernetes.io/ingress.class': 'nginx',
      [`${prefix}/canary`]: 'true',
      [`${prefix}/canary-weight`]: '0',
      [`${prefix}/canary-by-header`]: 'x-canary',
      [`${prefix}/canary-by-header-value`]: 'insider',
      [`${prefix}/canary-by-cookie`]: 'canary',
    });
  });
});

describe('blue/green with the Kubernetes provider', () => {
  it('emits no routing objects and exposes every container port', () => {
    const out = compileFixture('bluegreen', stateDir);
    const dir = 'test/podinfo';
    expect(out.files(dir).sort()).toEqual([
      'canary.plan.json',
      'deployment-podinfo-primary.yaml',
      'deployment-podinfo.yaml',
      'kustomization.yaml',
      'service-podinfo-canary.yaml',
      'service-podinfo-primary.yaml',
      'service-podinfo.yaml',
    ]);
    expect(out.obj(dir, 'service-podinfo').spec.ports).toEqual([
      { name: 'http', port: 9898, protocol: 'TCP', targetPort: 9898 },
      { name: 'http-metrics', port: 9797, protocol: 'TCP', targetPort: 9797 },
      { name: 'grpc', port: 9999, protocol: 'TCP', targetPort: 9999 },
    ]);
    const plan = out.plan(dir);
    expect(plan).toMatchObject({ provider: 'kubernetes', strategy: 'blue-green', progressDeadlineSeconds: 60 });
    expect(plan.analysis).toMatchObject({ intervalSeconds: 30, threshold: 2, iterations: 10 });
    expect(plan.metrics[0].query).toContain('kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"');
    expect(plan.metrics[1].query).toMatch(/\* 1000$/);
    expect(plan.webhooks.map((w) => [w.name, w.type, w.timeoutSeconds])).toEqual([
      ['smoke-test', 'pre-rollout', 15],
      ['load-test', 'rollout', 5],
    ]);
  });
});

describe('MetricTemplates, templateVariables and alerts', () => {
  it('resolves templateRef (other namespace), variables, custom address, headers and secretRef', () => {
    const out = compileFixture('metrics', stateDir);
    const dir = 'test/podinfo-release';
    const plan = out.plan(dir);
    expect(plan).toMatchObject({ name: 'podinfo-release', targetName: 'podinfo', serviceName: 'frontend', metricsServer: 'http://prometheus.istio-system:9090' });
    // Flagger order: built-in and inline metrics first, then template metrics, each in spec order.
    expect(plan.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'inline', '404s percentage', 'names']);
    const [, inline, notFound, names] = plan.metrics;
    expect(inline).toMatchObject({ query: 'sum(rate(http_requests_total{namespace="test"}[30s]))', provider: { address: 'http://prometheus.istio-system:9090' } });
    expect(notFound.provider).toEqual({ type: 'prometheus', address: 'http://thanos-query.monitoring:9090', headers: { 'X-Scope-OrgID': ['team-a'] }, secretRef: 'thanos-auth' });
    expect(notFound.interval).toBe('2m');
    expect(notFound.query).toContain('reporter="destination",\n          destination_workload_namespace="test",\n          destination_workload="podinfo",');
    expect(notFound.query).toContain('}[2m]');
    expect(names.query).toBe('sum(up{canary="podinfo-release", service="frontend", ingress="podinfo", route="podinfo"})');
    for (const q of queries(out, dir)) expect(q).not.toContain('{{');
    expect(out.files(dir)).toContain('virtualservice-frontend.yaml');
  });

  it('puts alerts with their resolved AlertProvider into the plan, never Secret data', () => {
    const out = compileFixture('metrics', stateDir);
    expect(out.plan('test/podinfo-release').alerts).toEqual([
      {
        name: 'on-call Slack',
        severity: 'error',
        provider: { name: 'on-call', namespace: 'flagger', type: 'slack', channel: 'on-call-alerts', username: 'flagger', address: 'https://hooks.slack.com/services/T000/B000/XXXX' },
      },
      { name: 'dev team MS Teams', severity: 'info', provider: { name: 'dev-team', namespace: 'test', type: 'msteams', channel: 'general', username: 'flagger', secretRef: 'msteams-webhook' } },
    ]);
  });

  it('warns about unused Flagger resources and writes no manifest for them', () => {
    const out = compileFixture('metrics', stateDir);
    expect(out.compiled.warnings).toEqual([expect.stringContaining('metrics/templates.yaml#3 MetricTemplate test/unused is not used by any Canary')]);
    expect(out.dirs).toEqual(['test/podinfo-release']);
  });
});

describe('ConfigMap tracking (default provider)', () => {
  it('copies tracked ConfigMaps to -primary and points the primary at them', () => {
    const out = compileFixture('config-tracking', stateDir);
    const dir = 'test/podinfo';
    expect(out.plan(dir).provider).toBe('istio');
    expect(out.obj(dir, 'configmap-podinfo-env-primary').data).toEqual({ PODINFO_UI_COLOR: '#34577c', PODINFO_UI_MESSAGE: 'greetings' });
    expect(out.obj(dir, 'configmap-podinfo-files-primary').data).toEqual({ 'config.yaml': 'level: info\n' });
    expect(out.files(dir)).not.toContain('configmap-podinfo-static-primary.yaml'); // flagger.app/config-tracking: disabled
    expect(out.files(dir)).toEqual(expect.arrayContaining(['configmap-podinfo-env.yaml', 'configmap-podinfo-files.yaml', 'configmap-podinfo-static.yaml']));
    expect(Object.keys(out.plan(dir).canary.configMaps)).toEqual(['podinfo-env', 'podinfo-files']);

    const pod = out.obj(dir, 'deployment-podinfo-primary').spec.template.spec;
    expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: 'podinfo-env-primary' } }]);
    expect(pod.containers[0].env[0].valueFrom.configMapKeyRef.name).toBe('podinfo-optional');
    expect(pod.volumes).toEqual([
      { name: 'config', configMap: { name: 'podinfo-files-primary', defaultMode: 420 } }, // 0644, read as YAML 1.1 like kubectl
      { name: 'static', configMap: { name: 'podinfo-static' } },
    ]);
    expect(out.files('_unreferenced')).toEqual(['configmap-unrelated.yaml', 'kustomization.yaml']);
  });
});

describe('compile()', () => {
  it('writes the rendered folders to outdir and reports what it did', async () => {
    const outdir = tempDir();
    try {
      const result = await compile({ files: [path.join(FIXTURES, 'istio')], outdir, stateDir });
      expect(result).toMatchObject({ folders: 2, canaries: ['test/podinfo'], passthrough: 1, warnings: [], outdir });
      const rendered = compileFixture('istio', stateDir);
      for (const dir of rendered.dirs) {
        for (const file of rendered.files(dir)) expect(fs.readFileSync(path.join(outdir, dir, file), 'utf8')).toBe(rendered.text(dir, file));
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('every compiled manifest', () => {
  it.each(['istio', 'nginx', 'ab-istio', 'ab-nginx', 'bluegreen', 'metrics', 'config-tracking', 'identity', 'linkerd', 'smi'])('%s: valid against the Kubernetes, Istio, Gateway API and SMI schemas', (fixture) => {
    const out = compileFixture(fixture, stateDir);
    const problems: string[] = [];
    for (const dir of out.dirs) {
      for (const file of out.files(dir)) {
        if (file === 'canary.plan.json' || file === 'kustomization.yaml') continue;
        for (const p of manifestProblems(parse(out.text(dir, file)))) problems.push(`${dir}/${file}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
