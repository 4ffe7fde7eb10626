import { MetricProviderSpec } from './spec';

/**
 * pkg/metrics/providers/stackdriver.go NewStackDriverProvider: the project id comes from key
 * `project` of the provider's Secret (refused when the Secret lacks it), the optional
 * `serviceAccountKey` is a service-account JSON key; without it Google's default credentials
 * (Workload Identity, GOOGLE_APPLICATION_CREDENTIALS) are used. `address` is not used.
 */
export const STACKDRIVER_SPEC: MetricProviderSpec<'stackdriver'> = {
  type: 'stackdriver',
  secretKeys: ['project', 'serviceAccountKey'],
  validate(provider) {
    // Without a secretRef Flagger queries project "" and every check fails; say so before that.
    if (!provider.secretRef) {
      return [{ field: 'secretRef', message: 'is required for type stackdriver: Flagger reads the project id from key "project" of that Secret (kubectl create secret generic gcloud-sa --from-literal=project=<project-id>)' }];
    }
    return [];
  },
};
