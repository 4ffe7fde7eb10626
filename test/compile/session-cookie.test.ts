import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, tempDir, writeStage } from './support';

// Session-cookie attributes (Flagger pkg/apis/flagger/v1beta1/canary.go SessionAffinity and
// BuildCookie): Domain, HttpOnly, Partitioned, Path, SameSite and Secure follow Max-Age, in that
// order, on the canary cookie and the primary cookie (pkg/router/istio.go and gateway_api.go
// SetRoutes); the expiry of the previous run's cookie carries Max-Age=-1 only.

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

const AFFINITY = `    sessionAffinity:
      cookieName: flagger-cookie
      primaryCookieName: primary-cookie
      maxAge: 3600
      domain: app.example.com
      httpOnly: true
      partitioned: true
      path: /shop
      sameSite: Strict
      secure: true
`;

/** The istio fixture (or a Gateway API variant of it) with session affinity, in a fresh folder. */
function fixture(affinity: string, gatewayApi = false): string {
  const dir = tempDir('canarykit-cookie-');
  dirs.push(dir);
  for (const f of fs.readdirSync(path.join(FIXTURES, 'istio'))) {
    let text = fs.readFileSync(path.join(FIXTURES, 'istio', f), 'utf8');
    if (f === 'canary.yaml') {
      text = text.replace('    stepWeight: 10\n', `    stepWeight: 10\n${affinity}`);
      if (gatewayApi) text = text.replace('  provider: istio\n', '').replace(/  service:\n(    .*\n)+?(?=  analysis:)/, '  provider: gatewayapi:v1\n  service:\n    port: 9898\n    targetPort: 9898\n    gatewayRefs:\n      - name: public\n        namespace: istio-system\n');
    }
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

const CANARY_COOKIE = 'flagger-cookie=c1; Max-Age=3600; Domain=app.example.com; HttpOnly; Partitioned; Path=/shop; SameSite=Strict; Secure';
const PRIMARY_COOKIE = 'primary-cookie=p1; Max-Age=60; Domain=app.example.com; HttpOnly; Partitioned; Path=/shop; SameSite=Strict; Secure';
const COOKIES = { cookie: 'flagger-cookie=c1', primaryCookie: 'primary-cookie=p1' };

describe('compile: session-cookie attributes (canary.go BuildCookie)', () => {
  it('Istio: the canary and primary Set-Cookie carry every attribute after Max-Age; the VirtualService is valid', () => {
    const dir = fixture(AFFINITY);
    const compile = (): Output => new Output(compileFiles([dir], { stateDir }));
    const plan = compile().plan(DIR);
    expect(plan.analysis.sessionAffinity).toEqual({ cookieName: 'flagger-cookie', primaryCookieName: 'primary-cookie', maxAge: 3600, domain: 'app.example.com', httpOnly: true, partitioned: true, path: '/shop', sameSite: 'Strict', secure: true });
    writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 10, sessionAffinity: COOKIES });
    const vs = compile().obj(DIR, 'virtualservice-podinfo');
    const weighted = vs.spec.http[vs.spec.http.length - 1];
    expect(weighted.route[1].headers.response.add['Set-Cookie']).toBe(CANARY_COOKIE);
    expect(weighted.route[0].headers.response.add['Set-Cookie']).toBe(PRIMARY_COOKIE);
    expect(manifestProblems(vs)).toEqual([]);
  });

  it('Istio: expiring the previous cookie after the run has Max-Age=-1 and no attributes (istio.go SetRoutes)', () => {
    const dir = fixture(AFFINITY);
    writeStage(stateDir, new Output(compileFiles([dir], { stateDir })).plan(DIR), { phase: 'Succeeded', canaryWeight: 0, sessionAffinity: { previousCookie: 'flagger-cookie=c1' } });
    const vs = new Output(compileFiles([dir], { stateDir })).obj(DIR, 'virtualservice-podinfo');
    expect(vs.spec.http[0].headers.response.add['Set-Cookie']).toBe('flagger-cookie=c1; Max-Age=-1');
  });

  it('Gateway API: the same attributes on the backends\' ResponseHeaderModifier filters (gateway_api.go getSessionAffinityRouteRules)', () => {
    const dir = fixture(AFFINITY, true);
    const compile = (): Output => new Output(compileFiles([dir], { stateDir }));
    writeStage(stateDir, compile().plan(DIR), { phase: 'Progressing', canaryWeight: 10, sessionAffinity: COOKIES });
    const route = compile().obj(DIR, 'httproute-podinfo');
    const weighted = route.spec.rules[route.spec.rules.length - 1];
    const header = (i: number) => weighted.backendRefs[i].filters[0].responseHeaderModifier.add[0].value;
    expect(header(1)).toBe(CANARY_COOKIE);
    expect(header(0)).toBe(PRIMARY_COOKIE);
    expect(manifestProblems(route)).toEqual([]);
  });

  it('false and empty attributes are left out (Go omitempty); without attributes the cookie is as before', () => {
    const dir = fixture('    sessionAffinity:\n      cookieName: flagger-cookie\n      httpOnly: false\n      domain: ""\n');
    const compile = (): Output => new Output(compileFiles([dir], { stateDir }));
    const plan = compile().plan(DIR);
    expect(plan.analysis.sessionAffinity).toEqual({ cookieName: 'flagger-cookie', maxAge: 86400 });
    writeStage(stateDir, plan, { phase: 'Progressing', canaryWeight: 10, sessionAffinity: { cookie: 'flagger-cookie=c1' } });
    const vs = compile().obj(DIR, 'virtualservice-podinfo');
    expect(vs.spec.http[vs.spec.http.length - 1].route[1].headers.response.add['Set-Cookie']).toBe('flagger-cookie=c1; Max-Age=86400');
  });

  it('a sameSite outside Flagger\'s enum (Strict, Lax, None) is refused before anything is written', () => {
    const dir = fixture('    sessionAffinity:\n      cookieName: flagger-cookie\n      sameSite: strict\n');
    let error: unknown;
    try {
      compileFiles([dir], { stateDir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('spec.analysis.sessionAffinity.sameSite');
  });
});
