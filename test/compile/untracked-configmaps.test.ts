import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Canary, CanaryApp, Provider, StrictInclude } from '../../src';
import { compileFiles } from '../../src/compile';
import { buildDeps } from '../../src/cli';
import { loadConfig } from '../../src/adapters/config';
import { OutputFolder } from '../../src/constructs/output';
import { runCli } from '../support/cli';
import { FIXTURES, tempDir } from './support';

// Issue 11: a ConfigMap the cluster creates (istiod's istio-ca-root-cert, mounted by an injected
// sidecar) is not in git. Flagger tracks whatever exists (pkg/canary/config_tracker.go
// GetTargetConfigs) unless the object says flagger.app/config-tracking: disabled, which cannot be
// written on an object git does not hold: canarykit's untrackedConfigMaps setting says it instead.

const FIXTURE = path.join(FIXTURES, 'untracked-configmaps');
const DIR = 'test/podinfo';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const root = tempDir('canarykit-untracked-');
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'apps'));
  fs.copyFileSync(path.join(FIXTURE, 'podinfo.yaml'), path.join(root, 'apps', 'podinfo.yaml'));
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

function readFolder(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

function folder(folders: readonly OutputFolder[], dir: string): Record<string, string> {
  return Object.fromEntries([...folders.find((f) => f.dir === dir)!.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('ConfigMaps the cluster creates (config_tracker.go GetTargetConfigs)', () => {
  it('without the setting: the error names the missing ConfigMap and the option', () => {
    const root = repo();
    expect(() => compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state') })).toThrow(
      /Canary test\/podinfo: spec\.targetRef: Deployment test\/podinfo uses ConfigMap "istio-ca-root-cert", which is not among the inputs; .*exclude it from tracking with --untracked-configmaps istio-ca-root-cert \(controller\.untrackedConfigMaps of canarykit\.yaml\)/,
    );
  });

  it('excluded: the primary mounts the cluster\'s ConfigMap itself, podinfo-env is still copied and tracked', () => {
    const root = repo();
    const out = folder(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { untrackedConfigMaps: ['istio-ca-root-cert'] } }).folders, DIR);
    expect(Object.keys(out)).toContain('configmap-podinfo-env-primary.yaml');
    expect(Object.keys(out)).not.toContain('configmap-istio-ca-root-cert-primary.yaml');
    const primary = parse(out['deployment-podinfo-primary.yaml']).spec.template.spec;
    expect(primary.volumes).toEqual([{ name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } }]);
    expect(primary.containers[0].envFrom).toEqual([{ configMapRef: { name: 'podinfo-env-primary' } }]);
  });

  it('the same output from the compile flag, canarykit.yaml through the driver\'s synth, and CanaryApp', async () => {
    const root = repo();
    const byFlag = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--untracked-configmaps', 'istio-ca-root-cert,kube-root-ca.crt'], new Date()));
    expect(byFlag.code, byFlag.err).toBe(0);
    const fromFlag = readFolder(path.join(root, 'dist', DIR));
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'synth: canarykit compile -f apps/\ncontroller:\n  untrackedConfigMaps: istio-ca-root-cert,kube-root-ca.crt\n');
    await buildDeps(root, loadConfig(root), { out: () => undefined, err: () => undefined }).synth();
    expect(readFolder(path.join(root, 'dist', DIR))).toEqual(fromFlag);

    const app = new CanaryApp({ stateRoot: root, controller: { untrackedConfigMaps: ['istio-ca-root-cert'] } });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const include = new StrictInclude(chart, 'in', { url: path.join(FIXTURE, 'podinfo.yaml') });
    for (const o of include.apiObjects) if (o.kind === 'Canary') include.node.tryRemoveChild(o.node.id);
    new Canary(chart, 'canary', {
      target: include.apiObjects.find((o) => o.kind === 'Deployment')!,
      service: { port: 9898 },
      provider: Provider.istio(),
      analysis: { interval: undefined, threshold: 5, maxWeight: 50, stepWeight: 10 },
      stateDir: 'state',
    });
    const rendered = folder(app.render(), DIR);
    expect(parse(rendered['deployment-podinfo-primary.yaml'])).toEqual(parse(fromFlag['deployment-podinfo-primary.yaml']));
    expect(Object.keys(rendered)).not.toContain('configmap-istio-ca-root-cert-primary.yaml');
  });

  it('the construct without the setting names configTracking.exclude and controller.untrackedConfigMaps', () => {
    const app = new CanaryApp({ stateRoot: tempDir('canarykit-untracked-app-') });
    const chart = new Chart(app, 'podinfo', { namespace: 'test' });
    const include = new StrictInclude(chart, 'in', { url: path.join(FIXTURE, 'podinfo.yaml') });
    for (const o of include.apiObjects) if (o.kind === 'Canary') include.node.tryRemoveChild(o.node.id);
    new Canary(chart, 'canary', { target: include.apiObjects.find((o) => o.kind === 'Deployment')!, service: { port: 9898 }, provider: Provider.istio(), analysis: { stepWeight: 10 }, stateDir: 'state' });
    expect(() => app.render()).toThrow('ConfigMap "istio-ca-root-cert", which is not defined in this chart; add it to the chart so its data is tracked, or, if the cluster creates it (as istiod creates istio-ca-root-cert), list it in configTracking.exclude or in CanaryApp\'s controller.untrackedConfigMaps');
  });

  it('a value that is not a ConfigMap name is refused where it is written', async () => {
    const root = repo();
    const r = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--untracked-configmaps', 'istio-ca-root-cert, other'], new Date()));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--untracked-configmaps: " other" is not a ConfigMap name');
  });
});

describe('-enable-config-tracking=false (main.go: canary.NopTracker)', () => {
  it('a ConfigMap the target uses need not be among the inputs: nothing is tracked', () => {
    const root = repo();
    const out = folder(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { enableConfigTracking: false } }).folders, DIR);
    expect(Object.keys(out).filter((f) => f.startsWith('configmap-'))).toEqual(['configmap-podinfo-env.yaml']);
    expect(parse(out['deployment-podinfo-primary.yaml']).spec.template.spec.volumes).toEqual([{ name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } }]);
  });
});
