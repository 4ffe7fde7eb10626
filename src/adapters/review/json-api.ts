/**
 * The HTTP part both review hosts share (GitHub's REST API, GitLab's REST API): one JSON request
 * with a timeout, network failures as the host's "unavailable" error, the body parsed when it is
 * JSON. What a status means and who has to act stays with each host.
 */

/** One API answer. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

export interface JsonRequest {
  /** `GitHub API` / `GitLab API`, the start of every message. */
  readonly label: string;
  readonly api: string;
  readonly method: 'GET' | 'POST';
  readonly pathAndQuery: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
  readonly timeoutMs: number;
  /** Reads the response body as text (GitHub's is capped). */
  read(response: Response): Promise<string>;
  /** The host's retry-later error (exit code 1). */
  unavailable(message: string): Error;
  redact(text: string): string;
}

/** Sends the request; throws `unavailable` when there is no answer, otherwise returns it whatever its status. */
export async function requestJson(r: JsonRequest): Promise<ApiAnswer> {
  const headers = { ...r.headers, ...(r.body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${r.api}${r.pathAndQuery}`, {
      method: r.method,
      headers,
      body: r.body === undefined ? undefined : JSON.stringify(r.body),
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    text = await r.read(response);
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' || e.name === 'AbortError'
      ? `no answer within ${r.timeoutMs} ms`
      : (e.cause?.message ?? e.cause?.code ?? e.message ?? String(err));
    throw r.unavailable(r.redact(`${r.label} ${r.method} ${r.api}${pathOnly(r.pathAndQuery)} failed: ${why}; nothing was changed there, try again`));
  }
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json };
}

/** The path of a request without its query (queries may carry branch names, never shown twice). */
export function pathOnly(pathAndQuery: string): string {
  return pathAndQuery.split('?', 1)[0];
}

/** ` until <time>` from a rate-limit reset header in epoch seconds, or nothing. */
export function rateLimitUntil(resetHeader: string | null): string {
  const reset = Number(resetHeader);
  return Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
}
