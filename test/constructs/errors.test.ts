import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { App, Chart, Duration, Include, JsonPatch, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { ValidationError } from '../../src/errors';
import { Canary } from '../../src/constructs/canary';
import { CanaryApp } from '../../src/constructs/canary-app';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from '../../src/constructs/output-dir';
import { StrictInclude, loadYamlStrict } from '../../src/constructs/include';
import { Provider } from '../../src/constructs/provider';
import { serializeState } from '../../src/model/state';
import {
  FixtureOptions,
  NO_STATE_DIR,
  addPodinfoChart,
  addTarget,
  podinfoJson,
  removeTempDirs,
  snapshotDir,
  stage,
  tempDir,
  writePodinfoYaml,
} from '../support/construct-fixtures';

afterAll(removeTempDirs);

/**
 * Builds an app into an outdir that already holds a previous synth and a sentinel file, expects
 * synth to throw a ValidationError whose message contains every `expected` line, and checks that
 * nothing under the outdir's parent changed (no partial output, no staging folder left behind).
 */
function expectSynthFails(build: (app: CanaryApp) => void, expected: (string | RegExp)[]): ValidationError {
  const parent = tempDir('canarykit-outdir-');
  const outdir = path.join(parent, 'dist');
  fs.mkdirSync(path.join(outdir, 'test', 'podinfo'), { recursive: true });
  fs.writeFileSync(path.join(outdir, 'SENTINEL'), 'previous output, must survive a failed synth\n');
  fs.writeFileSync(path.join(outdir, 'test', 'podinfo', 'deployment-podinfo.yaml'), 'kind: Deployment\n');
  const before = snapshotDir(parent);
  let error: unknown;
  try {
    const app = new CanaryApp({ outdir });
    build(app);
    app.synth();
  } catch (e) {
    error = e;
  }
  expect(error, 'synth should have thrown').toBeInstanceOf(ValidationError);
  const message = (error as ValidationError).message;
  for (const e of expected) {
    if (typeof e === 'string') expect(message).toContain(e);
    else expect(message).toMatch(e);
  }
  expect(snapshotDir(parent)).toEqual(before);
  expect(fs.readdirSync(parent)).toEqual(['dist']);
  return error as ValidationError;
}

const withChart = (o: FixtureOptions) => (app: CanaryApp) => void addPodinfoChart(app, o);
const P = '[podinfo/canary]';

describe('invalid Canary props: synth throws, lists every problem, writes nothing', () => {
  it.each<[string, FixtureOptions, string[]]>([
    ['maxWeight 150', { analysis: { stepWeight: 10, maxWeight: 150 } }, [`${P} analysis.maxWeight: must be an integer from 1 to 100 (got 150)`]],
    ['stepWeight 0', { analysis: { stepWeight: 0 } }, [`${P} analysis.stepWeight: must be an integer from 1 to 100 (got 0)`]],
    ['no steps at all', { analysis: {} }, [`${P} analysis.stepWeight: set stepWeight or stepWeights (canary), or iterations`]],
    ['iterations with stepWeight', { analysis: { stepWeight: 10, iterations: 5 } }, [`${P} analysis.iterations: set either iterations (A/B, blue/green) or stepWeight/stepWeights (canary), not both`]],
    ['stepWeights not ascending', { analysis: { stepWeights: [10, 20, 15] } }, [`${P} analysis.stepWeights[2]: must be greater than the previous step 20 (got 15)`]],
    ['match without iterations', { analysis: { stepWeight: 10, match: [{ headers: { x: { exact: 'y' } } }] } }, [`${P} analysis.match: A/B testing needs iterations`]],
    ['interval of 10.5s', { analysis: { stepWeight: 10, interval: Duration.millis(10_500) } }, [`${P} analysis.interval: must be a whole number of seconds from 10s to 86400s (24h) (got 10.5s)`]],
    ['service port 0', { service: { port: 0 } }, [`${P} service.port: must be a port number from 1 to 65535 (got 0)`]],
    ['service name too long', { service: { name: 'x'.repeat(60) } }, [`${P} service.name: must be a DNS-1035 label (lower-case letters, digits and "-", starting with a letter) of at most 55 characters`]],
    [
      'target without a selector label',
      { podinfo: { matchLabels: { tier: 'web' } } },
      [`${P} target: spec.selector.matchLabels must contain one of [app, name, app.kubernetes.io/name]`],
    ],
    ['nginx + mirror', { provider: 'nginx', analysis: { iterations: 5, mirror: true } }, [`${P} analysis.mirror: NGINX cannot mirror traffic`]],
    [
      'nginx + sessionAffinity',
      { provider: 'nginx', analysis: { stepWeight: 10, sessionAffinity: { cookieName: 'c' } } },
      [`${P} analysis.sessionAffinity: NGINX canary routing has no session affinity`],
    ],
    [
      'nginx + A/B on the URI',
      { provider: 'nginx', analysis: { iterations: 5, match: [{ uri: { prefix: '/beta' } }] } },
      [`${P} analysis.match[0]: NGINX can only match headers and cookies (got uri)`],
    ],
    [
      'nginx Ingress without the apex backend',
      { provider: 'nginx', ingress: { service: 'somewhere-else' } },
      [`${P} provider.nginx.ingress: Ingress "podinfo" has no backend for the apex Service "podinfo"`],
    ],
    ['kubernetes + mirror', { provider: 'kubernetes', analysis: { iterations: 5, mirror: true } }, [`${P} analysis.mirror: provider kubernetes cannot mirror traffic`]],
    [
      'gatewayApi + mirror without iterations',
      { provider: 'gatewayApi', analysis: { stepWeight: 10, mirror: true } },
      [`${P} analysis.mirror: Gateway API mirrors only during blue/green (iterations > 0)`],
    ],
    ['gatewayApi without gatewayRefs', { provider: 'gatewayApi', gatewayApi: { gatewayRefs: [] } }, [`${P} provider.gatewayApi.gatewayRefs: at least one Gateway reference is required`]],
    [
      'istio delegation with hosts',
      { istio: { delegation: true, hosts: ['a.example.com'] } },
      [`${P} provider.istio.delegation: a delegate VirtualService cannot set hosts or gateways`],
    ],
    [
      'unknown metric without template',
      { analysis: { stepWeight: 10, metrics: [{ name: 'error-rate', thresholdRange: { max: 1 } }] } },
      [`${P} analysis.metrics[0]: metric "error-rate" is not built in (request-success-rate, request-duration); give it a template or a query`],
    ],
    [
      'template with a missing variable',
      { analysis: { stepWeight: 10, metrics: [{ name: 'latency', template: { name: 'latency', query: 'x{slo="{{ variables.slo }}"}' } }] } },
      [`${P} analysis.metrics[0]: `, 'slo'],
    ],
    [
      'metric thresholds inverted',
      { analysis: { stepWeight: 10, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99, max: 90 } }] } },
      [`${P} analysis.metrics[0].thresholdRange: min 99 is greater than max 90`],
    ],
    ['webhook without a URL scheme', { analysis: { stepWeight: 10, webhooks: [{ name: 'load', url: 'loadtester/' }] } }, [`${P} analysis.webhooks[0].url: must be an http(s) URL (got "loadtester/")`]],
    [
      'ConfigMap referenced but not in the chart',
      { podinfo: { envFrom: [{ configMapRef: { name: 'settings' } }] } },
      [`${P} target: the pod template references ConfigMap "settings", which is not defined in this chart`],
    ],
    ['explicit state props that fail the schema', { state: { ...stage('Progressing'), canaryWeight: 150 } }, [`${P} state#/canaryWeight: must be <= 100`]],
  ])('%s', (_name, o, expected) => {
    expectSynthFails(withChart(o), expected);
  });

  it('reports a problem once, not once per layer that notices it', () => {
    const e = expectSynthFails(withChart({ provider: 'nginx', analysis: { iterations: 5, mirror: true } }), ['analysis.mirror']);
    expect(e.problems.filter((p) => p.message.includes('mirror'))).toHaveLength(1);
  });

  it('several problems at once, across charts, are reported together', () => {
    const e = expectSynthFails(
      (app) => {
        addPodinfoChart(app, {
          analysis: { stepWeights: [50, 20], maxWeight: 150, metrics: [{ name: 'error-rate' }], webhooks: [{ name: 'w', url: 'ftp://x' }] },
          podinfo: { envFrom: [{ configMapRef: { name: 'settings' } }] },
        });
        addPodinfoChart(app, { chartId: 'frontend', namespace: 'web', provider: 'nginx', analysis: { iterations: 5, mirror: true } });
      },
      [
        `${P} analysis.maxWeight: must be an integer from 1 to 100 (got 150)`,
        `${P} analysis.stepWeights[1]: must be greater than the previous step 50 (got 20)`,
        `${P} analysis.metrics[0]: metric "error-rate" is not built in`,
        `${P} analysis.webhooks[0].url: must be an http(s) URL`,
        `${P} target: the pod template references ConfigMap "settings"`,
        '[frontend/canary] analysis.mirror: NGINX cannot mirror traffic',
      ],
    );
    expect(e.problems.length).toBeGreaterThanOrEqual(6);
    expect(e.message.split('\n')[0]).toBe('synth failed, nothing was written:');
  });

  it('two Canaries in one chart', () => {
    expectSynthFails(
      (app) => {
        const { chart } = addPodinfoChart(app, {});
        const other = addTarget(chart, 'l1', { name: 'backend' });
        new Canary(chart, 'backend-canary', { target: other, service: { port: 9898 }, provider: Provider.istio(), analysis: { stepWeight: 10 }, stateDir: NO_STATE_DIR });
      },
      ['[podinfo]: holds 2 Canaries; put each Canary in its own Chart so each gets its own folder'],
    );
  });

  it('two charts writing the same folder', () => {
    expectSynthFails(
      (app) => {
        addPodinfoChart(app, {});
        addPodinfoChart(app, { chartId: 'podinfo-again' });
      },
      ['[podinfo-again]: writes to test/podinfo/, as does [podinfo]'],
    );
  });

  it('a target that is not a Deployment', () => {
    expectSynthFails(
      (app) => {
        const chart = new Chart(app, 'podinfo', { namespace: 'test' });
        const sts = new k8s.KubeStatefulSet(chart, 'sts', { metadata: { name: 'podinfo' }, spec: { serviceName: 'podinfo', selector: { matchLabels: { app: 'podinfo' } }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } });
        new Canary(chart, 'canary', { target: sts, service: { port: 80 }, provider: Provider.istio(), analysis: { stepWeight: 10 }, stateDir: NO_STATE_DIR });
      },
      [`${P} target: must be an apps/v1 Deployment or DaemonSet, or a v1 Service (got apps/v1 StatefulSet)`],
    );
  });

});

