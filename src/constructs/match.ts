/** Istio StringMatch: exactly one of exact, prefix, regex. */
export interface StringMatch {
  /** Matches this value exactly. */
  readonly exact?: string;
  /** Matches values starting with this. */
  readonly prefix?: string;
  /** Matches values the RE2 regular expression matches. */
  readonly regex?: string;
}

/**
 * An HTTP request match in Istio's HTTPMatchRequest shape, the shape Flagger uses for
 * `service.match` and `analysis.match` (Gateway API and NGINX routers map it to their own form).
 */
export interface HttpMatch {
  /** Request path. @default - any URI */
  readonly uri?: StringMatch;
  /** HTTP method. @default - any method */
  readonly method?: StringMatch;
  /** Header name -> match; a `cookie` header selects by cookie on NGINX. @default - none */
  readonly headers?: Record<string, StringMatch>;
  /** Query parameter name -> match. @default - none */
  readonly queryParams?: Record<string, StringMatch>;
  /** Istio only: match callers by their pod labels. @default - none */
  readonly sourceLabels?: Record<string, string>;
  /** Istio only: match on the port. @default - any */
  readonly port?: number;
  /** URI scheme (`http`, `https`). @default - none */
  readonly scheme?: StringMatch;
  /** Host header (HTTP/2 `:authority`). @default - none */
  readonly authority?: StringMatch;
  /** Istio only: a name for the match, copied into access logs and stats. @default - none */
  readonly name?: string;
  /** Istio only: match `uri` case-insensitively. @default false */
  readonly ignoreUriCase?: boolean;
  /** Istio only: header name -> match the request must NOT have. @default - none */
  readonly withoutHeaders?: Record<string, StringMatch>;
  /** Istio only: match callers in this namespace. @default - any namespace */
  readonly sourceNamespace?: string;
  /** Istio only: gateways the match applies to (overrides the VirtualService's). @default - the VirtualService's gateways */
  readonly gateways?: string[];
}
