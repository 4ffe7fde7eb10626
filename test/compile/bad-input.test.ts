import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src';
import { compile } from '../../src/compile';
import { tempDir } from './support';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from '../../src/constructs/output-dir';

// Every bad input is one clear error naming the file, the document, the resource and the field,
// and nothing is written: the pre-populated output folder stays exactly as it was.

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.1.0
`;

interface CanaryOptions {
  apiVersion?: string;
  provider?: string;
  spec?: string;
  service?: string;
  analysis?: string;
}

/** A podinfo Canary; each option replaces or extends one part. */
function canary(o: CanaryOptions = {}): string {
  return `apiVersion: ${o.apiVersion ?? 'flagger.app/v1beta1'}
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
${o.provider ? `  provider: ${o.provider}\n` : ''}  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
${o.spec ?? ''}  service:
    port: 9898
${o.service ?? ''}  analysis:
${o.analysis ?? '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n'}`;
}

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: podinfo
  namespace: test
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: podinfo
                port:
                  number: 9898
`;

/** [name, documents of podinfo.yaml, substrings the error message must contain]. */
const CASES: Array<[string, string[], string[]]> = [
  ['unknown kind', [DEPLOYMENT, canary().replace('kind: Canary', 'kind: Canry')], ['podinfo.yaml#2', 'kind: unknown kind "Canry" in flagger.app', 'Canary, MetricTemplate, AlertProvider']],
  ['wrong apiVersion', [DEPLOYMENT, canary({ apiVersion: 'flagger.app/v1alpha1' })], ['podinfo.yaml#2 Canary test/podinfo: apiVersion: wrong apiVersion "flagger.app/v1alpha1" for Canary', 'flagger.app/v1beta1']],
  ['missing targetRef object', [canary()], ['podinfo.yaml#1 Canary test/podinfo: spec.targetRef: Deployment test/podinfo is not among the inputs', '-f']],
  ['YAML syntax error', [DEPLOYMENT, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\ndata:\n  a: b\n'], ['podinfo.yaml#2: YAML syntax error at line']],
  ['duplicate names', [DEPLOYMENT, DEPLOYMENT.replace('image: ', 'image: other-'), canary()], ['podinfo.yaml#2 Deployment test/podinfo: duplicate: ', 'podinfo.yaml#1 already defines apps/v1 Deployment test/podinfo']],
  ['duplicate canaries', [DEPLOYMENT, canary(), canary()], ['podinfo.yaml#3 Canary test/podinfo: duplicate', 'podinfo.yaml#2 already defines']],
  ['maxWeight above 100', [DEPLOYMENT, canary({ analysis: '    interval: 1m\n    threshold: 5\n    maxWeight: 150\n    stepWeight: 10\n' })], ['podinfo.yaml#2 Canary test/podinfo: spec.analysis.maxWeight: must be <= 100 (got 150) (line 34)']],
  ['fractional stepWeight', [DEPLOYMENT, canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 7.5\n' })], ['spec.analysis.stepWeight: must be integer (got 7.5)']],
  ['descending stepWeights', [DEPLOYMENT, canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeights: [20, 10]\n' })], ['podinfo.yaml#2 Canary test/podinfo: spec.analysis.stepWeights[1]: must be greater than the previous step 20 (got 10)']],
  ['stepWeight and stepWeights', [DEPLOYMENT, canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    stepWeights: [10, 20]\n' })], ['spec.analysis: must set interval, threshold and exactly one of iterations, stepWeight, stepWeights (found stepWeight and stepWeights)']],
  ['no weights or iterations', [DEPLOYMENT, canary({ analysis: '    interval: 1m\n    threshold: 5\n' })], ['spec.analysis: must set interval, threshold and exactly one of iterations, stepWeight, stepWeights']],
  ['mirror on NGINX', [DEPLOYMENT, INGRESS, canary({ provider: 'nginx', spec: '  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n', analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    mirror: true\n' })], ['spec.analysis.mirror: NGINX cannot mirror traffic']],
  ['bad duration', [DEPLOYMENT, canary({ analysis: '    interval: 10sec\n    threshold: 5\n    stepWeight: 10\n' })], ['spec.analysis.interval: must be a duration like 30s, 1m or 1m30s (got "10sec")']],
  ['unknown field', [DEPLOYMENT, canary({ service: '    portname: http\n' })], ['spec.service.portname: unknown field']],
  ['legacy canaryAnalysis', [DEPLOYMENT, canary({ spec: '  canaryAnalysis:\n    interval: 1m\n' })], ['spec.canaryAnalysis: is the legacy name of analysis']],
  ['status', [DEPLOYMENT, `${canary()}status:\n  phase: Succeeded\n`], ['podinfo.yaml#2 Canary test/podinfo: status: is not read']],
  ['unknown provider', [DEPLOYMENT, canary({ provider: 'gatewayapi' })], ['spec.provider: unknown provider "gatewayapi" (Flagger would fall back to istio with a warning; canarykit does not guess). Supported: istio, nginx, gatewayapi:v1, ']],
  ['nginx without ingressRef', [DEPLOYMENT, canary({ provider: 'nginx' })], ['podinfo.yaml#2 Canary test/podinfo: spec: provider nginx needs spec.ingressRef']],
  ['trafficDistribution outside the enum', [DEPLOYMENT, canary({ service: '    trafficDistribution: Nearby\n' })], ['podinfo.yaml#2 Canary test/podinfo: spec.service.trafficDistribution: must be one of "PreferClose", "PreferSameZone", "PreferSameNode"']],
  ['field of another provider', [DEPLOYMENT, canary({ provider: 'kubernetes', service: '    gateways: [mesh]\n', analysis: '    interval: 1m\n    threshold: 5\n    iterations: 5\n' })], ['spec.service.gateways: is only used with provider istio, not kubernetes']],
  ['DaemonSet target without the DaemonSet', [DEPLOYMENT, canary().replace('kind: Deployment', 'kind: DaemonSet')], ['spec.targetRef: DaemonSet test/podinfo is not among the inputs']],
  ['Service target with a fixed nodePort', ['apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  type: NodePort\n  selector:\n    app: podinfo\n  ports:\n    - port: 9898\n      nodePort: 30098\n', canary().replace('apiVersion: apps/v1\n    kind: Deployment', 'apiVersion: v1\n    kind: Service')], ['spec.targetRef: spec.ports[0].nodePort 30098 would be requested again by the -primary and -canary copies']],
  ['Service target without the Service', [DEPLOYMENT, canary().replace('apiVersion: apps/v1\n    kind: Deployment', 'apiVersion: v1\n    kind: Service')], ['spec.targetRef: Service test/podinfo is not among the inputs']],
  ['missing MetricTemplate', [DEPLOYMENT, canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    metrics:\n      - name: latency\n        templateRef:\n          name: latency\n          namespace: monitoring\n' })], ['spec.analysis.metrics[0].templateRef: MetricTemplate monitoring/latency (used by metric "latency" of Canary test/podinfo) is not among the inputs']],
  // pkg/metrics/providers/prometheus.go NewPrometheusProvider: an empty address is an error.
  // cloudwatch.go NewCloudWatchProvider: "region not specified".
  ['CloudWatch MetricTemplate without a region', [DEPLOYMENT, 'apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: errors\n  namespace: test\nspec:\n  provider:\n    type: cloudwatch\n  query: sum(errors)\n', canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    metrics:\n      - name: errors\n        templateRef:\n          name: errors\n' })], ['podinfo.yaml#2 MetricTemplate test/errors: spec.provider.region: is required for type cloudwatch (Flagger: "region not specified"); set it to the AWS region of your metrics, e.g. us-east-1']],
  // datadog.go NewDatadogProvider: without the Secret's keys every check fails.
  ['Datadog MetricTemplate without a secretRef', [DEPLOYMENT, 'apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: errors\n  namespace: test\nspec:\n  provider:\n    type: datadog\n  query: sum(errors)\n', canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    metrics:\n      - name: errors\n        templateRef:\n          name: errors\n' })], ['podinfo.yaml#2 MetricTemplate test/errors: spec.provider.secretRef: is required for type datadog']],
  ['Prometheus MetricTemplate without an address', [DEPLOYMENT, 'apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: errors\n  namespace: test\nspec:\n  provider:\n    type: prometheus\n  query: sum(errors)\n', canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    metrics:\n      - name: errors\n        templateRef:\n          name: errors\n' })], ['podinfo.yaml#2 MetricTemplate test/errors: spec.provider.address: is required for type prometheus; Flagger fails the check without it (used by Canary test/podinfo spec.analysis.metrics[0])']],
  ['undefined template variable', [DEPLOYMENT, 'apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: errors\n  namespace: test\nspec:\n  provider:\n    type: prometheus\n    address: http://prometheus:9090\n  query: sum(errors{env="{{ variables.env }}"})\n', canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    metrics:\n      - name: errors\n        templateRef:\n          name: errors\n' })], ['podinfo.yaml#3 Canary test/podinfo: spec.analysis.metrics[0]: template', 'variable "env" is not defined']],
  ['alert without severity', [DEPLOYMENT, 'apiVersion: flagger.app/v1beta1\nkind: AlertProvider\nmetadata:\n  name: slack\n  namespace: test\nspec:\n  type: slack\n  address: https://hooks.slack.com/services/x\n', canary({ analysis: '    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    alerts:\n      - name: chat\n        providerRef:\n          name: slack\n' })], ['spec.analysis.alerts[0].severity: must be one of info, warn, error']],
  // A Service named like a generated one is taken over (test/compile/adopt.test.ts); another generated object is not.
  ['object also generated', [DEPLOYMENT, 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo-primary\n  namespace: test\nspec: {}\n', canary()], ['podinfo.yaml#2 Deployment test/podinfo-primary: would be written to _unreferenced/ and also to test/podinfo/ (generated by the Canary)', 'one object per group, kind, namespace and name']],
  ['ConfigMap not among the inputs', [DEPLOYMENT.replace('          image:', '          envFrom:\n            - configMapRef:\n                name: podinfo-env\n          image:'), canary()], ['spec.targetRef: Deployment test/podinfo uses ConfigMap "podinfo-env", which is not among the inputs', 'exclude it from tracking with --untracked-configmaps podinfo-env (controller.untrackedConfigMaps of canarykit.yaml)']],
  ['kustomization file', ['apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\n'], ['podinfo.yaml#1: Kustomization is a kustomize file', 'kustomize build']],
  ['object without a name', ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: cfg-\n'], ['podinfo.yaml#1 ConfigMap default/<unnamed>: metadata.name: is required']],
  ['not a Kubernetes object', ['- a\n- b\n'], ['podinfo.yaml#1: line 1: a document must be a Kubernetes object']],
  ['base-60 number', ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  time: 1:30\n'], ['podinfo.yaml#1: line 6: plain value 1:30 is a base-60 number']],
  // kubectl apply rejects these ("cannot unmarshal bool into ... of type string"); issue 11.
  ['annotation written yes', ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  annotations:\n    sidecar.istio.io/inject: yes\n'], ['podinfo.yaml#1: line 6: metadata.annotations["sidecar.istio.io/inject"] is the boolean true in YAML 1.1 (written yes), but Kubernetes wants text there and would reject the object; quote it ("yes")']],
  ['pod label written on', [DEPLOYMENT.replace('        app: podinfo\n    spec:', '        app: podinfo\n        canary: on\n    spec:'), canary()], ['podinfo.yaml#1: line 14: spec.template.metadata.labels.canary is the boolean true in YAML 1.1 (written on)', 'quote it ("on")']],
  ['ConfigMap data written 0644', ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  mode: 0644\n'], ['podinfo.yaml#1: line 6: data.mode is the number 420 in YAML 1.1 (written 0644)', 'quote it ("0644")']],
  ['env value written yes', [DEPLOYMENT.replace('          image:', '          env:\n            - name: DEBUG\n              value: yes\n          image:'), canary()], ['spec.template.spec.containers[0].env[0].value is the boolean true in YAML 1.1 (written yes)']],
  ['Ingress extensions/v1beta1', [DEPLOYMENT, INGRESS.replace('networking.k8s.io/v1', 'extensions/v1beta1'), canary({ provider: 'nginx', spec: '  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n' })], ['podinfo.yaml#2 Ingress test/podinfo: apiVersion: Ingress extensions/v1beta1 was removed in Kubernetes 1.22; write it as networking.k8s.io/v1']],
  ['Ingress networking.k8s.io/v1beta1', [DEPLOYMENT, INGRESS.replace('networking.k8s.io/v1', 'networking.k8s.io/v1beta1')], ['apiVersion: Ingress networking.k8s.io/v1beta1 was removed in Kubernetes 1.22; write it as networking.k8s.io/v1']],
  ['HPA autoscaling/v2beta2', [DEPLOYMENT, 'apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  minReplicas: 2\n  maxReplicas: 4\n'], ['podinfo.yaml#2 HorizontalPodAutoscaler test/podinfo: apiVersion: HorizontalPodAutoscaler autoscaling/v2beta2 was removed in Kubernetes 1.26; write it as autoscaling/v2']],
  // The object a Canary refers to, in a removed apiVersion: the error is the apiVersion's, not "not among the inputs".
  ['HPA autoscaling/v2beta2 as autoscalerRef', [DEPLOYMENT, 'apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  maxReplicas: 4\n', canary({ spec: '  autoscalerRef:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n' })], ['podinfo.yaml#2 HorizontalPodAutoscaler test/podinfo: apiVersion: HorizontalPodAutoscaler autoscaling/v2beta2 was removed in Kubernetes 1.26; write it as autoscaling/v2']],
  ['Ingress networking.k8s.io/v1beta1 as Skipper ingressRef', [DEPLOYMENT, INGRESS.replace('networking.k8s.io/v1', 'networking.k8s.io/v1beta1'), canary({ provider: 'skipper', spec: '  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n' })], ['podinfo.yaml#2 Ingress test/podinfo: apiVersion: Ingress networking.k8s.io/v1beta1 was removed in Kubernetes 1.22; write it as networking.k8s.io/v1']],
  ['HPA autoscaling/v2beta1', [DEPLOYMENT, 'apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  maxReplicas: 4\n'], ['autoscaling/v2beta1 was removed in Kubernetes 1.25; write it as autoscaling/v2 (targetAverageUtilization becomes target.averageUtilization)']],
];

describe('bad input: a clear error and nothing written', () => {
  let work: string;
  let outdir: string;
  beforeEach(() => {
    work = tempDir();
    outdir = path.join(work, 'dist');
    fs.mkdirSync(path.join(outdir, 'test', 'old'), { recursive: true });
    fs.writeFileSync(path.join(outdir, 'test', 'old', 'deployment-old.yaml'), 'previous output\n');
    fs.writeFileSync(path.join(outdir, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it.each(CASES)('%s', async (_name, docs, expected) => {
    const input = path.join(work, 'in');
    fs.mkdirSync(input);
    fs.writeFileSync(path.join(input, 'podinfo.yaml'), docs.join('---\n'));
    const error = await compile({ files: [input], outdir, stateDir: path.join(work, 'state') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toMatch(/nothing was written/);
    for (const text of expected) expect(message).toContain(text);
    if (_name.includes('v1beta') || _name.includes('v2beta')) expect(message).not.toContain('is not among the inputs');
    expect(fs.readdirSync(outdir, { recursive: true }).sort()).toEqual([OUTPUT_MARKER, 'test', 'test/old', 'test/old/deployment-old.yaml']);
    expect(fs.readFileSync(path.join(outdir, 'test', 'old', 'deployment-old.yaml'), 'utf8')).toBe('previous output\n');
  });

  it('reports every problem of every file at once', async () => {
    const input = path.join(work, 'in');
    fs.mkdirSync(input);
    fs.writeFileSync(path.join(input, 'a.yaml'), 'a: [\n');
    fs.writeFileSync(path.join(input, 'b.yaml'), 'b: {\n');
    const error = (await compile({ files: [input], outdir }).catch((e: unknown) => e)) as ValidationError;
    expect(error.problems.map((p) => p.path)).toEqual([expect.stringMatching(/a\.yaml#1$/), expect.stringMatching(/b\.yaml#1$/)]);
  });

  it('refuses to replace the output with nothing when the inputs hold no objects', async () => {
    const input = path.join(work, 'empty.yaml');
    fs.writeFileSync(input, '# nothing yet\n---\n');
    await expect(compile({ files: [input], outdir })).rejects.toThrow(/the inputs hold no Kubernetes objects/);
    expect(fs.existsSync(path.join(outdir, 'test', 'old', 'deployment-old.yaml'))).toBe(true);
  });

  it('rejects a missing input path', async () => {
    const error = (await compile({ files: [path.join(work, 'nope')], outdir }).catch((e: unknown) => e)) as ValidationError;
    expect(error.problems).toEqual([{ path: path.join(work, 'nope'), message: 'no such file or folder' }]);
  });
});
