import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, kustomizeBuild, Output, tempDir, writeStage } from './support';

// `canarykit compile` with Flagger's `gatewayapi:v1beta1` (pkg/router/gateway_api_v1beta1.go), as in
// Flagger's linkerd tutorial: the controller's -mesh-provider is gatewayapi:v1beta1 and the Canary
// names no provider. Our own fixture under test/fixtures/flagger/gatewayapi-v1beta1.

const DIR = 'test/podinfo';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const compile = (meshProvider = 'gatewayapi:v1beta1', dir = path.join(FIXTURES, 'gatewayapi-v1beta1')): Output =>
  new Output(compileFiles([dir], { stateDir, controller: { meshProvider } }));
const backend = (name: string, weight: number): Record<string, unknown> => ({ group: '', kind: 'Service', name, port: 9898, weight });
const PREFIX = [{ path: { type: 'PathPrefix', value: '/' } }];

/** The fixture with `from` replaced by `to`, in a fresh folder. */
function variant(from: string, to: string): string {
  const dir = tempDir('canarykit-gwv1beta1-');
  const text = fs.readFileSync(path.join(FIXTURES, 'gatewayapi-v1beta1', 'podinfo.yaml'), 'utf8');
  expect(text).toContain(from);
  fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text.replace(from, to));
  return dir;
}

describe('compile: Linkerd Gateway API mode (gatewayapi:v1beta1, gateway_api_v1beta1.go)', () => {
  it('bootstrap (Reconcile): a v1beta1 HTTPRoute podinfo attached to the Service, primary 100; the plan names gatewayapi:v1beta1 and waits for no route acceptance', () => {
    const out = compile();
    expect(out.obj(DIR, 'httproute-podinfo')).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'HTTPRoute',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: {
        parentRefs: [{ group: 'core', kind: 'Service', namespace: 'test', name: 'podinfo', port: 9898 }],
        rules: [{ matches: PREFIX, backendRefs: [backend('podinfo-primary', 100), backend('podinfo-canary', 0)] }],
      },
    });
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ provider: 'gatewayapiv1beta1', strategy: 'canary', routing: { flaggerName: 'gatewayapi:v1beta1', shiftsWeights: true, promotionSteps: true } });
    // gateway_api_v1beta1.go GetRoutes reads weights only: no Accepted condition gates a tick.
    expect(plan.route).toBeUndefined();
    expect(plan.metrics.map((m) => m.name)).toEqual(['success-rate', 'latency']);
  });

  it('with spec.provider: gatewayapi:v1beta1 and the default mesh provider the output is the same', () => {
    const byMesh = compile();
    const dir = variant('  progressDeadlineSeconds: 60\n  service:', '  provider: gatewayapi:v1beta1\n  progressDeadlineSeconds: 60\n  service:');
    try {
      const bySpec = compile(undefined as unknown as string, dir);
      expect(bySpec.text(DIR, 'httproute-podinfo.yaml')).toBe(byMesh.text(DIR, 'httproute-podinfo.yaml'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, 100, 0],
    ['Progressing at 5', { phase: 'Progressing', canaryWeight: 5 }, 95, 5],
    ['Progressing at 50', { phase: 'Progressing', canaryWeight: 50 }, 50, 50],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, 50, 50],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 100, 0],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, 100, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, 100, 0],
  ] as const)('%s (SetRoutes): the stage weights, every object valid, the folder builds with kustomize', async (_label, patch, primary, canary) => {
    writeStage(stateDir, compile().plan(DIR), patch);
    const out = compile();
    const route = out.obj(DIR, 'httproute-podinfo');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    expect(route.spec.rules).toEqual([{ matches: PREFIX, backendRefs: [backend('podinfo-primary', primary), backend('podinfo-canary', canary)] }]);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) problems.push(...manifestProblems(parse(out.text(DIR, file))));
    expect(problems).toEqual([]);
    expect(await kustomizeBuild(out, DIR)).toContain('apiVersion: gateway.networking.k8s.io/v1beta1');
  });

  it('A/B (SetRoutes with analysis.match): the header rule to primary/canary first, then the default rule on the primary', () => {
    const dir = variant('    stepWeight: 5\n', '    iterations: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n');
    try {
      const plan = compile(undefined, dir).plan(DIR);
      writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 100 });
      const rules = compile(undefined, dir).obj(DIR, 'httproute-podinfo').spec.rules;
      expect(rules).toEqual([
        // mergeMatchConditions copies the rule's default PathPrefix / into the A/B match.
        { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-canary', type: 'Exact', value: 'insider' }] }], backendRefs: [backend('podinfo-primary', 0), backend('podinfo-canary', 100)] },
        { matches: PREFIX, backendRefs: [backend('podinfo-primary', 100)] },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('session affinity (getSessionAffinityRouteRules, v1beta1): the sticky canary rule and the weighted rule with Set-Cookie on the canary; no sticky primary rule', () => {
    const dir = variant('    stepWeight: 5\n', '    stepWeight: 5\n    sessionAffinity:\n      cookieName: flagger-cookie\n      maxAge: 7200\n');
    try {
      writeStage(stateDir, compile(undefined, dir).plan(DIR), { phase: 'Progressing', canaryWeight: 10, sessionAffinity: { cookie: 'flagger-cookie=abc' } });
      const rules = compile(undefined, dir).obj(DIR, 'httproute-podinfo').spec.rules;
      expect(rules).toHaveLength(2);
      expect(rules[0].matches).toEqual([{ headers: [{ name: 'Cookie', type: 'RegularExpression', value: '.*flagger-cookie.*abc.*' }] }]);
      expect(rules[0].backendRefs).toEqual([backend('podinfo-primary', 0), backend('podinfo-canary', 100)]);
      expect(rules[1].backendRefs[1].filters).toEqual([{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: 'flagger-cookie=abc; Max-Age=7200' }] } }]);
      expect(rules[1].backendRefs[0].filters).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['service.timeout (the v1beta1 router writes no timeouts)', '    targetPort: 9898\n', '    targetPort: 9898\n    timeout: 15s\n', 'spec.service.timeout', 'not gatewayapi:v1beta1'],
    ['a sticky primary cookie', '    stepWeight: 5\n', '    stepWeight: 5\n    sessionAffinity:\n      cookieName: flagger-cookie\n      primaryCookieName: primary-cookie\n', 'spec.analysis.sessionAffinity.primaryCookieName', 'provider gatewayapi:v1beta1 has no sticky primary cookie'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const dir = variant(from, to);
    try {
      let error: unknown;
      try {
        compile(undefined, dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toContain(where);
      expect((error as ValidationError).message).toContain(message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
