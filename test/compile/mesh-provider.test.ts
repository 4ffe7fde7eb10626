import * as fs from 'fs';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors';
import { compileFiles } from '../../src/compile';
import { runSynth } from '../../src/adapters/synth';
import { runCli } from '../support/cli';
import { FIXTURES, Output, tempDir } from './support';

// Flagger cmd/flagger/main.go `-mesh-provider` (default istio) and scheduler.go advanceCanary: a
// Canary without spec.provider runs with the controller's mesh provider. canarykit takes it from
// `--mesh-provider` or `controller.meshProvider` in canarykit.yaml, and never silently from elsewhere.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A Canary that any mesh can run (no provider-specific field), without spec.provider. */
const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
`;

/** The istio fixture's Deployment and a provider-neutral Canary in a fresh `apps/`; returns the repo root. */
function repoWithoutProvider(): string {
  const root = tempDir('canarykit-mesh-');
  dirs.push(root);
  const apps = path.join(root, 'apps');
  fs.mkdirSync(apps);
  fs.copyFileSync(path.join(FIXTURES, 'istio', 'deployment.yaml'), path.join(apps, 'deployment.yaml'));
  fs.writeFileSync(path.join(apps, 'canary.yaml'), CANARY);
  return root;
}

const DIR = 'test/podinfo';

describe('the mesh provider applies to a Canary without spec.provider', () => {
  it('defaults to istio, as Flagger', () => {
    const root = repoWithoutProvider();
    const out = new Output(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state') }));
    expect(out.plan(DIR).provider).toBe('istio');
    expect(out.files(DIR)).toContain('virtualservice-podinfo.yaml');
  });

  it('meshProvider linkerd renders a TrafficSplit and no Istio object, with Linkerd metrics', () => {
    const root = repoWithoutProvider();
    const out = new Output(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { meshProvider: 'linkerd' } }));
    const plan = out.plan(DIR);
    expect(plan.provider).toBe('linkerd');
    expect(plan.routing.flaggerName).toBe('linkerd');
    expect(out.files(DIR).some((f) => f.startsWith('trafficsplit-'))).toBe(true);
    expect(out.files(DIR).filter((f) => /virtualservice|destinationrule/.test(f))).toEqual([]);
    expect(plan.metrics.find((m) => m.name === 'request-success-rate')?.query).toContain('response_total');
  });

  it('spec.provider wins over the mesh provider', () => {
    const root = repoWithoutProvider();
    const canary = path.join(root, 'apps', 'canary.yaml');
    fs.writeFileSync(canary, fs.readFileSync(canary, 'utf8').replace(/^spec:\n/m, 'spec:\n  provider: istio\n'));
    const out = new Output(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { meshProvider: 'linkerd' } }));
    expect(out.plan(DIR).provider).toBe('istio');
  });

  it('spec.provider with a Linkerd mesh provider: the routes are the Canary\'s provider\'s, the built-in metrics Linkerd\'s (scheduler_metrics.go runBuiltinMetricChecks)', () => {
    const root = repoWithoutProvider();
    const canary = path.join(root, 'apps', 'canary.yaml');
    fs.writeFileSync(canary, fs.readFileSync(canary, 'utf8').replace(/^spec:\n/m, 'spec:\n  provider: smi:v1alpha1\n'));
    const withLinkerd = new Output(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { meshProvider: 'linkerd' } })).plan(DIR);
    expect(withLinkerd.provider).toBe('smiv1alpha1');
    expect(withLinkerd.metrics.find((m) => m.name === 'request-success-rate')?.query).toContain('response_total');
    // Under the default mesh provider the same Canary keeps its own provider's (Istio's) queries.
    const withIstio = new Output(compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state') })).plan(DIR);
    expect(withIstio.metrics.find((m) => m.name === 'request-success-rate')?.query).toContain('istio_requests_total');
  });

  it('a mesh provider Flagger does not know is an error naming the field, the setting and the fix', () => {
    const root = repoWithoutProvider();
    let error: unknown;
    try {
      compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { meshProvider: 'consul' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('spec.provider: is not set, so the mesh provider "consul" (--mesh-provider, controller.meshProvider of canarykit.yaml) applies, which is not a Flagger provider; set spec.provider or the mesh provider to one of: istio, nginx');
  });
});

describe('messages name the provider in effect, not Istio', () => {
  const compileWith = (root: string, meshProvider: string): string => {
    try {
      compileFiles([path.join(root, 'apps')], { stateDir: path.join(root, 'state'), controller: { meshProvider } });
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };

  it('a provider-specific field of another provider names the mesh provider and where it came from', () => {
    const root = repoWithoutProvider();
    const canary = path.join(root, 'apps', 'canary.yaml');
    fs.writeFileSync(canary, fs.readFileSync(canary, 'utf8').replace('    port: 9898\n', '    port: 9898\n    gateways: [public-gateway]\n'));
    expect(compileWith(root, 'linkerd')).toContain('spec.service.gateways: is only used with provider istio, not linkerd (the mesh provider: spec.provider is not set; --mesh-provider, controller.meshProvider of canarykit.yaml) (Flagger ignores it); remove it or set spec.provider');
  });

  it('a mesh provider that needs an Ingress says so under its own name', () => {
    const root = repoWithoutProvider();
    expect(compileWith(root, 'nginx')).toContain('needs spec.ingressRef');
    expect(compileWith(root, 'nginx')).toContain('provider nginx (the mesh provider: spec.provider is not set;');
  });
});

describe('one setting for the CLI, canarykit.yaml and the driver synth', () => {
  const inRepo = async <T>(root: string, body: () => Promise<T>): Promise<T> => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      return await body();
    } finally {
      process.chdir(cwd);
    }
  };

  it('compile reads controller.meshProvider; a contradicting --mesh-provider is exit 2 and writes nothing', async () => {
    const root = repoWithoutProvider();
    fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'synth: canarykit compile -f apps/\ncontroller:\n  meshProvider: linkerd\n');
    const ok = await inRepo(root, () => runCli(['compile', '-f', 'apps/'], new Date()));
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'dist', DIR, 'canary.plan.json'), 'utf8')).provider).toBe('linkerd');
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    const bad = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--mesh-provider', 'istio'], new Date()));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--mesh-provider istio contradicts controller.meshProvider: linkerd in canarykit.yaml');
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
  });

  it('without canarykit.yaml, --mesh-provider applies', async () => {
    const root = repoWithoutProvider();
    const r = await inRepo(root, () => runCli(['compile', '-f', 'apps/', '--mesh-provider', 'linkerd'], new Date()));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'dist', DIR, 'canary.plan.json'), 'utf8')).provider).toBe('linkerd');
  });

  it("the driver's in-process synth passes the configured mesh provider", async () => {
    const root = repoWithoutProvider();
    await runSynth('canarykit compile -f apps/', root, 'dist', 'state', undefined, { meshProvider: 'linkerd' });
    expect(JSON.parse(fs.readFileSync(path.join(root, 'dist', DIR, 'canary.plan.json'), 'utf8')).provider).toBe('linkerd');
  });
});
