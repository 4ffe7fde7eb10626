import { MetricProviderSpec } from './spec';

/**
 * pkg/metrics/providers/cloudwatch.go NewCloudWatchProvider: a region is required ("region not
 * specified"). CloudWatch reads no Secret: the AWS SDK's credential chain (in canarykit, the
 * driver's AWS_* environment) signs the requests, and `address` is not used.
 */
export const CLOUDWATCH_SPEC: MetricProviderSpec<'cloudwatch'> = {
  type: 'cloudwatch',
  secretKeys: [],
  validate(provider) {
    if (!provider.region || provider.region.trim() === '') {
      return [{ field: 'region', message: 'is required for type cloudwatch (Flagger: "region not specified"); set it to the AWS region of your metrics, e.g. us-east-1' }];
    }
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(provider.region)) {
      return [{ field: 'region', message: `must be an AWS region name like us-east-1 or ap-northeast-1 (got ${JSON.stringify(provider.region)})` }];
    }
    return [];
  },
};
