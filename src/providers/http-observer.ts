import { Observer } from './module';

/**
 * Flagger's generic HTTP observer (src: pkg/metrics/observers/http.go), used by providers without
 * mesh telemetry (kubernetes, gatewayapi; src: pkg/metrics/observers/factory.go). Query text as
 * in Flagger, laid out for reading; the Prometheus client collapses whitespace before sending.
 */
export const HTTP_OBSERVER: Observer = {
  name: 'http',
  queries: {
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
