import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, tempDir, writeStage } from './support';

// HTTPRoute filters from service.headers, service.rewrite (with type), service.mirror and
// service.corsPolicy: Flagger's pkg/router/gateway_api.go makeFilters / toV1CORSFilter and
// gateway_api_v1beta1.go makeFilters (no CORS there), on every rule SetRoutes writes.

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

/** The gatewayapi-v1beta1 fixture (no spec.provider) with `service` lines added, in a fresh folder. */
function fixture(service: string, analysis = ''): string {
  const dir = tempDir('canarykit-gw-filters-');
  dirs.push(dir);
  let text = fs.readFileSync(path.join(FIXTURES, 'gatewayapi-v1beta1', 'podinfo.yaml'), 'utf8');
  text = text.replace('    targetPort: 9898\n', `    targetPort: 9898\n${service}`);
  if (analysis) text = text.replace('    stepWeight: 5\n', analysis);
  fs.writeFileSync(path.join(dir, 'podinfo.yaml'), text);
  return dir;
}
const compile = (dir: string, meshProvider = 'gatewayapi:v1'): Output => new Output(compileFiles([dir], { stateDir, controller: { meshProvider } }));
function compileError(dir: string, meshProvider = 'gatewayapi:v1'): string {
  try {
    compile(dir, meshProvider);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error('compiled');
}

const SERVICE = `    headers:
      request:
        add:
          x-b: "2"
          x-a: "1"
        set:
          x-tenant: shop
        remove: [x-debug]
      response:
        add:
          x-served-by: canarykit
    rewrite:
      uri: /v2
      authority: internal.example.com
      type: ReplacePrefixMatch
    mirror:
      - backendRef:
          name: podinfo-shadow
          port: 9898
    corsPolicy:
      allowOrigin: ["https://app.example.com"]
      allowMethods: [GET, POST]
      allowHeaders: [x-canary]
      exposeHeaders: [x-served-by]
      maxAge: 24h
      allowCredentials: true
`;
const FILTERS = [
  { type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-a', value: '1' }, { name: 'x-b', value: '2' }], set: [{ name: 'x-tenant', value: 'shop' }], remove: ['x-debug'] } },
  { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'canarykit' }] } },
  { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example.com', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
  { type: 'RequestMirror', requestMirror: { backendRef: { name: 'podinfo-shadow', port: 9898 } } },
  {
    type: 'CORS',
    cors: { allowOrigins: ['https://app.example.com'], allowMethods: ['GET', 'POST'], allowHeaders: ['x-canary'], exposeHeaders: ['x-served-by'], allowCredentials: true, maxAge: 86400 },
  },
];

describe('compile: Gateway API route filters (gateway_api.go makeFilters)', () => {
  it('gatewayapi:v1: header modifiers (sorted by name, then value), URL rewrite, service mirrors, then CORS, in that order; the HTTPRoute is valid', () => {
    const dir = fixture(SERVICE);
    writeStage(stateDir, compile(dir).plan(DIR), { phase: 'Progressing', canaryWeight: 10 });
    const route = compile(dir).obj(DIR, 'httproute-podinfo');
    expect(route.spec.rules).toHaveLength(1);
    expect(route.spec.rules[0].filters).toEqual(FILTERS);
    // The CORS filter is newer than @kubernetes-models/gateway-api: the v1.6.1 CRD schema decides.
    expect(strictSchemaProblems(route)).toEqual([]);
  });

  it('A/B: both the header rule and the default rule carry the filters (SetRoutes)', () => {
    const dir = fixture(SERVICE, '    iterations: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n');
    const rules = compile(dir).obj(DIR, 'httproute-podinfo').spec.rules;
    expect(rules.map((r: any) => r.filters)).toEqual([FILTERS, FILTERS]);
  });

  it('session affinity: the sticky rules are copies of the weighted rule, filters included (getSessionAffinityRouteRules)', () => {
    const dir = fixture(SERVICE, '    stepWeight: 5\n    sessionAffinity:\n      cookieName: flagger-cookie\n');
    writeStage(stateDir, compile(dir).plan(DIR), { phase: 'Progressing', canaryWeight: 10, sessionAffinity: { cookie: 'flagger-cookie=abc' } });
    const rules = compile(dir).obj(DIR, 'httproute-podinfo').spec.rules;
    expect(rules).toHaveLength(2);
    expect(rules[0].filters).toEqual(FILTERS);
    expect(rules[1].filters).toEqual(FILTERS);
    writeStage(stateDir, compile(dir).plan(DIR), { phase: 'Succeeded', canaryWeight: 0, sessionAffinity: { previousCookie: 'flagger-cookie=abc' } });
    const after = compile(dir).obj(DIR, 'httproute-podinfo').spec.rules;
    expect(after[0].filters).toEqual([...FILTERS, { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: 'flagger-cookie=abc; Max-Age=-1' }] } }]);
  });

  it('rewrite.type unset or ReplaceFullPath replaces the whole path (HTTPRewrite.GetType)', () => {
    for (const type of ['', '      type: ReplaceFullPath\n']) {
      const dir = fixture(`    rewrite:\n      uri: /v2\n${type}`);
      expect(compile(dir).obj(DIR, 'httproute-podinfo').spec.rules[0].filters).toEqual([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/v2' } } }]);
    }
  });

  it('gatewayapi:v1beta1 writes the same filters without CORS (its makeFilters has none)', () => {
    const dir = fixture(SERVICE.slice(0, SERVICE.indexOf('    corsPolicy:')));
    const route = compile(dir, 'gatewayapi:v1beta1').obj(DIR, 'httproute-podinfo');
    expect(route.spec.rules[0].filters).toEqual(FILTERS.slice(0, 4));
    expect(manifestProblems(route)).toEqual([]);
  });

  it.each([
    ['corsPolicy with gatewayapi:v1beta1', '    corsPolicy:\n      allowOrigin: ["*"]\n', 'gatewayapi:v1beta1', ['spec.service.corsPolicy', 'not gatewayapi:v1beta1']],
    ['Istio origin patterns (allowOrigins)', '    corsPolicy:\n      allowOrigins:\n        - exact: https://app.example.com\n', 'gatewayapi:v1', ['spec.service.corsPolicy.allowOrigins', 'use allowOrigin']],
    ['a maxAge that is not a Go duration', '    corsPolicy:\n      maxAge: 1d\n', 'gatewayapi:v1', ['spec.service.corsPolicy.maxAge']],
    ['an unknown rewrite type', '    rewrite:\n      uri: /v2\n      type: Prefix\n', 'gatewayapi:v1', ['spec.service.rewrite.type', 'ReplaceFullPath or ReplacePrefixMatch']],
    ['rewrite.type with Istio (Istio has no rewrite type)', '    rewrite:\n      uri: /v2\n      type: ReplacePrefixMatch\n', 'istio', ['spec.service.rewrite.type', 'not istio']],
    ['service.mirror with Istio', '    mirror:\n      - backendRef:\n          name: shadow\n          port: 80\n', 'istio', ['spec.service.mirror', 'not istio']],
  ])('%s is refused before anything is written', (_label, service, mesh, expected) => {
    const message = compileError(fixture(service), mesh);
    for (const text of expected) expect(message).toContain(text);
  });
});
