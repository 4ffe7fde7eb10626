import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Canary, CanaryApp, Provider } from './index';
import { FAMILIES, FamilyChart, KnativeChart } from './examples/families';

/** podinfo behind an Istio gateway, analysed with the built-in metrics and a load-test webhook. */
class PodinfoChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'test' });
    const deploy = new kplus.Deployment(this, 'podinfo', {
      metadata: { name: 'podinfo' },
      replicas: 2,
      select: false,
      podMetadata: { labels: { app: 'podinfo' } },
      containers: [
        {
          name: 'podinfod',
          image: 'ghcr.io/stefanprodan/podinfo:6.1.0',
          ports: [{ number: 9898, name: 'http' }],
          command: ['./podinfo', '--port=9898', '--level=info'],
          readiness: kplus.Probe.fromHttpGet('/readyz', { port: 9898 }),
          liveness: kplus.Probe.fromHttpGet('/healthz', { port: 9898 }),
          resources: { cpu: { request: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(64) } },
          securityContext: { user: 1000, group: 1000 },
        },
      ],
    });
    deploy.select(kplus.LabelSelector.of({ labels: { app: 'podinfo' } }));
    new Canary(this, 'canary', {
      target: deploy,
      service: { port: 9898, targetPort: 9898, portName: 'http' },
      provider: Provider.istio({ gateways: ['public-gateway.istio-system.svc.cluster.local'], hosts: ['app.example.com'] }),
      analysis: {
        interval: Duration.minutes(1),
        threshold: 5,
        maxWeight: 50,
        stepWeight: 10,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) },
          { name: 'request-duration', thresholdRange: { max: 500 }, interval: Duration.seconds(30) },
        ],
        webhooks: [
          {
            name: 'load-test',
            url: 'http://flagger-loadtester.test/',
            timeout: Duration.seconds(5),
            metadata: { cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/' },
          },
        ],
      },
    });
  }
}

/** frontend behind the NGINX ingress controller, an L1 Deployment and Ingress. */
class FrontendChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'web' });
    const labels = { app: 'frontend' };
    const deploy = new kplus.k8s.KubeDeployment(this, 'frontend', {
      metadata: { name: 'frontend', labels },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'frontend',
                image: 'ghcr.io/example/frontend:2.4.0',
                ports: [{ name: 'http', containerPort: 8080 }],
                envFrom: [{ configMapRef: { name: 'frontend-config' } }],
              },
            ],
          },
        },
      },
    });
    new kplus.k8s.KubeConfigMap(this, 'config', {
      metadata: { name: 'frontend-config' },
      data: { API_URL: 'https://api.example.com', FEATURE_FLAGS: 'checkout-v2' },
    });
    const ingress = new kplus.k8s.KubeIngress(this, 'ingress', {
      metadata: { name: 'frontend', annotations: { 'kubernetes.io/ingress.class': 'nginx' } },
      spec: {
        rules: [
          {
            host: 'www.example.com',
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'frontend', port: { number: 80 } } } }] },
          },
        ],
      },
    });
    new Canary(this, 'canary', {
      target: deploy,
      service: { port: 80, targetPort: 'http' },
      provider: Provider.nginx({ ingress }),
      analysis: {
        interval: Duration.minutes(2),
        threshold: 3,
        stepWeights: [5, 10, 25, 50],
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
      },
    });
  }
}

/** Builds the example app (exported for tests and the benchmark). */
export function buildExampleApp(outdir?: string): CanaryApp {
  const app = new CanaryApp({ outdir });
  new PodinfoChart(app, 'podinfo');
  new FrontendChart(app, 'frontend');
  // One canary per other provider family (src/examples/families.ts).
  for (const family of FAMILIES) new FamilyChart(app, family.namespace, family);
  new KnativeChart(app, 'knative-demo');
  return app;
}

if (require.main === module) {
  buildExampleApp().synth();
}
