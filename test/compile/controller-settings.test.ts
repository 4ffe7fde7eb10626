import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration } from 'cdk8s';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Canary, CanaryApp, Provider, StrictInclude } from '../../src';
import { ValidationError } from '../../src/errors';
import { compileFiles } from '../../src/compile';
import { CONTROLLER_ENV } from '../../src/constructs/canary-app';
import { OutputFolder } from '../../src/constructs/output';
import { buildDeps } from '../../src/cli';
import { initConfigText, loadConfig, parseConfig, renderSettings } from '../../src/adapters/config';
import { controllerEnv } from '../../src/adapters/synth';
import { CONTROLLER_DEFAULTS, CONTROLLER_FLAGS, ControllerSettingsInput, controllerSettings, flagValue } from '../../src/model/controller-settings';
import { DRIVER_DEFAULTS, driverSettings } from '../../src/model/driver-settings';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { runCli } from '../support/cli';
import { FIXTURES, tempDir, writeStage } from './support';
import { RECORD_FILE } from '../../src/compile/record';

// Flagger's controller flags that shape rendered objects (cmd/flagger/main.go init), each set in
// the three places canarykit reads them: `canarykit compile --<flag>`, `controller:` of
// canarykit.yaml through the driver's synth, and `CanaryApp({ controller })`. Same output, byte
// for byte. Sources: pkg/canary/deployment_controller.go getSelectorLabel / createPrimaryDeployment,
// pkg/canary/util.go includeLabelsByPrefix / makePrimaryLabels, pkg/router/ingress.go
// GetAnnotationWithPrefix, pkg/router/contour.go Reconcile (IngressClassName), observers.NewFactory.

const FIXTURE = path.join(FIXTURES, 'controller');

/** Every rendering setting away from Flagger's default. */
const SETTINGS: ControllerSettingsInput = {
  metricsServer: 'http://prometheus.monitoring:9090',
  includeLabelPrefix: ['team.example.com/', 'tier'],
  selectorLabels: ['role', 'app'],
  ingressAnnotationsPrefix: 'custom.nginx.org',
  ingressClass: 'internal',
};

/** The compile flags of SETTINGS, Flagger-spelt. */
const FLAGS = CONTROLLER_FLAGS.flatMap((f) => (SETTINGS[f.key] === undefined ? [] : [`--${f.flag}`, flagValue(f.key, SETTINGS[f.key])]));

