import { MetricProviderSpec } from './spec';
import { unreadFields } from './unread-fields';

/**
 * pkg/metrics/providers/keptn.go NewKeptnProvider: it needs only Flagger's own kubeconfig and never
 * reads the template's address, headers, region, TLS setting or Secret. The driver reaches the
 * cluster through src/adapters/metrics/kube-api.ts.
 */
export const KEPTN_SPEC: MetricProviderSpec<'keptn'> = {
  type: 'keptn',
  secretKeys: [],
  validate(provider) {
    return unreadFields(
      provider,
      ['address', 'headers', 'region', 'secretRef', 'insecureSkipVerify'],
      "Flagger's keptn provider asks its own cluster with the controller's credentials; the driver uses CANARYKIT_KUBE_* or its pod's service account",
    );
  },
};
