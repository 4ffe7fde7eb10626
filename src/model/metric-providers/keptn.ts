import { MetricProviderSpec } from './spec';

/**
 * pkg/metrics/providers/keptn.go NewKeptnProvider: it needs only Flagger's own kubeconfig and never
 * reads the template's address, headers, region, TLS setting or Secret. The driver reaches the
 * cluster through src/adapters/metrics/kube-api.ts.
 */
export const KEPTN_SPEC: MetricProviderSpec<'keptn'> = {
  type: 'keptn',
  secretKeys: [],
  // Fields keptn.go never reads are accepted and unused, as in Flagger: its YAML compiles unchanged.
  validate() {
    return [];
  },
};
