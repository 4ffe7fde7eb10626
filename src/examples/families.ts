import { ApiObject, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { Canary } from '../constructs/canary';
import { Provider } from '../constructs/provider';

// One canary per traffic-provider family besides Istio and NGINX (src/main.ts has those), each a
// small Flagger-tutorial-shaped app in its own namespace: what a user writes for that provider.

/** A provider family's example: the namespace it lives in and how its Canary routes traffic. */
interface Family {
  readonly namespace: string;
  /** The Canary's provider; `chart` is where user objects the provider reads (an Ingress, a route) go. */
  provider(chart: Chart): Provider;
  /** Blue/green by iterations instead of weight steps (providers without traffic shifting). */
  readonly iterations?: number;
}

const PORT = 9898;

/** A user Ingress sending www.example.com to the apex Service `app` (for Skipper). */
function ingress(chart: Chart): IConstruct {
  return new kplus.k8s.KubeIngress(chart, 'ingress', {
    metadata: { name: 'app' },
    spec: {
      rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app', port: { number: PORT } } } }] } }],
    },
  });
}

/** The user's ApisixRoute of Flagger's APISIX tutorial, pointing at the apex Service. */
function apisixRoute(chart: Chart): IConstruct {
  return new ApiObject(chart, 'route', {
    apiVersion: 'apisix.apache.org/v2',
    kind: 'ApisixRoute',
    metadata: { name: 'app' },
    spec: { http: [{ name: 'method', match: { hosts: ['app.example.com'], paths: ['/*'] }, backends: [{ serviceName: 'app', servicePort: PORT }] }] },
  });
}

/** The families, one namespace each (named after the family). */
export const FAMILIES: readonly Family[] = [
  { namespace: 'gateway-api-demo', provider: () => Provider.gatewayApi({ gatewayRefs: [{ name: 'public', namespace: 'gateway-system' }], hosts: ['app.example.com'] }) },
  { namespace: 'blue-green-demo', provider: () => Provider.kubernetes(), iterations: 5 },
  { namespace: 'linkerd-demo', provider: () => Provider.linkerd() },
  { namespace: 'contour-demo', provider: () => Provider.contour() },
  { namespace: 'traefik-demo', provider: () => Provider.traefik() },
  { namespace: 'appmesh-demo', provider: () => Provider.appMesh() },
  { namespace: 'gloo-demo', provider: () => Provider.gloo() },
  { namespace: 'skipper-demo', provider: (chart) => Provider.skipper({ ingress: ingress(chart) }) },
  { namespace: 'kuma-demo', provider: () => Provider.kuma() },
  { namespace: 'apisix-demo', provider: (chart) => Provider.apisix({ route: apisixRoute(chart) }) },
];

/** podinfo as `app` in the family's namespace, with a Canary on the family's provider. */
export class FamilyChart extends Chart {
  constructor(scope: Construct, id: string, family: Family) {
    super(scope, id, { namespace: family.namespace });
    const labels = { app: 'app' };
    const deploy = new kplus.k8s.KubeDeployment(this, 'app', {
      metadata: { name: 'app', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'podinfod', image: 'ghcr.io/stefanprodan/podinfo:6.1.0', ports: [{ name: 'http', containerPort: PORT }] }] },
        },
      },
    });
    new Canary(this, 'canary', {
      target: deploy,
      service: { port: PORT, targetPort: PORT },
      provider: family.provider(this),
      analysis: {
        interval: Duration.minutes(1),
        threshold: 5,
        ...(family.iterations ? { iterations: family.iterations } : { stepWeight: 10, maxWeight: 50 }),
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) },
          { name: 'request-duration', thresholdRange: { max: 500 }, interval: Duration.minutes(1) },
        ],
      },
    });
  }
}

/** Knative: the target is a Knative Service whose revisions are canary and primary (no Services). */
export class KnativeChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'knative-demo' });
    const service = new ApiObject(this, 'app', {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'app' },
      spec: { template: { spec: { containers: [{ image: 'ghcr.io/stefanprodan/podinfo:6.1.0', ports: [{ containerPort: PORT }] }] } } },
    });
    new Canary(this, 'canary', {
      target: service,
      provider: Provider.knative(),
      analysis: {
        interval: Duration.minutes(1),
        threshold: 5,
        stepWeight: 10,
        maxWeight: 50,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) }],
      },
    });
  }
}
