import * as fs from 'fs';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFiles } from '../../src/compile';
import { ValidationError } from '../../src/errors';
import { manifestProblems } from '../constructs/manifest-validator';
import { FIXTURES, Output, tempDir, writeStage } from './support';

// Istio HTTPMatchRequest fields Flagger passes through to the VirtualService (pkg/apis/istio/v1beta1
// virtual_service.go HTTPMatchRequest; pkg/router/istio.go SetRoutes and mergeMatchConditions): name,
// ignoreUriCase, withoutHeaders, sourceNamespace and gateways, in service.match and analysis.match.

const DIR = 'test/abtest';
let stateDir: string;
const dirs: string[] = [];
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The ab-istio fixture with `from` replaced by `to` (and the provider line set), in a fresh folder. */
function variant(from: string, to: string, provider?: string): string {
  const dir = tempDir('canarykit-istio-match-');
  dirs.push(dir);
  let text = fs.readFileSync(path.join(FIXTURES, 'ab-istio', 'abtest.yaml'), 'utf8');
  expect(text).toContain(from);
  text = text.replace(from, to);
  if (provider) text = text.replace('  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: abtest\n', `  provider: ${provider}\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: abtest\n`);
  fs.writeFileSync(path.join(dir, 'abtest.yaml'), text);
  return dir;
}

const ANALYSIS_MATCH = `    match:
      - headers:
          x-canary:
            regex: ".*insider.*"
      - headers:
          cookie:
            regex: "^(.*?;)?(canary=always)(;.*)?$"
`;

const SERVICE_MATCH = `    match:
      - name: api
        uri:
          prefix: /API
        ignoreUriCase: true
        withoutHeaders:
          x-bot:
            exact: "yes"
        sourceNamespace: frontend
        gateways: [istio-system/public-gateway]
`;
const HOSTS = '    hosts:\n      - abtest.example.com\n';

describe('compile: Istio match fields passed through (virtual_service.go HTTPMatchRequest)', () => {
  it('service.match with name, ignoreUriCase, withoutHeaders, sourceNamespace and gateways reaches every route; A/B headers merge into it (mergeMatchConditions); valid against Istio\'s CRD', () => {
    const dir = variant(HOSTS, HOSTS + SERVICE_MATCH);
    const compile = (): Output => new Output(compileFiles([dir], { stateDir }));
    writeStage(stateDir, compile().plan(DIR), { phase: 'Progressing', canaryWeight: 100 });
    const vs = compile().obj(DIR, 'virtualservice-abtest');
    const service = { name: 'api', uri: { prefix: '/API' }, ignoreUriCase: true, withoutHeaders: { 'x-bot': { exact: 'yes' } }, sourceNamespace: 'frontend', gateways: ['istio-system/public-gateway'] };
    expect(vs.spec.http[0].match).toEqual([
      { ...service, headers: { 'x-canary': { regex: '.*insider.*' } } },
      { ...service, headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } },
    ]);
    expect(vs.spec.http[0].route.map((r: any) => [r.destination.host, r.weight])).toEqual([['abtest-primary', 0], ['abtest-canary', 100]]);
    expect(vs.spec.http[1].match).toEqual([service]);
    expect(manifestProblems(vs)).toEqual([]);
  });

  it('service.match headers survive an A/B match without headers (mergeMatchConditions replaces headers only when the A/B match has them)', () => {
    const dir = variant(ANALYSIS_MATCH, '    match:\n      - sourceLabels:\n          app: frontend\n', undefined);
    fs.writeFileSync(path.join(dir, 'abtest.yaml'), fs.readFileSync(path.join(dir, 'abtest.yaml'), 'utf8').replace(HOSTS, HOSTS + '    match:\n      - headers:\n          x-tenant:\n            exact: a\n'));
    const vs = new Output(compileFiles([dir], { stateDir })).obj(DIR, 'virtualservice-abtest');
    expect(vs.spec.http[0].match).toEqual([{ headers: { 'x-tenant': { exact: 'a' } }, sourceLabels: { app: 'frontend' } }]);
  });

  it('ignoreUriCase: false and an empty name are left out, as Go omitempty does', () => {
    const dir = variant(HOSTS, HOSTS + '    match:\n      - name: ""\n        ignoreUriCase: false\n        uri:\n          prefix: /\n');
    const vs = new Output(compileFiles([dir], { stateDir })).obj(DIR, 'virtualservice-abtest');
    expect(vs.spec.http[1].match).toEqual([{ uri: { prefix: '/' } }]);
  });

  it.each([
    ['an A/B header suffix', ANALYSIS_MATCH, '    match:\n      - headers:\n          x-canary:\n            suffix: insider\n', 'spec.analysis.match[0].headers.x-canary.suffix'],
  ])('%s is refused: Istio\'s CRD has no suffix, and the pruned match would select every request', (_label, from, to, where) => {
    const dir = variant(from, to);
    let message = '';
    try {
      compileFiles([dir], { stateDir });
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      message = (e as Error).message;
    }
    expect(message).toContain(where);
    expect(message).toContain('would select every request');
  });

  it('Gateway API refuses the Istio-only fields instead of dropping them', () => {
    const dir = variant(HOSTS, '    gatewayRefs:\n      - name: public\n    match:\n      - sourceNamespace: frontend\n        uri:\n          prefix: /\n', 'gatewayapi:v1');
    fs.writeFileSync(path.join(dir, 'abtest.yaml'), fs.readFileSync(path.join(dir, 'abtest.yaml'), 'utf8').replace('    gateways:\n      - istio-system/public-gateway\n', ''));
    let message = '';
    try {
      compileFiles([dir], { stateDir });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('spec.service.match[0]');
    expect(message).toContain('Gateway API cannot match on sourceNamespace');
  });
});
