import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors';
import { PROMETHEUS_ADDRESS_ENV, parseConfig, prometheusAddressOverride } from '../src/adapters/config';

describe('CANARYKIT_PROMETHEUS_ADDRESS (set by deploy/kubernetes)', () => {
  const withAddress = parseConfig('prometheus:\n  address: http://from-file:9090\n', 'canarykit.yaml');
  const without = parseConfig('outdir: dist\n', 'canarykit.yaml');
  it.each([
    ['environment wins over canarykit.yaml', withAddress, 'http://in-cluster:9090', 'http://in-cluster:9090'],
    ['canarykit.yaml when the variable is unset', withAddress, undefined, 'http://from-file:9090'],
    ['an empty variable counts as unset (undefined CI variables expand to "")', withAddress, '', 'http://from-file:9090'],
    ['no override at all: the plans keep their own addresses', without, undefined, undefined],
    ['the environment alone', without, 'https://prom.example.test', 'https://prom.example.test'],
  ])('%s', (_, config, value, expected) => {
    expect(prometheusAddressOverride(config, value === undefined ? {} : { [PROMETHEUS_ADDRESS_ENV]: value })).toBe(expected);
  });

  it('rejects a value that is not an http(s) URL, naming the variable', () => {
    expect(() => prometheusAddressOverride(without, { [PROMETHEUS_ADDRESS_ENV]: 'prometheus:9090' })).toThrow(ConfigError);
    expect(() => prometheusAddressOverride(without, { [PROMETHEUS_ADDRESS_ENV]: 'prometheus:9090' })).toThrow(/CANARYKIT_PROMETHEUS_ADDRESS must be an http or https URL \(got "prometheus:9090"\)/);
  });
});
