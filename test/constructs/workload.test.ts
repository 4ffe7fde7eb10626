import { afterAll, describe, expect, it } from 'vitest';
import { Chart, Include } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Canary } from '../../src/constructs/canary';
import { CanaryApp } from '../../src/constructs/canary-app';
import { Provider } from '../../src/constructs/provider';
import {
  IMAGE_NEW,
  IMAGE_OLD,
  NO_STATE_DIR,
  PROVIDERS,
  TARGET,
  USER_REPLICAS,
  addPodinfoChart,
  fixture,
  jsonOf,
  newPrimary,
  oldPrimary,
  podinfoJson,
  removeTempDirs,
  render,
  renderOne,
  snapshotOf,
  stage,
  writePodinfoYaml,
} from '../support/construct-fixtures';

afterAll(removeTempDirs);

const progressing = (o: Parameters<typeof stage>[1] = {}) => stage('Progressing', { canaryWeight: 20, ...o });

describe('targets', () => {
  it.each(['l1', 'plus', 'include'] as const)('accepts a %s Deployment and renders the same object set', (target) => {
    const f = render({ target });
    expect(f.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ['Deployment/podinfo', 'Deployment/podinfo-primary', 'DestinationRule/podinfo-canary', 'DestinationRule/podinfo-primary', 'Service/podinfo', 'Service/podinfo-canary', 'Service/podinfo-primary', 'VirtualService/podinfo'],
    );
    const primary = f.get('Deployment', 'podinfo-primary');
    expect(primary.spec.selector.matchLabels).toEqual({ app: 'podinfo-primary' });
    expect(primary.spec.template.metadata.labels.app).toBe('podinfo-primary');
    expect(primary.spec.template.spec.containers[0].image).toBe(IMAGE_NEW);
    // Bootstrap (Initializing): the target keeps its replicas until the primary is ready.
    expect(f.get('Deployment', TARGET).spec.replicas).toBe(USER_REPLICAS);
    // Initialized: it is scaled to zero (an included YAML object is patched like any other).
    expect(render({ target, state: stage('Initialized', { primary: newPrimary() }) }).get('Deployment', TARGET).spec.replicas).toBe(0);
    expect(f.plan?.targetName).toBe(TARGET);
  });

  it('a cdk8s-plus target keeps its generated pod labels in the primary, with the selector label rewritten', () => {
    const f = render({ target: 'plus', state: progressing() });
    const target = f.get('Deployment', TARGET);
    const primary = f.get('Deployment', 'podinfo-primary');
    expect(target.spec.selector.matchLabels).toEqual({ app: 'podinfo' });
    expect(target.spec.replicas).toBe(USER_REPLICAS);
    // The state's snapshot is an L1 template: the primary runs exactly that, relabelled.
    expect(primary.spec.template.spec.containers[0].image).toBe(IMAGE_OLD);
    expect(primary.spec.template.metadata.labels).toEqual({ app: 'podinfo-primary' });
  });

  it('accepts a Deployment loaded with cdk8s Include', () => {
    const app = new CanaryApp({ outdir: NO_STATE_DIR });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const inc = new Include(chart, 'yaml', { url: writePodinfoYaml({}, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } }]) });
    const target = inc.apiObjects.find((o) => o.kind === 'Deployment')!;
    new Canary(chart, 'canary', { target, service: { port: 9898 }, provider: Provider.istio(), analysis: { stepWeight: 10 }, state: progressing(), stateDir: NO_STATE_DIR });
    const f = renderOne(app);
    expect(f.get('Deployment', TARGET).spec.replicas).toBe(USER_REPLICAS);
    expect(f.get('Deployment', 'podinfo-primary').spec.template.spec.containers[0].image).toBe(IMAGE_OLD);
    expect(f.get('ConfigMap', 'cfg').metadata.namespace).toBe('test');
    expect(f.plan?.canary.revision).toBe(newPrimary().revision);
  });

  it('an included Deployment keeps every other object of the file untouched', () => {
    const app = new CanaryApp({ outdir: NO_STATE_DIR });
    const { chart } = addPodinfoChart(app, { target: 'include' });
    expect(chart.node.findAll().some((c) => c.node.id === 'podinfo-deployment')).toBe(true);
    const f = renderOne(app);
    expect(f.get('Deployment', TARGET).spec.template.spec.containers[0].image).toBe(IMAGE_NEW);
  });
});

