import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Canary, CanaryApp, CanaryProps, Provider } from '../../src';
import { compileFiles } from '../../src/compile';
import { OutputFolder } from '../../src/constructs/output';
import { FIXTURES, tempDir, writeStage } from './support';

/** The app test/fixtures/flagger/identity/podinfo.yaml describes, written as cdk8s TypeScript. */
function typescriptApp(stateDir: string): CanaryApp {
  const app = new CanaryApp();
  const chart = new Chart(app, 'podinfo', { namespace: 'test' });
  const labels = { app: 'podinfo' };
  const deploy = new k8s.KubeDeployment(chart, 'deployment', {
    metadata: { name: 'podinfo', labels, annotations: { team: 'web' } },
    spec: {
      minReadySeconds: 3,
      progressDeadlineSeconds: 60,
      revisionHistoryLimit: 5,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'podinfod',
              image: 'ghcr.io/stefanprodan/podinfo:6.1.0',
              command: ['./podinfo', '--port=9898', '--level=info'],
              envFrom: [{ configMapRef: { name: 'podinfo-config' } }],
              ports: [{ name: 'http', containerPort: 9898, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/readyz', port: k8s.IntOrString.fromNumber(9898) } },
              resources: { requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('64Mi') } },
            },
          ],
        },
      },
    },
  });
  new k8s.KubeConfigMap(chart, 'config', { metadata: { name: 'podinfo-config' }, data: { PODINFO_UI_MESSAGE: 'hello' } });
  const hpa = new k8s.KubeHorizontalPodAutoscalerV2(chart, 'hpa', {
    metadata: { name: 'podinfo' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    },
  });
  new Canary(chart, 'canary', {
    target: deploy,
    autoscaler: hpa,
    primaryScalerReplicas: { minReplicas: 3 },
    progressDeadline: Duration.seconds(300),
    service: { port: 80, targetPort: 'http', portName: 'http-web', apex: { annotations: { owner: 'web-team' } }, canary: { labels: { track: 'canary' } } },
    provider: Provider.istio({ gateways: ['istio-system/public-gateway', 'mesh'], hosts: ['podinfo.example.com'], timeout: Duration.seconds(15) }),
    analysis: {
      interval: Duration.seconds(30),
      threshold: 3,
      maxWeight: 60,
      stepWeight: 20,
      stepWeightPromotion: 50,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) },
        {
          name: 'error-rate',
          template: {
            name: 'error-rate',
            namespace: 'test',
            provider: { type: 'prometheus', address: 'http://prometheus.monitoring:9090' },
            query: 'sum(rate(http_errors_total{namespace="{{ namespace }}", app="{{ target }}", env="{{ variables.env }}"}[{{ interval }}]))',
          },
          templateVariables: { env: 'prod' },
          thresholdRange: { max: 1 },
          interval: Duration.minutes(2),
        },
      ],
      webhooks: [{ name: 'load-test', url: 'http://flagger-loadtester.test/', timeout: Duration.seconds(10), retries: 2, metadata: { cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test/' } }],
    },
    stateDir,
  });
  return app;
}

/** dir -> file -> content, for a byte comparison that ignores only the order files were rendered in. */
function asRecord(folders: readonly OutputFolder[]): Record<string, Record<string, string>> {
  return Object.fromEntries(folders.map((f) => [f.dir, Object.fromEntries([...f.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))]));
}

describe('a YAML Canary and the equivalent TypeScript app', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = tempDir();
  });
  afterEach(() => {
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const yamlFolders = (): OutputFolder[] => compileFiles([path.join(FIXTURES, 'identity')], { stateDir }).folders;

  it('render byte-identical folders at the bootstrap stage', () => {
    const fromYaml = asRecord(yamlFolders());
    const fromTs = asRecord(typescriptApp(stateDir).render());
    expect(Object.keys(fromYaml)).toEqual(['test/podinfo']);
    expect(Object.keys(fromYaml['test/podinfo'])).toContain('configmap-podinfo-config-primary.yaml');
    expect(fromYaml).toEqual(fromTs);
  });

  it('render byte-identical folders mid-rollout (weights, scaled-up target)', () => {
    const plan = JSON.parse(yamlFolders()[0].files.get('canary.plan.json')!);
    writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 40 });
    const fromYaml = asRecord(yamlFolders());
    expect(fromYaml['test/podinfo']['virtualservice-podinfo.yaml']).toContain('weight: 40');
    expect(fromYaml).toEqual(asRecord(typescriptApp(stateDir).render()));
  });
});

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.2.3
          ports:
            - containerPort: 9898
`;

/** A TypeScript app with the same Deployment as WEB and a Canary with `props`. */
function webApp(stateDir: string, props: Omit<CanaryProps, 'target' | 'stateDir'>): CanaryApp {
  const app = new CanaryApp();
  const chart = new Chart(app, 'web', { namespace: 'shop' });
  const labels = { 'app.kubernetes.io/name': 'web' };
  const target = new k8s.KubeDeployment(chart, 'web', {
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'ghcr.io/example/web:1.2.3', ports: [{ containerPort: 9898 }] }] } },
    },
  });
  new Canary(chart, 'canary', { ...props, target, stateDir });
  return app;
}

describe('every honoured Canary field reaches the construct', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir();
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });
  const compileText = (canaryYaml: string): OutputFolder[] => {
    fs.writeFileSync(path.join(work, 'in.yaml'), `${WEB}---\n${canaryYaml}`);
    return compileFiles([path.join(work, 'in.yaml')], { stateDir: path.join(work, 'state') }).folders;
  };

  it('Istio: service routing options, metadata, mirror, session affinity, readiness thresholds, suspend', () => {
    const fromYaml = compileText(`apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: web
  namespace: shop
