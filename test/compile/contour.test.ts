import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { compileFixture, Output, refusedEdit, tempDir, writeStage } from './support';

// `canarykit compile` of Flagger Canaries with `provider: contour` (Flagger's contour tutorial and
// pkg/router/contour.go), written as our own fixtures under test/fixtures/flagger/{contour,ab-contour}.

const execFileAsync = promisify(execFile);
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const svc = (name: string, weight: number, port = 80): Record<string, unknown> => ({
  name,
  port,
  ...(weight ? { weight } : {}),
  requestHeadersPolicy: { set: [{ name: 'l5d-dst-override', value: `${name}.test.svc.cluster.local:${port}` }] },
});
const policies = { timeoutPolicy: { response: '15s', idle: '5m' }, retryPolicy: { count: 3, perTryTimeout: '5s', retryOn: ['5xx'] } };

/** Every manifest of every folder: HTTPProxy against Contour's CRD, the rest under every validator. */
function problems(out: Output): string[] {
  const found: string[] = [];
  for (const dir of out.dirs) {
    for (const file of out.files(dir)) {
      if (file === 'canary.plan.json' || file === 'kustomization.yaml') continue;
      const obj = parse(out.text(dir, file));
      const p = obj.apiVersion === 'projectcontour.io/v1' ? strictSchemaProblems(obj) : manifestProblems(obj);
      found.push(...p.map((x) => `${dir}/${file}: ${x}`));
    }
  }
  return found;
}

/** Writes each compiled folder to disk and runs `kubectl kustomize` on it. */
async function kustomizeAll(out: Output): Promise<Map<string, string>> {
  const root = tempDir('canarykit-contour-kustomize-');
  const built = new Map<string, string>();
  try {
    for (const dir of out.dirs) {
      const target = path.join(root, dir);
      fs.mkdirSync(target, { recursive: true });
      for (const file of out.files(dir)) fs.writeFileSync(path.join(target, file), out.text(dir, file));
      built.set(dir, (await execFileAsync('kubectl', ['kustomize', target], { encoding: 'utf8' })).stdout);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return built;
}

describe('compile: podinfo on Contour (contour tutorial)', () => {
  it('bootstrap: HTTPProxy podinfo at 100/0 with the timeout and retry policy; the plan uses the contour observer', () => {
    const out = compileFixture('contour', stateDir);
    expect(out.files('test/podinfo').sort()).toEqual([
      'canary.plan.json', 'deployment-podinfo-primary.yaml', 'deployment-podinfo.yaml', 'horizontalpodautoscaler-podinfo-primary.yaml',
      'horizontalpodautoscaler-podinfo.yaml', 'httpproxy-podinfo.yaml', 'kustomization.yaml', 'service-podinfo-canary.yaml',
      'service-podinfo-primary.yaml', 'service-podinfo.yaml',
    ]);
    expect(out.obj('test/podinfo', 'httpproxy-podinfo')).toEqual({
      apiVersion: 'projectcontour.io/v1',
      kind: 'HTTPProxy',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { routes: [{ conditions: [{ prefix: '/' }], ...policies, services: [svc('podinfo-primary', 100), svc('podinfo-canary', 0)] }] },
    });
    const plan = out.plan('test/podinfo');
    expect(plan).toMatchObject({ provider: 'contour', strategy: 'canary', routing: { flaggerName: 'contour', shiftsWeights: true, promotionSteps: true } });
    const [success, duration] = plan.metrics;
    expect(success).toMatchObject({ name: 'request-success-rate', builtin: true });
    expect(success.query).toContain('envoy_cluster_upstream_rq{');
    expect(success.query).toContain('envoy_cluster_name=~"test_podinfo-canary_[0-9a-zA-Z-]+"');
    expect(duration.query).toContain('envoy_cluster_upstream_rq_time_bucket{');
    expect(duration.query).not.toContain('1000');
  });

  it.each([
    ['Progressing at 5', { phase: 'Progressing', canaryWeight: 5 }, 95, 5],
    ['WaitingPromotion at 50', { phase: 'WaitingPromotion', canaryWeight: 50 }, 50, 50],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, 50, 50],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 100, 0],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, 100, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, 100, 0],
  ] as const)('%s: the staged weights, every object valid, the folder builds with kustomize', async (_label, patch, primary, canary) => {
    writeStage(stateDir, compileFixture('contour', stateDir).plan('test/podinfo'), patch);
    const out = compileFixture('contour', stateDir);
    expect(out.obj('test/podinfo', 'httpproxy-podinfo').spec.routes[0].services).toEqual([svc('podinfo-primary', primary), svc('podinfo-canary', canary)]);
    expect(problems(out)).toEqual([]);
    const built = await kustomizeAll(out);
    expect(built.get('test/podinfo')).toContain('kind: HTTPProxy');
  });
});

describe('compile: A/B testing on Contour', () => {
  it('header route under service.match[0].uri.prefix carries the canary weight; the default route stays on the primary', async () => {
    writeStage(stateDir, compileFixture('ab-contour', stateDir).plan('test/abtest'), { phase: 'Progressing', canaryWeight: 100, iterations: 3 });
    const out = compileFixture('ab-contour', stateDir);
    expect(out.plan('test/abtest').strategy).toBe('ab-testing');
    expect(out.obj('test/abtest', 'httpproxy-abtest').spec).toEqual({
      routes: [
        { conditions: [{ prefix: '/api', header: { name: 'x-canary', exact: 'insider' } }], services: [svc('abtest-primary', 0), svc('abtest-canary', 100)] },
        { conditions: [{ prefix: '/api' }], services: [svc('abtest-primary', 100), svc('abtest-canary', 0)] },
      ],
    });
    expect(problems(out)).toEqual([]);
    expect((await kustomizeAll(out)).get('test/abtest')).toContain('x-canary');
  });

  it.each([
    ['a second service match', '    match:\n      - uri:\n          prefix: /api\n', '    match:\n      - uri:\n          prefix: /api\n      - uri:\n          prefix: /v2\n', 'spec.service.match[1].uri', 'Flagger reads only service.match[0].uri.prefix'],
    ['a header in service.match', '      - uri:\n          prefix: /api\n', '      - uri:\n          prefix: /api\n        headers:\n          x-env:\n            exact: prod\n', 'spec.service.match[0].headers', 'is ignored by provider contour'],
    ['a regex A/B header', 'exact: insider', 'regex: "^ins"', 'analysis.match[0].headers.x-canary', 'regex is not supported'],
    ['mirroring', '    iterations: 10\n', '    iterations: 10\n    mirror: true\n', 'analysis.mirror', 'provider contour cannot mirror traffic'],
    ['a relative path prefix', 'prefix: /api', 'prefix: api', 'abtest.yaml#2 Canary test/abtest: spec.service.match[0].uri.prefix: must start with "/" (got "api")', '(line '],
    ['a retryOn Contour does not know', '    targetPort: http\n', '    targetPort: http\n    retries:\n      attempts: 2\n      retryOn: 5xx,retriable-5xx\n', 'spec.service.retries.retryOn: "retriable-5xx" is not a Contour retry condition', 'gateway-error'],
  ])('%s is refused before anything is written', (_label, from, to, where, message) => {
    const refused = refusedEdit('ab-contour', 'abtest.yaml', from, to, stateDir);
    expect(refused).toContain(where);
    expect(refused).toContain(message);
  });
});