describe('primary Deployment (reference §2.2)', () => {
  it.each([
    [{ app: 'web', name: 'n', 'app.kubernetes.io/name': 'k', tier: 'x' }, 'app', 'web'],
    [{ name: 'n', 'app.kubernetes.io/name': 'k', tier: 'x' }, 'name', 'n'],
    [{ 'app.kubernetes.io/name': 'k', tier: 'x' }, 'app.kubernetes.io/name', 'k'],
  ])('selector labels %j: uses %s, value + -primary, selector holds only that label', (matchLabels, key, value) => {
    const podLabels = { ...matchLabels, version: 'v2', 'kustomize.toolkit.fluxcd.io/name': 'apps' };
    const podinfo = { matchLabels, podLabels };
    const f = render({ podinfo, state: progressing({ primary: oldPrimary(podinfo) }) });
    const primary = f.get('Deployment', 'podinfo-primary');
    expect(primary.metadata.labels).toEqual({ [key]: `${value}-primary` });
    expect(primary.spec.selector).toEqual({ matchLabels: { [key]: `${value}-primary` } });
    // Pod labels: all of the target's (minus toolkit.fluxcd.io keys), the selector label rewritten.
    const expectedPod: Record<string, string> = { ...matchLabels, version: 'v2', [key]: `${value}-primary` };
    expect(primary.spec.template.metadata.labels).toEqual(expectedPod);
    // Services select on that label only.
    expect(f.get('Service', 'podinfo').spec.selector).toEqual({ [key]: `${value}-primary` });
    expect(f.get('Service', 'podinfo-primary').spec.selector).toEqual({ [key]: `${value}-primary` });
    expect(f.get('Service', 'podinfo-canary').spec.selector).toEqual({ [key]: value });
    expect(f.get('Service', 'podinfo-canary').metadata.labels).toEqual({ [key]: 'podinfo-canary' });
  });

  it('copies workload settings and annotations from the snapshot, not target metadata labels', () => {
    const podinfo = {
      labels: { team: 'web' },
      annotations: { 'example.com/owner': 'web', 'kustomize.toolkit.fluxcd.io/checksum': 'x' },
      podAnnotations: { 'prometheus.io/scrape': 'true' },
    };
    const f = render({ podinfo, state: progressing({ primary: oldPrimary(podinfo) }) });
    const p = f.get('Deployment', 'podinfo-primary');
    expect(p.metadata.labels).toEqual({ app: 'podinfo-primary' });
    expect(p.metadata.annotations).toEqual({ 'example.com/owner': 'web' });
    expect(p.spec).toMatchObject({ minReadySeconds: 5, progressDeadlineSeconds: 60, revisionHistoryLimit: 5, replicas: USER_REPLICAS });
    expect(p.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(p.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'flagger-id': expect.any(String) });
    // The target itself keeps its own metadata.
    expect(f.get('Deployment', TARGET).metadata.labels).toEqual({ team: 'web' });
  });

  it('primary replicas: snapshot replicas, 1 when the snapshot has none, unset with an autoscaler', () => {
    const none = render({ state: progressing({ primary: oldPrimary({ replicas: null }) }) });
    expect(none.get('Deployment', 'podinfo-primary').spec.replicas).toBe(1);
    const zero = render({ state: progressing({ primary: oldPrimary({ replicas: 0 }) }) });
    expect(zero.get('Deployment', 'podinfo-primary').spec.replicas).toBe(1);
    const hpa = render({ hpa: true, state: progressing() });
    expect(hpa.get('Deployment', 'podinfo-primary').spec).not.toHaveProperty('replicas');
  });

  it('moves anti-affinity and topology spread selectors naming the target to the primary; affinity untouched', () => {
    const sel = { matchLabels: { app: TARGET } };
    const expr = { matchExpressions: [{ key: 'app', operator: 'In', values: [TARGET, 'other'] }] };
    const podinfo = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: sel, topologyKey: 'kubernetes.io/hostname' }],
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { labelSelector: expr, topologyKey: 'zone' } }],
        },
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: sel, topologyKey: 'kubernetes.io/hostname' }] },
      },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: sel }],
    };
    const f = render({ podinfo });
    const spec = f.get('Deployment', 'podinfo-primary').spec.template.spec;
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels.app).toBe('podinfo-primary');
    expect(spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchExpressions[0].values).toEqual(['podinfo-primary', 'other']);
    expect(spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels.app).toBe(TARGET);
    expect(spec.topologySpreadConstraints[0].labelSelector.matchLabels.app).toBe('podinfo-primary');
    // The target keeps its own selectors.
    expect(f.get('Deployment', TARGET).spec.template.spec.topologySpreadConstraints[0].labelSelector.matchLabels.app).toBe(TARGET);
  });

  it('flagger-id is deterministic: same revision, same id; a promotion changes it', () => {
    const id = (f: ReturnType<typeof render>) => f.get('Deployment', 'podinfo-primary').spec.template.metadata.annotations['flagger-id'];
    const a = id(render({ state: progressing() }));
    const b = id(render({ state: progressing({ canaryWeight: 40 }) }));
    const c = id(render({ state: stage('Succeeded', { primary: newPrimary() }) }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(id(render({}))).toBe(c); // bootstrap primary = current target = the promoted revision
  });
});

