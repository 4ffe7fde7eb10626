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

// `canarykit compile` of a Flagger Canary on APISIX (Flagger's apisix tutorial, test/apisix e2e
// and pkg/router/apisix.go), written as our own fixture under test/fixtures/flagger/apisix.

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** The canary HTTP route Flagger writes from the tutorial's route. */
const http = (primary: number, canary: number): Record<string, unknown> => ({
  name: 'method',
  priority: 10000,
  match: { hosts: ['app.example.com'], methods: ['GET'], paths: ['/*'] },
  backends: [
    { serviceName: 'podinfo-primary', servicePort: 80, weight: primary },
    { serviceName: 'podinfo-canary', servicePort: 80, weight: canary },
  ],
  websocket: false,
  plugins: [{ name: 'prometheus', enable: true, config: { disable: false, prefer_name: true } }],
});

/** Compiles the fixture with its text edited (`from` must occur in it). */
function compileEdited(edits: [string, string][]): ReturnType<typeof compileFiles> {
  const dir = tempDir('canarykit-apisix-edit-');
  try {
    let text = fs.readFileSync(path.join(FIXTURES, 'apisix', 'podinfo.yaml'), 'utf8');
    for (const [from, to] of edits) {
      expect(text).toContain(from);
      text = text.replace(from, to);
    }
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text);
    return compileFiles([dir], { stateDir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function refusal(edits: [string, string][]): string {
  try {
    compileEdited(edits);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

describe('compile: podinfo on APISIX (apisix tutorial)', () => {
  it('bootstrap: the canary ApisixRoute at 100/0 next to the user\'s, both in the canary\'s folder; the plan uses the apisix observer with {{ route }}', () => {
    const out = compileFixture('apisix', stateDir);
    expect(out.dirs).toEqual([DIR]);
    expect(out.obj(DIR, 'apisixroute-podinfo-podinfo-canary')).toEqual({
      apiVersion: 'apisix.apache.org/v2',
      kind: 'ApisixRoute',
      metadata: { name: 'podinfo-podinfo-canary', namespace: 'test' },
      spec: { http: [http(100, 0)] },
    });
    expect(out.obj(DIR, 'apisixroute-podinfo').spec.http[0].backends).toEqual([{ serviceName: 'podinfo', servicePort: 80 }]);
    const plan = out.plan(DIR);
    expect(plan).toMatchObject({ provider: 'apisix', strategy: 'canary', routing: { flaggerName: 'apisix', shiftsWeights: true, promotionSteps: true } });
    expect(plan.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration']);
    for (const m of plan.metrics) expect(m.query).toContain('route=~"test_podinfo-podinfo-canary_.+"');
  });

  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, [100, 0]],
    ['Progressing at 10', { phase: 'Progressing', canaryWeight: 10 }, [90, 10]],
    ['WaitingPromotion', { phase: 'WaitingPromotion', canaryWeight: 50 }, [50, 50]],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, [50, 50]],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, [100, 0]],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }, [100, 0]],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, [100, 0]],
  ] as const)('%s: the staged weights, every object valid, the folder builds with kustomize', async (_label, patch, [p, c]) => {
    writeStage(stateDir, compileFixture('apisix', stateDir).plan(DIR), patch);
    const out = compileFixture('apisix', stateDir);
    expect(out.obj(DIR, 'apisixroute-podinfo-podinfo-canary').spec.http).toEqual([http(p, c)]);
    const problems: string[] = [];
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
      const obj = parse(out.text(DIR, file));
      problems.push(...(obj.apiVersion === 'apisix.apache.org/v2' ? strictSchemaProblems(obj) : manifestProblems(obj)));
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-apisix-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      expect((await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout.match(/^kind: ApisixRoute$/gm)?.length).toBe(2);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it.each([
    ['no routeRef', [['  routeRef:\n    apiVersion: apisix.apache.org/v2\n    kind: ApisixRoute\n    name: podinfo\n', '']], 'Canary test/podinfo: spec: provider apisix needs spec.routeRef: the ApisixRoute whose HTTP route sends traffic to the apex Service'],
    ['a routeRef to a missing ApisixRoute', [['    kind: ApisixRoute\n    name: podinfo\n  progress', '    kind: ApisixRoute\n    name: edge\n  progress']], 'spec.routeRef: ApisixRoute test/edge is not among the inputs'],
    ['a route without the apex backend', [['        - serviceName: podinfo\n', '        - serviceName: web\n']], 'spec.routeRef: ApisixRoute "podinfo" has no HTTP route with a backend serviceName "podinfo"'],
    ['a field Flagger\'s APISIX types lack', [['spec:\n  http:\n', 'spec:\n  ingressClassName: apisix\n  http:\n']], 'spec.routeRef: ApisixRoute "podinfo" sets spec.ingressClassName, which Flagger\'s APISIX types lack'],
    ['an A/B match', [['    stepWeight: 10\n', '    stepWeight: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n']], 'spec.analysis.match: provider apisix cannot route by request attributes'],
    ['a service timeout APISIX ignores', [['    targetPort: 9898\n', '    targetPort: 9898\n    timeout: 15s\n']], 'spec.service.timeout: is only used with provider'],
  ] as const)('%s is refused before anything is written', (_label, edits, message) => {
    expect(refusal(edits as unknown as [string, string][])).toContain(message);
  });

  it('routeRef with another provider is refused: Flagger would also put its name in {{ route }}', () => {
    const message = refusal([['  provider: apisix\n', '  provider: kubernetes\n'], ['    stepWeight: 10\n', '    iterations: 5\n'], ['    maxWeight: 50\n', '']]);
    expect(message).toContain('spec.routeRef: is only used with provider apisix (Flagger also takes its name for {{ route }} in metric queries');
  });
});
