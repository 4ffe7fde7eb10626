/** Header changes of a route (Istio's `headers`, Flagger's `service.headers`). */
export interface HeaderOperations {
  /** Changes to request headers. */
  readonly request?: { add?: Record<string, string>; set?: Record<string, string>; remove?: string[] };
  /** Changes to response headers. */
  readonly response?: { add?: Record<string, string>; set?: Record<string, string>; remove?: string[] };
}