spec:
  metricsServer: http://prometheus.monitoring:9090
  suspend: true
  skipAnalysis: false
  progressDeadlineSeconds: 90
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  service:
    name: storefront
    port: 8080
    targetPort: 9898
    portName: http-web
    appProtocol: http
    gateways: [istio-system/public]
    hosts: [shop.example.com]
    trafficPolicy:
      tls:
        mode: ISTIO_MUTUAL
    match:
      - uri:
          prefix: /shop
    rewrite:
      uri: /
    retries:
      attempts: 2
      perTryTimeout: 500ms
      retryOn: 5xx
    timeout: 1m30s
    headers:
      request:
        add:
          x-env: prod
      response:
        remove: [x-powered-by]
    corsPolicy:
      allowOrigins:
        - exact: https://example.com
      allowMethods: [GET]
      maxAge: 24h
    apex:
      labels:
        tier: web
    primary:
      annotations:
        note: primary
  analysis:
    interval: 45s
    threshold: 2
    maxWeight: 30
    stepWeight: 10
    mirror: true
    mirrorWeight: 25
    primaryReadyThreshold: 50
    canaryReadyThreshold: 80
    sessionAffinity:
      cookieName: canary-cookie
      primaryCookieName: primary-cookie
      maxAge: 3600
`);
    const fromTs = webApp(path.join(work, 'state'), {
      metricsServer: 'http://prometheus.monitoring:9090',
      suspend: true,
      skipAnalysis: false,
      progressDeadline: Duration.seconds(90),
      service: {
        name: 'storefront',
        port: 8080,
        targetPort: 9898,
        portName: 'http-web',
        appProtocol: 'http',
        apex: { labels: { tier: 'web' } },
        primary: { annotations: { note: 'primary' } },
      },
      provider: Provider.istio({
        gateways: ['istio-system/public'],
        hosts: ['shop.example.com'],
        trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
        match: [{ uri: { prefix: '/shop' } }],
        rewrite: { uri: '/' },
        retries: { attempts: 2, perTryTimeout: Duration.millis(500), retryOn: '5xx' },
        timeout: Duration.seconds(90),
        headers: { request: { add: { 'x-env': 'prod' } }, response: { remove: ['x-powered-by'] } },
        corsPolicy: { allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['GET'], maxAge: '24h' },
      }),
      analysis: {
        interval: Duration.seconds(45),
        threshold: 2,
        maxWeight: 30,
        stepWeight: 10,
        mirror: true,
        mirrorWeight: 25,
        primaryReadyThreshold: 50,
        canaryReadyThreshold: 80,
        sessionAffinity: { cookieName: 'canary-cookie', primaryCookieName: 'primary-cookie', maxAge: Duration.hours(1) },
      },
    }).render();
    expect(asRecord(fromYaml)).toEqual(asRecord(fromTs));

    const files = asRecord(fromYaml)['shop/web'];
    const vs = files['virtualservice-storefront.yaml'];
    for (const text of ['prefix: /shop', 'uri: /', 'perTryTimeout: 500ms', 'timeout: 90s', 'x-env: prod', 'https://example.com', 'tier: web', 'mode: ISTIO_MUTUAL']) {
      expect(vs + files['destinationrule-storefront-primary.yaml']).toContain(text);
    }
    expect(files['service-storefront.yaml']).toContain('appProtocol: http');
    const plan = JSON.parse(files['canary.plan.json']);
    expect(plan).toMatchObject({ suspend: true, progressDeadlineSeconds: 90, metricsServer: 'http://prometheus.monitoring:9090' });
    expect(plan.analysis).toMatchObject({ intervalSeconds: 45, mirror: true, mirrorWeight: 25, primaryReadyThreshold: 50, canaryReadyThreshold: 80, sessionAffinity: { cookieName: 'canary-cookie', primaryCookieName: 'primary-cookie', maxAge: 3600 } });
  });

  it('Gateway API: gatewayRefs, hosts, matches, timeouts, A/B match', () => {
    const fromYaml = compileText(`apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: web
  namespace: shop
spec:
  provider: gatewayapi:v1
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  service:
    port: 9898
    gatewayRefs:
      - name: public
        namespace: gateways
        sectionName: https
    hosts: [shop.example.com]
    match:
      - uri:
          prefix: /shop
    timeout: 30s
    backendTimeout: 10s
  analysis:
    interval: 1m
    threshold: 2
    iterations: 5
    match:
      - headers:
          x-canary:
            exact: insider
`);
    const fromTs = webApp(path.join(work, 'state'), {
      service: { port: 9898 },
      provider: Provider.gatewayApi({
        gatewayRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
        hosts: ['shop.example.com'],
        match: [{ uri: { prefix: '/shop' } }],
        timeout: Duration.seconds(30),
        backendTimeout: Duration.seconds(10),
      }),
      analysis: { interval: Duration.minutes(1), threshold: 2, iterations: 5, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
    }).render();
    expect(asRecord(fromYaml)).toEqual(asRecord(fromTs));
    const route = asRecord(fromYaml)['shop/web']['httproute-web.yaml'];
    for (const text of ['sectionName: https', 'shop.example.com', 'value: /shop', 'backendRequest: 10s', 'value: insider']) expect(route).toContain(text);
  });
});