describe('Services (reference §2.4)', () => {
  it('apex, primary and canary: selectors, labels, annotations and the first port', () => {
    const f = render({
      service: {
        name: 'frontend',
        port: 80,
        targetPort: 'http',
        portName: 'http-web',
        appProtocol: 'http',
        apex: { labels: { tier: 'edge' }, annotations: { 'example.com/apex': 'yes' } },
        primary: { labels: { role: 'primary' } },
        canary: { annotations: { 'example.com/canary': 'yes' } },
      },
    });
    const port = [{ name: 'http-web', protocol: 'TCP', port: 80, targetPort: 'http', appProtocol: 'http' }];
    expect(f.get('Service', 'frontend')).toMatchObject({
      metadata: { labels: { tier: 'edge', app: 'frontend' }, annotations: { 'example.com/apex': 'yes' } },
      spec: { type: 'ClusterIP', selector: { app: 'podinfo-primary' }, ports: port },
    });
    expect(f.get('Service', 'frontend-primary')).toMatchObject({
      metadata: { labels: { role: 'primary', app: 'frontend-primary' } },
      spec: { selector: { app: 'podinfo-primary' }, ports: port },
    });
    expect(f.get('Service', 'frontend-canary')).toMatchObject({
      metadata: { labels: { app: 'frontend-canary' }, annotations: { 'example.com/canary': 'yes' } },
      spec: { selector: { app: 'podinfo' }, ports: port },
    });
    expect(f.get('Service', 'frontend-primary').metadata.annotations).toBeUndefined();
    // Names of the workloads still come from the target, never from service.name.
    expect(f.find('Deployment', 'podinfo-primary')).toBeDefined();
    expect(f.get('VirtualService', 'frontend').spec.hosts).toEqual(['frontend']);
  });

  it('targetPort defaults to port and portName to http', () => {
    const f = render({ service: { port: 9898 } });
    expect(f.get('Service', 'podinfo').spec.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 9898, targetPort: 9898 }]);
  });

  it('portDiscovery appends the other container ports, sorted, skipping the service port and mesh sidecars', () => {
    const podinfo = {
      ports: [
        { name: 'http', containerPort: 9898 },
        { name: 'grpc', containerPort: 9999 },
        { containerPort: 9797 },
      ],
      sidecars: [
        { name: 'istio-proxy', image: 'proxyv2', ports: [{ name: 'http-envoy-prom', containerPort: 15090 }] },
        { name: 'envoy', image: 'envoy', ports: [{ containerPort: 10000 }] },
        { name: 'metrics', image: 'exporter', ports: [{ containerPort: 9100 }] },
      ],
    };
    const f = render({ podinfo, service: { portDiscovery: true } });
    expect(f.get('Service', 'podinfo-canary').spec.ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 9898, targetPort: 9898 },
      { name: 'tcp-metrics-0', protocol: 'TCP', port: 9100, targetPort: 9100 },
      { name: 'tcp-podinfod-2', protocol: 'TCP', port: 9797, targetPort: 9797 },
      { name: 'grpc', protocol: 'TCP', port: 9999, targetPort: 9999 },
    ]);
  });

  it('portDiscovery skips the port named like a string targetPort', () => {
    const f = render({ podinfo: { ports: [{ name: 'web', containerPort: 8080 }, { name: 'admin', containerPort: 8081 }] }, service: { port: 80, targetPort: 'web', portDiscovery: true } });
    expect(f.get('Service', 'podinfo').spec.ports.map((p: any) => p.name)).toEqual(['http', 'admin']);
  });

  it('headless Services set clusterIP None', () => {
    const f = render({ service: { headless: true } });
    for (const s of f.all('Service')) expect(s.spec.clusterIP).toBe('None');
  });
});

