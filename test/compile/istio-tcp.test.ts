import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, kustomizeBuild, Output, tempDir, writeStage } from './support';

// Istio TCP routes: pkg/router/istio.go isTcp (service.appProtocol tcp), reconcileVirtualService and
// SetRoutes write one weighted `tcp` route (canaryToL4Match: the service matches' ports) and no
// `http` routes. Our fixture: the istio one with a TCP service.

const DIR = 'test/podinfo';
let stateDir: string;
const dirs: string[] = [];
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The istio fixture as a TCP service (its HTTP retries removed), then `edit` applied to the Canary. */
function tcpFixture(edit: (canary: string) => string = (c) => c): string {
  const dir = tempDir('canarykit-istio-tcp-');
  dirs.push(dir);
  for (const f of fs.readdirSync(path.join(FIXTURES, 'istio'))) {
    let text = fs.readFileSync(path.join(FIXTURES, 'istio', f), 'utf8');
    if (f === 'canary.yaml') {
      text = text.replace(/    retries:\n(      .*\n)+/, '').replace('    targetPort: 9898\n', '    targetPort: 9898\n    appProtocol: tcp\n');
      expect(text).toContain('appProtocol: tcp');
      text = edit(text);
    }
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}
const compile = (dir: string): Output => new Output(compileFiles([dir], { stateDir }));
const route = (primary: number, canary: number) => [
  { destination: { host: 'podinfo-primary' }, weight: primary },
  { destination: { host: 'podinfo-canary' }, weight: canary },
];

describe('compile: Istio TCP routes (istio.go isTcp, canaryToL4Match)', () => {
  it.each([
    ['Initialized', { phase: 'Initialized', canaryWeight: 0 }, 100, 0],
    ['Progressing at 20', { phase: 'Progressing', canaryWeight: 20 }, 80, 20],
    ['Promoting', { phase: 'Promoting', canaryWeight: 50 }, 50, 50],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }, 100, 0],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }, 100, 0],
  ] as const)('%s: one weighted tcp route and no http route; the VirtualService is valid and the folder builds', async (_label, patch, primary, canary) => {
    const dir = tcpFixture();
    writeStage(stateDir, compile(dir).plan(DIR), patch);
    const out = compile(dir);
    const vs = out.obj(DIR, 'virtualservice-podinfo');
    expect(vs.spec.http).toBeUndefined();
    expect(vs.spec.tcp).toEqual([{ route: route(primary, canary) }]);
    expect(vs.spec.hosts).toEqual(['app.example.com', 'podinfo']);
    expect(out.obj(DIR, 'service-podinfo').spec.ports[0].appProtocol).toBe('tcp');
    expect(manifestProblems(vs)).toEqual([]);
    expect(await kustomizeBuild(out, DIR)).toContain('tcp:');
  });

  it('service.match ports become L4 matches (only the port is read)', () => {
    const dir = tcpFixture((c) => c.replace('    appProtocol: tcp\n', '    appProtocol: TCP\n    match:\n      - port: 9898\n'));
    const vs = compile(dir).obj(DIR, 'virtualservice-podinfo');
    expect(vs.spec.tcp).toEqual([{ match: [{ port: 9898 }], route: route(100, 0) }]);
    expect(manifestProblems(vs)).toEqual([]);
  });

  it.each([
    ['an A/B match (the TCP route would send everyone to the canary)', (c: string) => c.replace('    stepWeight: 10\n', '    iterations: 5\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n'), 'spec.analysis.match'],
    ['an HTTP timeout', (c: string) => c.replace('    appProtocol: tcp\n', '    appProtocol: tcp\n    timeout: 5s\n'), 'spec.service.timeout'],
    ['a match on anything but the port', (c: string) => c.replace('    appProtocol: tcp\n', '    appProtocol: tcp\n    match:\n      - uri:\n          prefix: /\n'), 'spec.service.match[0]'],
  ])('%s is refused before anything is written', (_label, edit, where) => {
    let error: unknown;
    try {
      compile(tcpFixture(edit));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(where);
    expect((error as Error).message).toContain('tcp');
  });
});
