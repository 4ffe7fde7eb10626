/**
 * Redirects as Go's net/http Client follows them, for the clients Flagger builds on it (webhook.go
 * callWebhook through retryablehttp, notifier postMessage): at most 10 redirects, 301/302/303
 * turn a POST into a GET without body, 307/308 repeat the method and body, a 3xx without
 * Location (or 300/304) is the answer, and Authorization/Cookie are not sent to another host. Unlike
 * Go, the Referer (the previous URL, which may hold a webhook's secret) is not sent to another host.
 */

/** Go's defaultCheckRedirect limit. */
export const MAX_REDIRECTS = 10;

export interface HopRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** One response without following; `location` is the Location header when present. */
export interface HopAnswer {
  status: number;
  statusText: string;
  body: string;
  location?: string;
}

/** Sends one request and never follows a redirect. */
export type SendOnce = (url: URL, request: HopRequest, signal: AbortSignal) => Promise<HopAnswer>;

/** Headers Go drops when a redirect leaves the original host (net/http shouldCopyHeaderOnRedirect). */
const SENSITIVE = ['authorization', 'www-authenticate', 'cookie', 'cookie2'];

/** Sends `request` to `url`, following redirects the way Go's http.Client does. */
export async function sendFollowingRedirects(send: SendOnce, url: URL, request: HopRequest, signal: AbortSignal): Promise<HopAnswer> {
  let current = url;
  let req = request;
  // The original headers; a sensitive one removed on a hop to another host stays removed (Go's headers copier).
  const kept = { ...request.headers };
  for (let redirects = 0; ; redirects++) {
    const answer = await send(current, req, signal);
    const next = redirectOf(answer, req);
    if (!next) return answer;
    if (redirects >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
    const target = new URL(answer.location as string, current);
    if (!sameOrSubdomain(target.hostname, current.hostname)) {
      for (const name of Object.keys(kept)) if (SENSITIVE.includes(name.toLowerCase())) delete kept[name];
    }
    const headers = { ...kept };
    // Go adds the previous URL as Referer (unless https -> http). canarykit sends it only within the
    // same host: a Slack or Teams webhook URL is itself the secret, and must not reach another host.
    const sameHost = sameOrSubdomain(target.hostname, current.hostname);
    if (sameHost && !(current.protocol === 'https:' && target.protocol === 'http:')) headers.Referer = refererOf(current);
    if (next.body === undefined) {
      delete headers['Content-Length'];
    }
    req = { method: next.method, headers, ...(next.body === undefined ? {} : { body: next.body }) };
    current = target;
  }
}

/** net/http redirectBehavior: the next request, or undefined when the answer is final. */
function redirectOf(answer: HopAnswer, req: HopRequest): { method: string; body?: string } | undefined {
  if (!answer.location) return undefined;
  switch (answer.status) {
    case 301:
    case 302:
    case 303:
      return req.method === 'GET' || req.method === 'HEAD' ? { method: req.method } : { method: 'GET' };
    case 307:
    case 308:
      return { method: req.method, ...(req.body === undefined ? {} : { body: req.body }) };
    default:
      return undefined;
  }
}

function sameOrSubdomain(host: string, origin: string): boolean {
  return host === origin || host.endsWith(`.${origin}`);
}

function refererOf(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  u.hash = '';
  return u.href;
}