describe('primary HPA (reference §2.5)', () => {
  it('retargets a copy of the user HPA at the primary; the user HPA is unchanged', () => {
    const f = render({ hpa: true, state: progressing() });
    const p = f.get('HorizontalPodAutoscaler', 'podinfo-primary');
    expect(p.apiVersion).toBe('autoscaling/v2');
    expect(p.metadata.labels).toEqual({ team: 'web' });
    expect(p.metadata.annotations).toBeUndefined();
    expect(p.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' });
    expect(p.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6, behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } });
    expect(p.spec.metrics).toEqual(f.get('HorizontalPodAutoscaler', TARGET).spec.metrics);
    expect(f.get('HorizontalPodAutoscaler', TARGET).spec.scaleTargetRef.name).toBe(TARGET);
  });

  it('primaryScalerReplicas overrides min and max', () => {
    const f = render({ hpa: true, canary: { primaryScalerReplicas: { minReplicas: 4, maxReplicas: 10 } } });
    expect(f.get('HorizontalPodAutoscaler', 'podinfo-primary').spec).toMatchObject({ minReplicas: 4, maxReplicas: 10 });
    const g = render({ hpa: true, canary: { primaryScalerReplicas: { maxReplicas: 8 } } });
    expect(g.get('HorizontalPodAutoscaler', 'podinfo-primary').spec).toMatchObject({ minReplicas: 2, maxReplicas: 8 });
  });

  it('no autoscaler, no primary HPA', () => {
    expect(render({}).all('HorizontalPodAutoscaler')).toEqual([]);
  });
});

