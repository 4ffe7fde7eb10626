import { describe, expect, it } from 'vitest';
import { FLAGGER_SCHEMAS } from '../src/compile/flagger-schema.generated';
import { METRIC_PROVIDERS } from '../src/adapters/metrics/registry';
import { METRIC_PROVIDER_SPECS } from '../src/model/metric-providers';
import { credentialHint, readCredentials, secretEnvVar } from '../src/adapters/metrics/source';
import { METRIC_PROVIDER_TYPES, PlannedMetric } from '../src/model/plan';

// Issue 11: every MetricTemplate provider of Flagger v1.44.0 (pkg/metrics/providers/factory.go).

describe('the metrics provider registry', () => {
  it("lists Flagger's provider types in the order of the MetricTemplate CRD's enum", () => {
    const enumValues = FLAGGER_SCHEMAS.MetricTemplate.properties.spec.properties.provider.properties.type.enum as string[];
    expect([...METRIC_PROVIDER_TYPES]).toEqual(enumValues);
  });

  it('keys each spec and client module under its own type, a client for every spec', () => {
    for (const [key, module] of Object.entries(METRIC_PROVIDERS)) expect(module.spec.type).toBe(key);
    for (const [key, spec] of Object.entries(METRIC_PROVIDER_SPECS)) expect(spec.type).toBe(key);
    expect(Object.keys(METRIC_PROVIDERS)).toEqual(Object.keys(METRIC_PROVIDER_SPECS));
  });
});

describe("a provider Secret's keys come from the environment", () => {
  const metric = (secretRef?: string): Pick<PlannedMetric, 'provider' | 'templateRef'> => ({
    provider: { type: 'datadog', secretRef },
    templateRef: { name: 'errors', namespace: 'istio-system' },
  });

  it('names one variable per namespace, Secret and key, upper-cased with _ for other characters', () => {
    expect(secretEnvVar('istio-system', 'dd.keys', 'datadog_api_key')).toBe('CANARYKIT_SECRET_ISTIO_SYSTEM_DD_KEYS_DATADOG_API_KEY');
  });

  it('reads only the listed keys that are set and not empty', () => {
    const env = {
      CANARYKIT_SECRET_ISTIO_SYSTEM_DD_DATADOG_API_KEY: 'k1',
      CANARYKIT_SECRET_ISTIO_SYSTEM_DD_DATADOG_APPLICATION_KEY: '',
      CANARYKIT_SECRET_ISTIO_SYSTEM_DD_OTHER: 'x',
    };
    expect(readCredentials(metric('dd'), ['datadog_api_key', 'datadog_application_key'], env)).toEqual({ datadog_api_key: 'k1' });
  });

  it('reads nothing without a secretRef, as Flagger passes no credentials then', () => {
    expect(readCredentials(metric(), ['datadog_api_key'], { CANARYKIT_SECRET_ISTIO_SYSTEM__DATADOG_API_KEY: 'k' })).toEqual({});
  });

  it('tells which variable to set for a missing key', () => {
    expect(credentialHint(metric('dd'), 'datadog_api_key')).toBe('set CANARYKIT_SECRET_ISTIO_SYSTEM_DD_DATADOG_API_KEY to key datadog_api_key of Secret istio-system/dd');
    expect(credentialHint(metric(), 'datadog_api_key')).toMatch(/no secretRef/);
  });
});
