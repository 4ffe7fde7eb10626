/** Istio StringMatch: exactly one of exact, prefix, regex. */
export interface StringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
}

/**
 * An HTTP request match in Istio's HTTPMatchRequest shape, the shape Flagger uses for
 * `service.match` and `analysis.match` (Gateway API and NGINX routers map it to their own form).
 */
export interface HttpMatch {
  /** @default - any URI */
  readonly uri?: StringMatch;
  /** @default - any method */
  readonly method?: StringMatch;
  /** Header name -> match; a `cookie` header selects by cookie on NGINX. @default - none */
  readonly headers?: Record<string, StringMatch>;
  /** @default - none */
  readonly queryParams?: Record<string, StringMatch>;
  /** Istio only: match callers by their pod labels. @default - none */
  readonly sourceLabels?: Record<string, string>;
  /** Istio only: match on the port. @default - any */
  readonly port?: number;
  /** @default - none */
  readonly scheme?: StringMatch;
  /** @default - none */
  readonly authority?: StringMatch;
}