describe('ConfigMaps and Secrets (reference §2.3)', () => {
  const refs = {
    volumes: [
      { name: 'settings', configMap: { name: 'settings' } },
      { name: 'bundle', projected: { sources: [{ configMap: { name: 'bundle' } }, { secret: { name: 'tls' } }] } },
      { name: 'creds', secret: { secretName: 'creds' } },
      { name: 'maybe', configMap: { name: 'not-there', optional: true } },
    ],
    env: [
      { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'env-values', key: 'level' } } },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
    ],
    envFrom: [{ configMapRef: { name: 'env-all' } }, { secretRef: { name: 'creds' } }],
    initContainers: [{ name: 'init', image: 'busybox', envFrom: [{ configMapRef: { name: 'init-env' } }] }],
  };
  const current = {
    settings: { 'app.yaml': 'v: 2' },
    bundle: { 'ca.crt': 'new' },
    'env-values': { level: 'debug' },
    'env-all': { A: '2' },
    'init-env': { I: '2' },
  };
  const previous = {
    settings: { 'app.yaml': 'v: 1' },
    bundle: { 'ca.crt': 'old' },
    'env-values': { level: 'info' },
    'env-all': { A: '1' },
    'init-env': { I: '1' },
  };
  const secrets = { creds: { token: 's3cr3t' }, tls: { 'tls.crt': 'x' } };

  it('copies every tracked ConfigMap as -primary with the snapshot data; the primary refers to the copies', () => {
    const f = render({ podinfo: refs, configMaps: current, secrets, state: progressing({ primary: oldPrimary(refs, previous) }) });
    for (const [name, data] of Object.entries(previous)) {
      expect(f.get('ConfigMap', `${name}-primary`)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-primary`, namespace: 'test' }, data });
      expect(f.get('ConfigMap', name).data).toEqual(current[name as keyof typeof current]);
    }
    const spec = f.get('Deployment', 'podinfo-primary').spec.template.spec;
    expect(spec.volumes).toEqual([
      { name: 'settings', configMap: { name: 'settings-primary' } },
      { name: 'bundle', projected: { sources: [{ configMap: { name: 'bundle-primary' } }, { secret: { name: 'tls' } }] } },
      { name: 'creds', secret: { secretName: 'creds' } },
      { name: 'maybe', configMap: { name: 'not-there', optional: true } },
    ]);
    expect(spec.containers[0].env[0].valueFrom.configMapKeyRef.name).toBe('env-values-primary');
    expect(spec.containers[0].env[1].valueFrom.secretKeyRef.name).toBe('creds');
    expect(spec.containers[0].envFrom).toEqual([{ configMapRef: { name: 'env-all-primary' } }, { secretRef: { name: 'creds' } }]);
    expect(spec.initContainers[0].envFrom).toEqual([{ configMapRef: { name: 'init-env-primary' } }]);
    // The target keeps referring to the originals.
    const target = f.get('Deployment', TARGET).spec.template.spec;
    expect(target.volumes[0].configMap.name).toBe('settings');
    expect(target.containers[0].envFrom[0].configMapRef.name).toBe('env-all');
    // Secrets: referenced unchanged, never copied.
    expect(f.all('Secret').map((s) => s.metadata.name).sort()).toEqual(['creds', 'tls']);
    expect(f.objects.some((o) => JSON.stringify(o).includes('creds-primary') || JSON.stringify(o).includes('tls-primary'))).toBe(false);
    // The plan carries the current data (what the canary runs), never Secret data.
    expect(f.plan?.canary.configMaps).toEqual(Object.fromEntries(Object.keys(current).sort().map((k) => [k, current[k as keyof typeof current]])));
    expect(f.files.get('canary.plan.json')).not.toContain('s3cr3t');
  });

  it('bootstrap copies the current data', () => {
    const f = render({ podinfo: refs, configMaps: current, secrets });
    expect(f.get('ConfigMap', 'settings-primary').data).toEqual(current.settings);
  });

  it('configTracking.exclude and the config-tracking: disabled annotation leave a ConfigMap untracked', () => {
    const app = new CanaryApp({ outdir: NO_STATE_DIR });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const podinfo = {
      envFrom: [{ configMapRef: { name: 'shared' } }, { configMapRef: { name: 'external' } }, { configMapRef: { name: 'own' } }],
    };
    const target = new k8s.KubeDeployment(chart, 'podinfo', { metadata: { name: 'podinfo' }, spec: podinfoJson(podinfo).spec });
    new k8s.KubeConfigMap(chart, 'shared', { metadata: { name: 'shared', annotations: { 'flagger.app/config-tracking': 'disabled' } }, data: { a: '1' } });
    new k8s.KubeConfigMap(chart, 'own', { metadata: { name: 'own' }, data: { b: '2' } });
    new Canary(chart, 'canary', {
      target,
      service: { port: 9898 },
      provider: Provider.kubernetes(),
      analysis: { iterations: 3 },
      configTracking: { exclude: ['external'] },
      stateDir: NO_STATE_DIR,
    });
    const f = renderOne(app);
    expect(f.all('ConfigMap').map((c) => c.metadata.name).sort()).toEqual(['own', 'own-primary', 'shared']);
    expect(f.get('Deployment', 'podinfo-primary').spec.template.spec.containers[0].envFrom.map((e: any) => e.configMapRef.name)).toEqual(['shared', 'external', 'own-primary']);
  });

  it('configTracking.enabled false copies nothing', () => {
    const f = render({ podinfo: { envFrom: [{ configMapRef: { name: 'x' } }] }, canary: { configTracking: { enabled: false } } });
    expect(f.all('ConfigMap')).toEqual([]);
    expect(f.plan?.canary.configMaps).toEqual({});
  });
});

describe('objects a GitOps controller must be able to apply forever', () => {
  it.each(PROVIDERS)('%s: no ownerReferences and no Flux/Helm guard annotations on any object', (provider) => {
    const podinfo = { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' }, annotations: { 'kustomize.toolkit.fluxcd.io/checksum': 'abc' }, envFrom: [{ configMapRef: { name: 'cfg' } }] };
    const analysis = provider === 'kubernetes' ? { iterations: 3 } : { iterations: 3, match: [{ headers: { 'x-canary': { exact: 'yes' } } }] };
    const f = render({ provider, podinfo, analysis, hpa: true, configMaps: { cfg: { a: '1' } }, state: stage('Progressing', { canaryWeight: 100, primary: oldPrimary(podinfo, { cfg: { a: '0' } }) }) });
    const generated = f.objects.filter((o) => !(o.kind === 'Deployment' && o.metadata.name === TARGET) && !(o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === TARGET));
    for (const o of f.objects) expect(o.metadata.ownerReferences).toBeUndefined();
    for (const o of generated) {
      const text = JSON.stringify(o);
      expect(text).not.toContain('kustomize.toolkit.fluxcd.io');
      expect(text).not.toContain('helm.toolkit.fluxcd.io');
    }
    for (const text of f.files.values()) expect(text).not.toMatch(/reconcile: disabled|driftDetection/);
  });

  it('the target construct itself is only patched (replicas), its template is what the user wrote', () => {
    const { app, target } = fixture({ state: progressing() });
    const before = jsonOf(target).spec.template;
    renderOne(app);
    expect(jsonOf(target).spec.template).toEqual(before);
    expect(snapshotOf(jsonOf(target)).revision).toBe(newPrimary().revision);
  });
});
