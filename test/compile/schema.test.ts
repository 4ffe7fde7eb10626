import * as fs from 'fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CRD, OUTPUT, generate } from '../../scripts/gen-flagger-schema';
import { FLAGGER_SCHEMAS } from '../../src/compile/flagger-schema.generated';
import { parseYaml } from '../../src/compile/load-yaml';
import { validateFlaggerResource } from '../../src/compile/schema';
import { parseGoDuration } from '../../src/compile/durations';

describe('the vendored Flagger schema', () => {
  if (!fs.existsSync(DEFAULT_CRD)) console.warn(`SKIPPED staleness of src/compile/flagger-schema.generated.ts: ${DEFAULT_CRD} not found`);
  it.skipIf(!fs.existsSync(DEFAULT_CRD))('is what scripts/gen-flagger-schema.ts generates from the CRD file', () => {
    expect(fs.readFileSync(OUTPUT, 'utf8')).toBe(generate(fs.readFileSync(DEFAULT_CRD, 'utf8'), 'flagger-v1.44.0-crd.yaml'));
  });

  it('closes structural objects but not constraint branches', () => {
    const spec = FLAGGER_SCHEMAS.Canary.properties.spec;
    expect(spec.additionalProperties).toBe(false);
    expect(spec.properties.service.additionalProperties).toBe(false);
    expect(spec.properties.service.properties.targetPort.anyOf).toEqual([{ type: 'integer' }, { type: 'string' }]);
    const lb = spec.properties.service.properties.trafficPolicy.properties.loadBalancer;
    expect(lb.additionalProperties).toBe(false);
    expect(lb.oneOf[1].additionalProperties).toBeUndefined();
    expect(JSON.stringify(FLAGGER_SCHEMAS)).not.toContain('"description"');
  });
});

describe('validateFlaggerResource', () => {
  const doc = (yaml: string) => parseYaml(yaml, 'mt.yaml').objects[0];

  it('accepts a MetricTemplate and an AlertProvider as Flagger documents them', () => {
    const mt = doc('apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: latency\nspec:\n  provider:\n    type: prometheus\n    address: http://prometheus:9090\n  query: sum(x)\n');
    expect(validateFlaggerResource(mt, 'MetricTemplate')).toEqual([]);
    const ap = doc('apiVersion: flagger.app/v1beta1\nkind: AlertProvider\nmetadata:\n  name: slack\nspec:\n  type: slack\n  secretRef:\n    name: slack-url\n');
    expect(validateFlaggerResource(ap, 'AlertProvider')).toEqual([]);
  });

  it('names field, expectation and line', () => {
    const mt = doc('apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: latency\nspec:\n  provider:\n    type: prom\n');
    expect(validateFlaggerResource(mt, 'MetricTemplate')).toEqual([
      { path: 'mt.yaml#1 MetricTemplate default/latency: spec', message: 'missing required field "query" (line 6)' },
      { path: 'mt.yaml#1 MetricTemplate default/latency: spec.provider.type', message: expect.stringMatching(/^must be one of "prometheus", "influxdb", .* \(line 7\)$/) },
    ]);
    const ap = doc('apiVersion: flagger.app/v1beta1\nkind: AlertProvider\nmetadata:\n  name: slack\nspec:\n  type: slack\n');
    expect(validateFlaggerResource(ap, 'AlertProvider')).toEqual([
      { path: 'mt.yaml#1 AlertProvider default/slack: spec', message: 'must set type and exactly one of address, secretRef (line 6)' },
    ]);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['30s', 30_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['500ms', 500],
    ['2h', 7_200_000],
  ])('%s', (text, ms) => {
    expect(parseGoDuration(text)?.toMilliseconds()).toBe(ms);
  });

  it.each(['10sec', '1 m', '', 'm', '5'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