/** canarykit.yaml's `controller:` with Flagger's Helm-values spelling (comma-separated lists). */
const CONFIG = `synth: canarykit compile -f apps/
controller:
  metricsServer: http://prometheus.monitoring:9090
  includeLabelPrefix: team.example.com/,tier
  selectorLabels: role,app
  ingressAnnotationsPrefix: custom.nginx.org
  ingressClass: internal
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  delete process.env[CONTROLLER_ENV];
});

function repo(): string {
  const root = tempDir('canarykit-ctl-');
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'apps'));
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(root, 'apps', f));
  return root;
}

async function inRepo<T>(root: string, body: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    return await body();
  } finally {
    process.chdir(cwd);
  }
}

/**
 * dir -> file -> text of a written output folder (the marker file left out, and compile's record,
 * src/compile/record.ts, which says what compile built the folder from and no cdk8s app writes).
 */
function readOutput(outdir: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const ns of fs.readdirSync(outdir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    for (const name of fs.readdirSync(path.join(outdir, ns.name))) {
      const dir = path.join(outdir, ns.name, name);
      out[`${ns.name}/${name}`] = Object.fromEntries(fs.readdirSync(dir).filter((f) => f !== RECORD_FILE).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
    }
  }
  return out;
}

function asRecord(folders: readonly OutputFolder[]): Record<string, Record<string, string>> {
  return Object.fromEntries(folders.filter((f) => f.dir.includes('/')).map((f) => [f.dir, Object.fromEntries([...f.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))]));
}

/** The cdk8s twin of the fixture: the same workloads through StrictInclude, the same two Canaries. */
function typescriptApp(root: string, controller?: ControllerSettingsInput): CanaryApp {
  const app = new CanaryApp({ stateRoot: root, controller });
  const analysis = {
    interval: Duration.minutes(1),
    threshold: 5,
    maxWeight: 50,
    stepWeight: 10,
    metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: Duration.minutes(1) }],
  };
  const chartFor = (name: string): { chart: Chart; find: (kind: string) => any } => {
    const chart = new Chart(app, name, { namespace: 'shop' });
    const include = new StrictInclude(chart, 'workloads', { url: path.join(FIXTURE, 'workloads.yaml') });
    // Each chart keeps only its canary's objects, as compile puts each Canary's objects in its folder.
    for (const o of include.apiObjects) {
      if (o.metadata.name !== name) include.node.tryRemoveChild(o.node.id);
    }
    return { chart, find: (kind) => include.apiObjects.find((o) => o.kind === kind) };
  };
  const api = chartFor('api');
  new Canary(api.chart, 'canary', { target: api.find('Deployment'), service: { port: 80, targetPort: 9898 }, provider: Provider.contour(), analysis, stateDir: 'state' });
  const web = chartFor('web');
  new Canary(web.chart, 'canary', { target: web.find('Deployment'), service: { port: 80, targetPort: 9898 }, provider: Provider.nginx({ ingress: web.find('Ingress') }), analysis, stateDir: 'state' });
  return app;
}

describe('controller settings: compile flags, canarykit.yaml (driver synth) and CanaryApp render the same', () => {
  it('without the settings, the role selector is refused naming Flagger\'s default -selector-labels', () => {
    const root = repo();
    let error: unknown;
    try {
      compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state') });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('spec.selector.matchLabels must contain one of [app, name, app.kubernetes.io/name] (Flagger\'s selector labels, -selector-labels)');
  });

  it('at bootstrap and mid-rollout: byte-identical in all four ways, with every setting in effect', async () => {
    const root = repo();
    // 1. canarykit compile with Flagger's flags, no canarykit.yaml.
    const byFlags = await inRepo(root, () => runCli(['compile', '-f', 'apps/', ...FLAGS], new Date()));
    expect(byFlags.code, byFlags.err).toBe(0);
    const fromFlags = readOutput(path.join(root, 'dist'));
    fs.rmSync(path.join(root, 'dist'), { recursive: true });

    // 2. canarykit.yaml's controller:, through the driver's own synth (in-process compile).
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), CONFIG);
    const config = loadConfig(root);
    expect(renderSettings(config.controller)).toEqual(SETTINGS);
    await buildDeps(root, config, { out: () => undefined, err: () => undefined }).synth();
    const fromConfig = readOutput(path.join(root, 'dist'));

    // 3. CanaryApp's prop; 4. a cdk8s app run by the driver (canarykit.yaml passed in the environment).
    const fromProp = asRecord(typescriptApp(root, SETTINGS).render());
    process.env[CONTROLLER_ENV] = controllerEnv(renderSettings(config.controller))[CONTROLLER_ENV];
    const fromEnv = asRecord(typescriptApp(root).render());

    expect(Object.keys(fromFlags)).toEqual(['shop/api', 'shop/web']);
    expect(fromConfig).toEqual(fromFlags);
    expect(fromProp).toEqual(fromFlags);
    expect(fromEnv).toEqual(fromFlags);

    // What each setting did (the same bytes above, so checked once).
    const api = (f: string): any => parse(fromFlags['shop/api'][f]);
    const primary = api('deployment-api-primary.yaml');
    // -selector-labels: role, the first listed that the target selects by.
    expect(primary.spec.selector.matchLabels).toEqual({ role: 'api-primary' });
    expect(api('service-api.yaml').spec.selector).toEqual({ role: 'api-primary' });
    expect(api('service-api-canary.yaml').spec.selector).toEqual({ role: 'api' });
    // -include-label-prefix: team.example.com/ and tier copied, Flux's never; the selector label last.
    expect(primary.metadata.labels).toEqual({ 'team.example.com/owner': 'payments', tier: 'backend', role: 'api-primary' });
    // ...and to the tracked ConfigMap's -primary copy (config_tracker.go CreatePrimaryConfigs).
    expect(api('configmap-api-primary.yaml').metadata.labels).toEqual({ 'team.example.com/owner': 'payments' });
    expect(primary.spec.template.spec.containers[0].envFrom).toEqual([{ configMapRef: { name: 'api-primary' } }]);
    // -ingress-class on the HTTPProxy.
    expect(api('httpproxy-api.yaml').spec.ingressClassName).toBe('internal');
    // -metrics-server: the plan's Prometheus and the built-in metric's.
    const plan = JSON.parse(fromFlags['shop/api']['canary.plan.json']);
    expect(plan.metricsServer).toBe('http://prometheus.monitoring:9090');
    expect(plan.metrics[0].provider.address ?? plan.metricsServer).toBe('http://prometheus.monitoring:9090');
    // -ingress-annotations-prefix on the canary Ingress; the user's own annotation kept.
    const ingress = parse(fromFlags['shop/web']['ingress-web-canary.yaml']);
    expect(ingress.metadata.annotations).toEqual({ 'custom.nginx.org/proxy-body-size': '8m', 'custom.nginx.org/canary': 'true', 'custom.nginx.org/canary-weight': '0' });
    for (const dir of Object.values(fromFlags)) {
      for (const [f, text] of Object.entries(dir)) {
        if (!f.endsWith('.yaml') || f === 'kustomization.yaml') continue;
        const obj = parse(text);
        expect([...strictSchemaProblems(obj), ...manifestProblems(obj)], f).toEqual([]);
      }
    }

    for (const dir of Object.keys(fromFlags)) {
      // Each folder builds, as Flux or Argo CD would build it (fromConfig's dist/ holds the same bytes).
      expect(execFileSync('kubectl', ['kustomize', path.join(root, 'dist', dir)], { encoding: 'utf8' })).toContain('kind: Deployment');
    }

    // Mid-rollout: still identical; the labels the primary was given are kept in the state file's
    // primary snapshot (transitions.ts snapshotOf), so they change at the next promotion, as in Flagger.
    const stateDir = path.join(root, 'state');
    writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 30 });
    const webPlan = JSON.parse(fromFlags['shop/web']['canary.plan.json']);
    writeStage(stateDir, webPlan, { phase: 'Progressing', canaryWeight: 30 });
    const compiled = asRecord(compileFiles([path.join(root, 'apps')], { stateDir: 'state', cwd: root, controller: SETTINGS }).folders);
    expect(parse(compiled['shop/web']['ingress-web-canary.yaml']).metadata.annotations['custom.nginx.org/canary-weight']).toBe('30');
    expect(compiled['shop/api']['httpproxy-api.yaml']).toContain('weight: 30');
    expect(asRecord(typescriptApp(root, SETTINGS).render())).toEqual(compiled);
    expect(JSON.parse(fs.readFileSync(path.join(stateDir, 'shop', 'api.json'), 'utf8')).primary.labels).toEqual({ 'team.example.com/owner': 'payments', tier: 'backend' });
  });

  it('a compile flag that contradicts canarykit.yaml is exit 2 and writes nothing, for every setting', async () => {
    const root = repo();
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), CONFIG);
    const other: Record<string, string> = { metricsServer: 'http://other:9090', includeLabelPrefix: 'other/', selectorLabels: 'app', ingressAnnotationsPrefix: 'other.org', ingressClass: 'external' };
    for (const f of CONTROLLER_FLAGS.filter((x) => SETTINGS[x.key] !== undefined)) {
      const r = await inRepo(root, () => runCli(['compile', '-f', 'apps/', `--${f.flag}`, other[f.key]], new Date()));
      expect(r.code, f.flag).toBe(2);
      expect(r.err).toContain(`--${f.flag} ${other[f.key]} contradicts controller.${f.key}: ${flagValue(f.key, SETTINGS[f.key])} in canarykit.yaml; drop --${f.flag} or change controller.${f.key}`);
      expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
    }
    // The same value given twice is no contradiction.
    const same = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--selector-labels', 'role,app'], new Date()));
    expect(same.code, same.err).toBe(0);
  });

  it('a CanaryApp prop that contradicts canarykit.yaml (passed by the driver) is an error naming both', () => {
    process.env[CONTROLLER_ENV] = JSON.stringify({ ingressClass: 'internal' });
    expect(() => new CanaryApp({ controller: { ingressClass: 'external' } })).toThrow('controller.ingressClass: "external" contradicts controller.ingressClass: "internal" of canarykit.yaml');
    expect(new CanaryApp({ controller: { ingressClass: 'internal' } }).controller.ingressClass).toBe('internal');
    // The mesh provider is compile's: a construct always names its provider, so the prop is refused, not ignored.
    expect(() => new CanaryApp({ controller: { meshProvider: 'linkerd' } })).toThrow('controller.meshProvider: is only read by canarykit compile');
  });

  it('values Flagger would split into unusable labels are refused where they are written', async () => {
    const root = repo();
    const flag = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--selector-labels', 'role, app'], new Date()));
    expect(flag.code).toBe(2);
    expect(flag.err).toContain('--selector-labels: " app" is not a label key');
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'controller:\n  selectorLabels: ""\n  metricsServer: prometheus:9090\n');
    expect(() => loadConfig(root)).toThrow(ValidationError);
    try {
      loadConfig(root);
    } catch (e) {
      const paths = (e as ValidationError).problems.map((p) => `${p.path}: ${p.message}`);
      expect(paths).toEqual([
        'canarykit.yaml#/controller/selectorLabels: needs at least one label (Flagger: "At least one selector label is required")',
        'canarykit.yaml#/controller/metricsServer: must be an http or https URL (got "prometheus:9090")',
      ]);
    }
    expect(() => new CanaryApp({ controller: { includeLabelPrefix: ['ok/', 'not ok'] } })).toThrow('controller.includeLabelPrefix[1]');
  });

  it('YAML lists are accepted in canarykit.yaml as well as Flagger\'s comma-separated strings', () => {
    const root = repo();
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'controller:\n  selectorLabels: [role, app]\n  includeLabelPrefix: "*"\n');
    expect(renderSettings(loadConfig(root).controller)).toEqual({ selectorLabels: ['role', 'app'], includeLabelPrefix: ['*'] });
  });

  it('include-label-prefix * copies every label but Flux\'s', () => {
    const root = repo();
    const out = asRecord(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { selectorLabels: ['role'], includeLabelPrefix: ['*'] } }).folders);
    expect(parse(out['shop/api']['deployment-api-primary.yaml']).metadata.labels).toEqual({ 'team.example.com/owner': 'payments', tier: 'backend', role: 'api-primary' });
    // The option of Provider.contour / the prefix default: unset, the HTTPProxy has no class, NGINX Flagger's prefix.
    expect(parse(out['shop/api']['httpproxy-api.yaml']).spec.ingressClassName).toBeUndefined();
    expect(Object.keys(parse(out['shop/web']['ingress-web-canary.yaml']).metadata.annotations)).toContain('nginx.ingress.kubernetes.io/canary');
  });

  it("canarykit init's commented controller: block spells out Flagger's defaults (but for the example mesh provider)", () => {
    const text = initConfigText('canarykit compile -f apps/');
    const block = text.split('\n').filter((l) => /^# (controller:|  \w+:)/.test(l)).map((l) => l.slice(2)).join('\n');
    const config = parseConfig(block, 'init');
    expect(Object.keys(config.controller)).toHaveLength(CONTROLLER_FLAGS.length + Object.keys(DRIVER_DEFAULTS).length);
    expect(controllerSettings({ ...renderSettings(config.controller), meshProvider: undefined })).toEqual(CONTROLLER_DEFAULTS);
    expect(driverSettings(config.controller)).toEqual(DRIVER_DEFAULTS);
  });

});

describe('-enable-config-tracking and -no-cross-namespace-refs', () => {
  it('enable-config-tracking false: no -primary ConfigMap, the primary uses the ConfigMap itself; the same from the flag, canarykit.yaml and CanaryApp', async () => {
    const root = repo();
    const byFlag = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--selector-labels', 'role', '--enable-config-tracking', 'false'], new Date()));
    expect(byFlag.code, byFlag.err).toBe(0);
    const fromFlag = readOutput(path.join(root, 'dist'));
    expect(Object.keys(fromFlag['shop/api'])).not.toContain('configmap-api-primary.yaml');
    expect(parse(fromFlag['shop/api']['deployment-api-primary.yaml']).spec.template.spec.containers[0].envFrom).toEqual([{ configMapRef: { name: 'api' } }]);
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'synth: canarykit compile -f apps/\ncontroller:\n  selectorLabels: role\n  enableConfigTracking: false\n');
    const config = loadConfig(root);
    await buildDeps(root, config, { out: () => undefined, err: () => undefined }).synth();
    expect(readOutput(path.join(root, 'dist'))).toEqual(fromFlag);
    expect(asRecord(typescriptApp(root, { selectorLabels: ['role'], enableConfigTracking: false }).render())).toEqual(fromFlag);
    const bad = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--enable-config-tracking', 'yes'], new Date()));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--enable-config-tracking must be true or false (got "yes")');
  });

  it('no-cross-namespace-refs: a MetricTemplate of another namespace is refused where the Canary names it', async () => {
    const root = repo();
    const canaries = path.join(root, 'apps', 'canaries.yaml');
    fs.writeFileSync(canaries, fs.readFileSync(canaries, 'utf8').replace(/(  name: api\n[\s\S]*?)(        interval: 1m\n)/, '$1$2      - name: latency\n        templateRef:\n          name: latency\n          namespace: monitoring\n        thresholdRange:\n          max: 500\n        interval: 1m\n'));
    fs.writeFileSync(path.join(root, 'apps', 'template.yaml'), 'apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: latency\n  namespace: monitoring\nspec:\n  provider:\n    type: prometheus\n    address: http://prometheus.monitoring:9090\n  query: vector(1)\n');
    const allowed = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--selector-labels', 'role'], new Date()));
    expect(allowed.code, allowed.err).toBe(0);
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    const blocked = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--selector-labels', 'role', '--no-cross-namespace-refs', 'true'], new Date()));
    expect(blocked.code).toBe(2);
    expect(blocked.err).toContain('spec.analysis.metrics[1].templateRef.namespace: MetricTemplate monitoring/latency is in another namespace than the Canary, and cross-namespace references are blocked (--no-cross-namespace-refs, controller.noCrossNamespaceRefs of canarykit.yaml)');
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
    // The construct refuses the same reference in its own terms.
    const app = new CanaryApp({ stateRoot: root, controller: { selectorLabels: ['role'], noCrossNamespaceRefs: true } });
    const chart = new Chart(app, 'api', { namespace: 'shop' });
    const include = new StrictInclude(chart, 'w', { url: path.join(FIXTURE, 'workloads.yaml') });
    new Canary(chart, 'canary', {
      target: include.apiObjects.find((o) => o.kind === 'Deployment')!,
      service: { port: 80 },
      provider: Provider.contour(),
      analysis: { interval: Duration.minutes(1), maxWeight: 50, stepWeight: 10, metrics: [{ name: 'latency', template: { name: 'latency', namespace: 'monitoring', provider: { type: 'prometheus', address: 'http://prometheus.monitoring:9090' }, query: 'vector(1)' }, thresholdRange: { max: 500 } }] },
      stateDir: 'state',
    });
    expect(() => app.render()).toThrow('analysis.metrics[0].template.namespace: MetricTemplate monitoring/latency is in another namespace than the canary, and cross-namespace references are blocked (-no-cross-namespace-refs)');
  });
});
