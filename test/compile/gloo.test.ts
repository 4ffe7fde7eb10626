import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { FIXTURES, compileFixture, tempDir, writeStage } from './support';

// `canarykit compile` of a Flagger Canary with `provider: gloo` after Flagger's Gloo e2e
// (test/gloo/test-canary.sh) and pkg/router/gloo.go, written as our own fixture under
// test/fixtures/flagger/gloo: the config Upstream of spec.upstreamRef is read, not claimed.

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
const PRIMARY_US = 'test-podinfo-primaryupstream-80';
const CANARY_US = 'test-podinfo-canaryupstream-80';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const dest = (name: string, weight: number): Record<string, unknown> => ({ destination: { upstream: { name, namespace: 'test' } }, ...(weight ? { weight } : {}) });
const COPIED = {
  connectionConfig: { connectTimeout: '2s', maxRequestsPerConnection: 51 },
  loadBalancerConfig: { roundRobin: { slowStartConfig: { slowStartWindow: '2m', minWeightPercent: 5 } } },
};

function compileEdited(from: string, to: string): ValidationError {
  const dir = tempDir('canarykit-gloo-bad-');
  try {
    const text = fs.readFileSync(path.join(FIXTURES, 'gloo', 'podinfo.yaml'), 'utf8');
    expect(text).toContain(from);
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text.replace(from, to));
    let error: unknown;
    try {
      compileFiles([dir], { stateDir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('compile: podinfo on Gloo Edge (gloo e2e)', () => {
  it('bootstrap: RouteTable podinfo at 100/0, both Upstreams with the config Upstream\'s settings; VirtualService and config Upstream pass through', () => {
    const out = compileFixture('gloo', stateDir);
    expect(out.dirs).toEqual([DIR, '_unreferenced']);
    expect(out.obj(DIR, 'routetable-podinfo')).toEqual({
      apiVersion: 'gateway.solo.io/v1',
      kind: 'RouteTable',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { routes: [{ inheritablePathMatchers: true, routeAction: { multi: { destinations: [dest(PRIMARY_US, 100), dest(CANARY_US, 0)] } } }] },
    });
    expect(out.obj(DIR, `upstream-${PRIMARY_US}`)).toEqual({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: PRIMARY_US, namespace: 'test' },
      spec: { ...COPIED, kube: { serviceName: 'podinfo-primary', serviceNamespace: 'test', servicePort: 80, selector: { app: 'podinfo-primary' } } },
    });
    expect(out.obj(DIR, `upstream-${CANARY_US}`).spec.kube).toEqual({ serviceName: 'podinfo-canary', serviceNamespace: 'test', servicePort: 80, selector: { app: 'podinfo' } });
    expect(out.files('_unreferenced').sort()).toEqual(expect.arrayContaining(['upstream-config-upstream.yaml', 'virtualservice-podinfo.yaml']));
    expect(out.obj('_unreferenced', 'virtualservice-podinfo').spec.virtualHost.routes[0].delegateAction.ref).toEqual({ name: 'podinfo', namespace: 'test' });
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ provider: 'gloo', strategy: 'canary', routing: { flaggerName: 'gloo', shiftsWeights: true, promotionSteps: true } });
    expect(plan.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration']);
    for (const m of plan.metrics) expect(m.query).toContain('envoy_cluster_name=~"test-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+"');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, [100, 0]],
    ['Progressing at 10', { phase: 'Progressing', canaryWeight: 10 }, [90, 10]],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, [50, 50]],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, [100, 0]],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, [100, 0]],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, [100, 0]],
  ] as const)('%s: the staged weights, every object valid, the folder builds with kustomize', async (_label, patch, [primary, canary]) => {
    writeStage(stateDir, compileFixture('gloo', stateDir).plan(DIR), patch);
    const out = compileFixture('gloo', stateDir);
    expect(out.obj(DIR, 'routetable-podinfo').spec.routes[0].routeAction.multi.destinations).toEqual([dest(PRIMARY_US, primary), dest(CANARY_US, canary)]);
    expect(out.obj(DIR, `upstream-${CANARY_US}`).spec).toMatchObject(COPIED);
    const problems: string[] = [];
    for (const dir of [DIR, '_unreferenced']) {
      for (const file of out.files(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
        const obj = parse(out.text(dir, file));
        // The user's VirtualService is passed through as written; the objects canarykit writes are checked strictly.
        if (obj.kind === 'VirtualService') continue;
        problems.push(...(/solo\.io\//.test(obj.apiVersion) ? strictSchemaProblems(obj) : manifestProblems(obj)));
      }
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-gloo-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      const built = (await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout;
      expect(built).toContain('kind: RouteTable');
      expect(built).toContain(`name: ${CANARY_US}`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('A/B after the tutorial: the header match on the one route, every phase', () => {
    const from = '    maxWeight: 50\n    stepWeight: 10\n';
    const dir = tempDir('canarykit-gloo-ab-');
    try {
      const text = fs.readFileSync(path.join(FIXTURES, 'gloo', 'podinfo.yaml'), 'utf8');
      fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text.replace(from, '    iterations: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n'));
      const out = compileFiles([dir], { stateDir });
      const route = parse(out.folders.find((f) => f.dir === DIR)!.files.get('routetable-podinfo.yaml')!).spec.routes[0];
      expect(route.matchers).toEqual([{ headers: [{ name: 'x-canary', value: 'insider' }] }]);
      expect(route.routeAction.multi.destinations).toEqual([dest(PRIMARY_US, 100), dest(CANARY_US, 0)]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['a config Upstream missing from the inputs', '  name: config-upstream\n  namespace: gloo-system\nspec:', '  name: other-upstream\n  namespace: gloo-system\nspec:', 'spec.upstreamRef', 'Upstream gloo-system/config-upstream is not among the inputs'],
    ['upstreamRef without a namespace', '    name: config-upstream\n    namespace: gloo-system\n', '    name: config-upstream\n', 'spec.upstreamRef.namespace', 'must be set'],
    ['upstreamRef of another kind', '    kind: Upstream\n    name: config-upstream', '    kind: UpstreamGroup\n    name: config-upstream', 'spec.upstreamRef.kind', 'must be one of "Upstream"'],
    ['a config setting Flagger drops', '        minWeightPercent: 5\n', '        minWeightPercent: 5\n    healthyPanicThreshold: 50\n', 'spec.upstreamRef', 'spec.loadBalancerConfig.healthyPanicThreshold of the config Upstream'],
    ['mirroring', '    stepWeight: 10\n', '    stepWeight: 10\n    mirror: true\n', 'spec.analysis.mirror', 'provider gloo cannot mirror traffic'],
    ['a service timeout Gloo ignores', '    targetPort: 9898\n', '    targetPort: 9898\n    timeout: 15s\n', 'spec.service.timeout', 'not gloo'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const e = compileEdited(from, to);
    expect(e.message).toContain(where);
    expect(e.message).toContain(message);
  });

  it('factory.go HasPrefix: a -mesh-provider starting with gloo selects Gloo; spec.provider is held to the CRD enum', () => {
    const dir = tempDir('canarykit-gloo-mesh-');
    try {
      const text = fs.readFileSync(path.join(FIXTURES, 'gloo', 'podinfo.yaml'), 'utf8');
      fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text.replace('  provider: gloo\n', ''));
      const out = compileFiles([dir], { stateDir, controller: { meshProvider: 'gloo-edge' } });
      expect(JSON.parse(out.folders.find((f) => f.dir === DIR)!.files.get('canary.plan.json')!).provider).toBe('gloo');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(compileEdited('  provider: gloo\n', '  provider: gloo-edge\n').message).toContain('spec.provider: "gloo-edge" is rejected by Flagger\'s Canary CRD');
  });

  it('upstreamRef on another provider is refused', () => {
    const e = compileEdited('  provider: gloo\n', '  provider: kubernetes\n');
    expect(e.message).toContain('spec.upstreamRef: is only used with provider gloo, not kubernetes');
  });
});
