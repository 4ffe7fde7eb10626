import * as fs from 'node:fs';
import { testMetricSource } from './metric-source';
import * as path from 'node:path';
import { ApiObject, Chart, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Canary, CanaryApp, Provider } from '../../src';
import { CanarykitConfig, DEFAULT_CONFIG } from '../../src/adapters/config';
import { DriverDeps } from '../../src/driver/driver';
import { openGitWorkspace } from '../../src/adapters/git/git';
import { clientForProvider } from '../../src/adapters/prometheus/client';
import { callWebhook } from '../../src/adapters/webhooks/call';
import { OpenMetricsWriter } from './prometheus-server';

/** What the test repository's `app.json` declares: one podinfo canary per namespace. */
export interface AppSpec {
  canaries: {
    namespace: string;
    image: string;
    threshold?: number;
    stepWeight?: number;
    maxWeight?: number;
    webhooks?: { name: string; type: string; url: string; muteAlert?: boolean }[];
    /** Analysis interval in minutes. @default 1 */
    intervalMinutes?: number;
    stepWeightPromotion?: number;
    skipAnalysis?: boolean;
    suspend?: boolean;
    /** A/B (with `abHeader`) or blue/green iterations. */
    iterations?: number;
    abHeader?: string;
    /** A Slack alert provider (severity info) posting here. */
    slack?: string;
    /** Traffic provider. @default 'istio' (Gateway API attaches to Gateway gateway-system/public) */
    provider?: 'istio' | 'gatewayapi' | 'contour' | 'traefik' | 'appmesh' | 'appmeshv1beta2' | 'kuma' | 'apisix' | 'knative';
  }[];
}

/**
 * The test repository's cdk8s app, run in-process (the CLI runs the configured synth command; the
 * driver tests inject this to keep ticks fast). Reads app.json from the repository like a real app
 * reads its inputs.
 */
export function synthRepo(repoDir: string, metricsServer: string): void {
  const spec = JSON.parse(fs.readFileSync(path.join(repoDir, 'app.json'), 'utf8')) as AppSpec;
  const app = new CanaryApp({ outdir: path.join(repoDir, 'dist'), stateRoot: repoDir });
  for (const c of spec.canaries) {
    const chart = new Chart(app, `podinfo-${c.namespace}`, { namespace: c.namespace });
    const labels = { app: 'podinfo' };
    // Knative: the target is a Knative Service, whose revisions are canary and primary; no Services.
    const knative = c.provider === 'knative';
    const target = knative ? new ApiObject(chart, 'podinfo', { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'podinfo' }, spec: { template: knativeTemplate(c.image) } }) : new k8s.KubeDeployment(chart, 'podinfo', {
      metadata: { name: 'podinfo', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'podinfod', image: c.image, ports: [{ name: 'http', containerPort: 9898 }] }] } },
      },
    });
    new Canary(chart, 'canary', {
      target,
      service: knative ? undefined : { port: 9898 },
      provider: providerOf(c.provider, chart),
      metricsServer,
      skipAnalysis: c.skipAnalysis,
      suspend: c.suspend,
      analysis: {
        interval: Duration.minutes(c.intervalMinutes ?? 1),
        threshold: c.threshold ?? 2,
        ...(c.iterations ? { iterations: c.iterations } : { stepWeight: c.stepWeight ?? 10, maxWeight: c.maxWeight ?? 50 }),
        ...(c.abHeader ? { match: [{ headers: { [c.abHeader]: { exact: 'insider' } } }] } : {}),
        stepWeightPromotion: c.stepWeightPromotion,
        alerts: c.slack ? [{ name: 'slack', severity: 'info' as const, provider: { name: 'slack', type: 'slack' as const, channel: 'deploys', address: c.slack } }] : undefined,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) },
          { name: 'request-duration', thresholdRange: { max: 500 }, interval: Duration.minutes(1) },
        ],
        webhooks: c.webhooks?.map((w) => ({ name: w.name, type: w.type as never, url: w.url, muteAlert: w.muteAlert })),
      },
    });
  }
  app.synth();
}

function providerOf(name: AppSpec['canaries'][number]['provider'], chart: Chart): Provider {
  switch (name) {
    case 'gatewayapi':
      return Provider.gatewayApi({ gatewayRefs: [{ name: 'public', namespace: 'gateway-system' }], hosts: ['app.example.com'] });
    case 'contour':
      return Provider.contour();
    case 'traefik':
      return Provider.traefik();
    case 'appmesh':
      return Provider.appMesh({ apiVersion: 'v1beta1', meshName: 'global' });
    case 'appmeshv1beta2':
      return Provider.appMesh();
    case 'kuma':
      return Provider.kuma();
    case 'apisix': {
      // The user's ApisixRoute of Flagger's APISIX tutorial, pointing at the apex Service.
      const route = new ApiObject(chart, 'route', {
        apiVersion: 'apisix.apache.org/v2',
        kind: 'ApisixRoute',
        metadata: { name: 'podinfo' },
        spec: { http: [{ name: 'method', match: { hosts: ['app.example.com'], paths: ['/*'] }, backends: [{ serviceName: 'podinfo', servicePort: 9898 }] }] },
      } as never);
      return Provider.apisix({ route });
    }
    case 'knative':
      return Provider.knative();
    case 'istio':
    case undefined:
      return Provider.istio({ hosts: ['app.example.com'] });
  }
}

