import { ProviderName } from '../../stages/plan';
import { renderQuery, TemplateVars } from './template';

/** Metric names Flagger answers itself, from the provider's observer, instead of a MetricTemplate. */
export type BuiltinMetricName = 'request-success-rate' | 'request-duration';

/** The reserved built-in metric names. */
export const BUILTIN_METRICS: readonly BuiltinMetricName[] = ['request-success-rate', 'request-duration'];

/** True when `name` is one of Flagger's reserved built-in metric names. */
export function isBuiltinMetric(name: string): name is BuiltinMetricName {
  return (BUILTIN_METRICS as readonly string[]).includes(name);
}

/** A built-in metric's rendered PromQL and the unit its value is in. */
export interface BuiltinQuery {
  query: string;
  /** Success rate is a percentage (0-100); duration is milliseconds, compared truncated. */
  unit: 'percent' | 'milliseconds';
}

type Observer = 'istio' | 'nginx' | 'http';

// Flagger's observer per provider: the Kubernetes and Gateway API providers have no mesh telemetry
// and use the generic HTTP observer (src: pkg/metrics/observers/factory.go).
const OBSERVER: Record<ProviderName, Observer> = {
  istio: 'istio',
  nginx: 'nginx',
  kubernetes: 'http',
  gatewayapi: 'http',
};

// Query text as in Flagger's observers (reference §5), laid out for reading; the Prometheus
// client collapses whitespace before sending.
const QUERIES: Record<Observer, Record<BuiltinMetricName, string>> = {
  istio: {
    'request-success-rate': `
      sum(
        rate(
          istio_requests_total{
            reporter="destination",
            destination_workload_namespace="{{ namespace }}",
            destination_workload=~"{{ target }}",
            response_code!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          istio_requests_total{
            reporter="destination",
            destination_workload_namespace="{{ namespace }}",
            destination_workload=~"{{ target }}"
          }[{{ interval }}]
        )
      )
      * 100`,
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            istio_request_duration_milliseconds_bucket{
              reporter="destination",
              destination_workload_namespace="{{ namespace }}",
              destination_workload=~"{{ target }}"
            }[{{ interval }}]
          )
        ) by (le)
      )`,
  },
  nginx: {
    'request-success-rate': `
      sum(
        rate(
          nginx_ingress_controller_requests{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!="",
            status!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          nginx_ingress_controller_requests{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!=""
          }[{{ interval }}]
        )
      )
      * 100`,
    'request-duration': `
      sum(
        rate(
          nginx_ingress_controller_response_duration_seconds_sum{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!=""
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          nginx_ingress_controller_response_duration_seconds_count{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!=""
          }[{{ interval }}]
        )
      )
      * 1000`,
  },
  http: {
    'request-success-rate': `
      sum(
        rate(
          http_request_duration_seconds_count{
            kubernetes_namespace="{{ namespace }}",
            kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",
            status!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          http_request_duration_seconds_count{
            kubernetes_namespace="{{ namespace }}",
            kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
          }[{{ interval }}]
        )
      )
      * 100`,
    // Flagger multiplies this p99 (seconds) by 1000 in Go after the query; the plan only carries
    // PromQL, so the multiplication moves into the query. Same float product, same truncation.
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            http_request_duration_seconds_bucket{
              kubernetes_namespace="{{ namespace }}",
              kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
            }[{{ interval }}]
          )
        ) by (le)
      )
      * 1000`,
  },
};

const UNITS: Record<BuiltinMetricName, BuiltinQuery['unit']> = {
  'request-success-rate': 'percent',
  'request-duration': 'milliseconds',
};

/**
 * Flagger's PromQL for a built-in metric under a traffic provider, rendered with `vars`
 * (`target` and `interval` select the canary workload and the rate window; nginx uses `ingress`).
 */
export function builtinQuery(metric: BuiltinMetricName, provider: ProviderName, vars: TemplateVars): BuiltinQuery {
  const observer = OBSERVER[provider];
  return {
    query: renderQuery(QUERIES[observer][metric], vars, `built-in ${metric} (${observer})`),
    unit: UNITS[metric],
  };
}
