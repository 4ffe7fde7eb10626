import type { Observer } from './module';

/**
 * PromQL of Flagger's Envoy-based observers (pkg/metrics/observers/appmesh.go, contour.go, gloo.go,
 * knative.go, kuma.go): each reads the sidecar's or proxy's `envoy_cluster_upstream_rq` counters and
 * `envoy_cluster_upstream_rq_time` histogram, and they differ only in the labels that select the
 * canary's cluster. `trailingComma` reproduces the stray comma after the selector that most of
 * Flagger's query texts have (PromQL accepts it), so the text sent is Flagger's.
 */
export function envoyQueries(labels: readonly string[], trailingComma: boolean): Observer['queries'] {
  // One matcher a line, as Flagger lays the queries out (the plan keeps the text as written).
  const at = (indent: number): string => labels.join(`,\n${' '.repeat(indent)}`) + (trailingComma ? ',' : '');
  const selector = labels.join(',\n            ');
  return {
    'request-success-rate': `
      sum(
        rate(
          envoy_cluster_upstream_rq{
            ${selector},
            envoy_response_code!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          envoy_cluster_upstream_rq{
            ${at(12)}
          }[{{ interval }}]
        )
      )
      * 100`,
    'request-duration': `
      histogram_quantile(
        0.99,
        sum(
          rate(
            envoy_cluster_upstream_rq_time_bucket{
              ${at(14)}
            }[{{ interval }}]
          )
        ) by (le)
      )`,
  };
}