/** The pod template of the Knative Service synthRepo writes for `image` (tests derive revision names from it). */
export function knativeTemplate(image: string): Record<string, any> {
  return { spec: { containers: [{ image, ports: [{ containerPort: 9898 }] }] } };
}

export function appJson(spec: AppSpec): string {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** Istio traffic for `podinfo` in `namespace`: `rps` requests per second, `errorRatio` of them 500s. */
export function istioTraffic(w: OpenMetricsWriter, namespace: string, rps: number, errorRatio: number): OpenMetricsWriter {
  const base = { reporter: 'destination', destination_workload_namespace: namespace, destination_workload: 'podinfo' };
  w.counter('istio_requests_total', { ...base, response_code: '200' }, rps * (1 - errorRatio));
  if (errorRatio > 0) w.counter('istio_requests_total', { ...base, response_code: '500' }, rps * errorRatio);
  // Every request takes 20-50 ms: p99 lands in the 50 ms bucket.
  for (const le of ['10', '25', '50', '100', '250', '500', '+Inf']) {
    const share = le === '10' ? 0 : le === '25' ? 0.5 : 1;
    w.counter('istio_request_duration_milliseconds_bucket', { ...base, le }, rps * share);
  }
  return w;
}

/**
 * Traffic for `podinfo` in `namespace` as the generic HTTP observer (Gateway API, kubernetes)
 * reads it: `rps` requests per second on one canary pod, all 200s, p99 in the 50 ms bucket.
 */
export function httpTraffic(w: OpenMetricsWriter, namespace: string, rps: number): OpenMetricsWriter {
  const pod = { kubernetes_namespace: namespace, kubernetes_pod_name: 'podinfo-7b9c5d6f4-x2k9p', status: '200' };
  return w.histogram('http_request_duration_seconds', pod, { '0.025': rps / 2, '0.05': rps, '0.1': rps }, rps * 0.03);
}

/**
 * The kube-state-metrics custom-resource-state series of the canary's HTTPRoute `podinfo`
 * (deploy/kube-state-metrics/httproute-crs-config.yaml): generation `generation`, and parent
 * gateway-system/public with an Accepted condition of `status` observed at `observed(t)`.
 */
export function httpRouteStatus(
  w: OpenMetricsWriter,
  namespace: string,
  opts: { generation?: number; status?: string; observed?: (t: number) => number | undefined } = {},
): OpenMetricsWriter {
  const generation = opts.generation ?? 3;
  const route = { namespace, name: 'podinfo' };
  w.gauge('canarykit_httproute_metadata_generation', route, generation);
  const parent = { ...route, parent_name: 'public', parent_namespace: 'gateway-system', controller_name: 'example.com/gateway', status: opts.status ?? 'True' };
  return w.series('canarykit_httproute_parent_accepted_observed_generation', parent, opts.observed ?? (() => generation));
}

/** kube-state-metrics series of a ready Deployment with `replicas`. */
export function readyDeployment(w: OpenMetricsWriter, namespace: string, deployment: string, replicas: number): OpenMetricsWriter {
  const l = { namespace, deployment };
  w.gauge('kube_deployment_metadata_generation', l, 3)
    .gauge('kube_deployment_status_observed_generation', l, 3)
    .gauge('kube_deployment_spec_replicas', l, replicas)
    .gauge('kube_deployment_status_replicas', l, replicas)
    .gauge('kube_deployment_status_replicas_updated', l, replicas)
    .gauge('kube_deployment_status_replicas_available', l, replicas);
  return w;
}

export const TEST_CONFIG: CanarykitConfig = {
  ...DEFAULT_CONFIG,
  git: { ...DEFAULT_CONFIG.git, committer: { name: 'canarykit', email: 'canarykit@example.test' } },
};

/** Real adapters (git, Prometheus, webhooks) with an in-process synth and a movable clock. */
export function realDeps(repoDir: string, prometheusUrl: string, clock: { now: Date }, logs: string[] = []): DriverDeps {
  return {
    git: openGitWorkspace({ dir: repoDir, committer: TEST_CONFIG.git.committer }),
    synth: async () => synthRepo(repoDir, prometheusUrl),
    now: () => clock.now,
    log: (l) => logs.push(l),
    metricsClient: (provider, driverServer) => clientForProvider(provider, { timeoutMs: 2000, driverAddress: driverServer }),
    metricSource: testMetricSource(),
    callWebhook: (hook, ctx) => callWebhook(hook, ctx),
  };
}

/** A healthy podinfo canary in `namespace`: clean traffic and both Deployments ready with 2 replicas. */
export function healthyPodinfo(w: OpenMetricsWriter, namespace: string): OpenMetricsWriter {
  istioTraffic(w, namespace, 10, 0);
  readyDeployment(w, namespace, 'podinfo', 2);
  return readyDeployment(w, namespace, 'podinfo-primary', 2);
}