// The Canary reads its target and the ConfigMaps when the app synthesizes, like any cdk8s construct
// (issue 9: no "create the Canary last"). Flagger likewise reads the Deployment as it is when it ticks.
describe('the Canary renders at synth, not when it is created', () => {
  const rendered = (edit: (f: ReturnType<typeof addPodinfoChart>, app: CanaryApp) => void) => {
    const app = new CanaryApp({ outdir: tempDir('canarykit-lazy-') });
    const f = addPodinfoChart(app, { configMaps: { 'podinfo-config': { color: 'blue' } } });
    edit(f, app);
    const [folder] = app.render();
    return { plan: f.canary.plan!, objects: [...folder.files.entries()] };
  };

  it('a target image set after the Canary is in the plan revision and the primary snapshot', () => {
    const before = rendered(() => undefined);
    const after = rendered(({ target }) => (target as k8s.KubeDeployment).addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/image', 'other:1')));
    expect(after.plan.canary.revision).not.toBe(before.plan.canary.revision);
    expect(JSON.stringify(after.plan.canary.template)).toContain('other:1');
    expect(after.objects.find(([name]) => name === 'deployment-podinfo.yaml')![1]).toContain('other:1');
  });

  it("cdk8s' own Testing.synth of a plain chart renders the Canary's objects too", () => {
    const { chart } = addPodinfoChart(Testing.app(), {});
    const out = Testing.synth(chart).map((o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`);
    expect(out).toEqual(expect.arrayContaining(['Deployment/podinfo', 'Deployment/podinfo-primary', 'Service/podinfo-canary', 'VirtualService/podinfo']));
  });

  it('a ConfigMap the target uses, added to the chart after the Canary, is tracked', () => {
    const { plan } = rendered(({ chart, target }) => {
      (target as k8s.KubeDeployment).addJsonPatch(JsonPatch.add('/spec/template/spec/volumes', [{ name: 'late', configMap: { name: 'late-config' } }]));
      new k8s.KubeConfigMap(chart, 'late', { metadata: { name: 'late-config' }, data: { mode: 'late' } });
    });
    expect(plan.canary.configMaps['late-config']).toEqual({ mode: 'late' });
  });
});

describe('a successful synth', () => {
  it('replaces the previous output in one step: rendered files only, stale files gone, no staging folder left', () => {
    const parent = tempDir('canarykit-outdir-');
    const outdir = path.join(parent, 'dist');
    fs.mkdirSync(path.join(outdir, 'old', 'gone'), { recursive: true });
    fs.writeFileSync(path.join(outdir, 'old', 'gone', 'deployment-gone.yaml'), 'kind: Deployment\n');
    fs.writeFileSync(path.join(outdir, OUTPUT_MARKER), 'an earlier synth\n');
    const app = new CanaryApp({ outdir });
    addPodinfoChart(app, { state: stage('Progressing', { canaryWeight: 10 }) });
    const rendered = app.render();
    app.synth();
    const written = snapshotDir(outdir);
    const expected = rendered.flatMap((f) => [...f.files].map(([name, content]) => [path.join(f.dir, name), content] as const));
    expect([...written.keys()].sort()).toEqual([OUTPUT_MARKER, ...expected.map(([p]) => p)].sort());
    expect(written.get(OUTPUT_MARKER)!.toString()).toBe(OUTPUT_MARKER_TEXT);
    for (const [p, content] of expected) expect(written.get(p)!.toString()).toBe(content);
    expect(fs.readdirSync(parent)).toEqual(['dist']);
  });
});

describe('invalid state files', () => {
  function stateDirWith(content: string, name = 'podinfo'): string {
    const dir = tempDir('canarykit-state-');
    fs.mkdirSync(path.join(dir, 'test'));
    fs.writeFileSync(path.join(dir, 'test', `${name}.json`), content);
    return dir;
  }

  it('bad JSON', () => {
    const dir = stateDirWith('{ "apiVersion": "canarykit.dev/v1alpha1", ');
    const file = path.join(dir, 'test', 'podinfo.json');
    expectSynthFails(withChart({ canary: { stateDir: dir } }), [`${P} ${file}: not valid JSON`, 'restore it from git history']);
  });

  it('schema error: canaryWeight 150 names the field', () => {
    const dir = stateDirWith(serializeState({ ...stage('Progressing'), canaryWeight: 150 }));
    const file = path.join(dir, 'test', 'podinfo.json');
    expectSynthFails(withChart({ canary: { stateDir: dir } }), [`${P} ${file}#/canaryWeight: must be <= 100`]);
  });

  it('schema errors: every one listed (unknown field, bad phase, missing primary field)', () => {
    const s: any = { ...stage('Progressing'), phase: 'Running', extra: 1 };
    delete s.primary.revision;
    const dir = stateDirWith(JSON.stringify(s));
    const file = path.join(dir, 'test', 'podinfo.json');
    expectSynthFails(withChart({ canary: { stateDir: dir } }), [
      `${file}#/: unknown field "extra"`,
      `${file}#/phase: must be one of "Initializing"`,
      `${file}#/primary: missing required field "revision"`,
    ]);
  });

  it('weight in a resting phase', () => {
    const dir = stateDirWith(serializeState({ ...stage('Succeeded'), canaryWeight: 30 }));
    expectSynthFails(withChart({ canary: { stateDir: dir } }), [/#\/canaryWeight: must be 0 in phase Succeeded \(got 30\)/]);
  });

  it('a state file of another canary', () => {
    const dir = stateDirWith(serializeState(stage('Progressing', { name: 'frontend', canaryWeight: 10 })));
    const file = path.join(dir, 'test', 'podinfo.json');
    expectSynthFails(withChart({ canary: { stateDir: dir } }), [`${P} state: ${file} is for test/frontend, not test/podinfo`]);
  });

  it('a valid state file is read from stateDir', async () => {
    const dir = stateDirWith(serializeState(stage('Progressing', { canaryWeight: 30 })));
    const app = new CanaryApp({ outdir: path.join(dir, 'dist') });
    addPodinfoChart(app, { canary: { stateDir: dir } });
    const [folder] = app.render();
    expect(folder.files.get('virtualservice-podinfo.yaml')).toContain('weight: 30');
  });
});

describe('YAML input', () => {
  const broken = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: podinfo',
    '  labels: {app: podinfo',
    'spec:',
    '  replicas: 2',
    '',
  ].join('\n');

  it('cdk8s Include half-parses invalid YAML without an error (why StrictInclude exists)', () => {
    const file = path.join(tempDir(), 'broken.yaml');
    fs.writeFileSync(file, broken);
    const inc = new Include(new Chart(new App(), 'c'), 'inc', { url: file });
    expect(inc.apiObjects).toHaveLength(1);
  });

  it('StrictInclude: a syntax error fails synth with file:line:col and writes nothing', () => {
    const file = path.join(tempDir(), 'broken.yaml');
    fs.writeFileSync(file, broken);
    const e = expectSynthFails(
      (app) => {
        const chart = new Chart(app, 'podinfo', { namespace: 'test' });
        new StrictInclude(chart, 'target', { url: file });
      },
      [new RegExp(`\\[podinfo/target\\] ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: `)],
    );
    expect(e.problems.length).toBeGreaterThan(0);
  });

  it('StrictInclude: indentation errors too', () => {
    const file = path.join(tempDir(), 'indent.yaml');
    fs.writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n spec:\n  replicas: 2\n    selector: x\n');
    expect(() => new StrictInclude(new Chart(new App(), 'c'), 'inc', { url: file })).toThrow(ValidationError);
  });

  it('StrictInclude: a missing file or a URL is a ValidationError', () => {
    const chart = new Chart(new App(), 'c');
    expect(() => new StrictInclude(chart, 'a', { url: '/nonexistent/podinfo.yaml' })).toThrow(/\[c\/a\] url: cannot read/);
    expect(() => new StrictInclude(chart, 'b', { url: 'https://example.com/podinfo.yaml' })).toThrow(/\[c\/b\] url: must be a local file/);
  });

  it('StrictInclude: valid multi-document YAML defines every object, skipping empty documents', () => {
    const file = writePodinfoYaml({}, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } }]);
    fs.appendFileSync(file, '---\n---\n');
    const inc = new StrictInclude(new Chart(new App(), 'c'), 'inc', { url: file });
    expect(inc.apiObjects.map((o) => o.kind)).toEqual(['Deployment', 'ConfigMap']);
    expect(inc.apiObjects[0].toJson()).toEqual(podinfoJson());
  });

  it('loadYamlStrict rejects a document that is not a mapping', () => {
    expect(() => loadYamlStrict('- a\n- b\n', 'list.yaml')).toThrow(/list\.yaml: document 1 is not a Kubernetes object/);
    expect(loadYamlStrict('a: 0755\nb: yes\n', 'x.yaml')).toEqual([{ a: 0o755, b: true }]);
  });
});
