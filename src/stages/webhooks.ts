import { request as httpsRequest } from 'node:https';
import { readBody, readIncoming } from '../http-body';
import { excerpt } from '../redact';
import { Phase } from './phase';
import { PlannedWebhook, WebhookType } from './plan';
import { SendOnce, sendFollowingRedirects } from './redirects';

/** A Kubernetes-style event forwarded to `event` hooks. */
export interface CanaryEvent {
  message: string;
  type: 'Normal' | 'Warning';
  /** When it happened, Unix milliseconds. */
  timestamp: number;
}

/** What a hook call is about; the hook itself contributes its metadata. */
export interface WebhookContext {
  name: string;
  namespace: string;
  phase: Phase;
  /** Hash of the tracked configs and last applied spec, as in Flagger. */
  checksum: string;
  /** Required for `event` hooks, ignored by the others. */
  event?: CanaryEvent;
}

/** The JSON body Flagger posts to a webhook (no `type` field; `metadata` omitted when empty). */
export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: Phase;
  checksum: string;
  metadata?: Record<string, string>;
}

/** Outcome of one hook call, after retries. */
export interface WebhookResult {
  /** The hook answered 200, 201 or 202. */
  ok: boolean;
  /** Last HTTP status, when the hook answered at all. */
  status?: number;
  /** One line for logs and commit bodies: the hook, the URL without credentials, what happened. */
  message: string;
  attempts: number;
}

/** A WebhookResult labelled with the hook's name. */
export interface HookResult extends WebhookResult {
  hook: string;
}

/** Knobs for tests and impatient callers; production uses Flagger's values. */
export interface WebhookOptions {
  /** Delay before the first retry, doubled for each further one. @default 1000 */
  backoffBaseMs?: number;
  /** Longest delay between attempts. @default 30000 */
  backoffCapMs?: number;
}

/** Body text kept in messages; loadtesters may return whole command outputs. */
const MAX_BODY_CHARS = 300;

/** Builds the JSON payload for `hook` (pure). Event hooks get the event fields in their metadata. */
export function buildWebhookPayload(hook: PlannedWebhook, ctx: WebhookContext): WebhookPayload {
  const metadata: Record<string, string> =
    hook.type === 'event' && ctx.event
      ? {
          ...hook.metadata,
          // The event's own keys win over the hook's metadata of the same name.
          eventMessage: ctx.event.message,
          eventType: ctx.event.type,
          timestamp: String(Math.trunc(ctx.event.timestamp)),
        }
      : { ...hook.metadata };
  const payload: WebhookPayload = { name: ctx.name, namespace: ctx.namespace, phase: ctx.phase, checksum: ctx.checksum };
  if (Object.keys(metadata).length > 0) payload.metadata = metadata;
  return payload;
}

/** Wait before retry number `retry` (0-based): base doubled per retry, capped. */
export function backoffDelayMs(retry: number, baseMs = 1000, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** retry);
}

/** Flagger's success rule: 200, 201 and 202 only. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status <= 202;
}

/** Statuses worth another attempt: overload and server errors, except "not implemented". */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/**
 * POSTs the payload to the hook, retrying connection errors, timeouts, 429 and 5xx up to
 * `hook.retries` extra times with exponential backoff. Never throws: failures are results.
 */
export async function callWebhook(
  hook: PlannedWebhook,
  ctx: WebhookContext,
  opts: WebhookOptions = {},
): Promise<WebhookResult> {
  const shown = redactUrl(hook.url);
  const label = `webhook ${hook.name}: POST ${shown}`;
  let target: Target;
  try {
    target = prepareTarget(hook.url);
  } catch (e) {
    return { ok: false, message: `${label}: ${(e as Error).message}`, attempts: 0 };
  }
  const body = JSON.stringify(buildWebhookPayload(hook, ctx));
  const post = poster(hook.disableTLS === true);
  const maxAttempts = 1 + Math.max(0, Math.trunc(hook.retries));
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(post, target, body, hook.timeoutSeconds);
    const done = !outcome.retryable || attempt >= maxAttempts;
    if (done) {
      const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
      return { ok: outcome.ok, status: outcome.status, message: `${label} ${outcome.text}${tries}`, attempts: attempt };
    }
    await sleep(backoffDelayMs(attempt - 1, opts.backoffBaseMs, opts.backoffCapMs));
  }
}

/**
 * Calls the hooks of `type` in spec order. Blocking types stop at the first failure; `rollback`
 * stops at the first success (a successful rollback hook is the signal); `event` hooks all run,
 * as their failures are only logged.
 */
export async function runHooks(
  hooks: readonly PlannedWebhook[],
  type: WebhookType,
  ctx: WebhookContext,
  opts: WebhookOptions = {},
): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const hook of hooks) {
    if (hook.type !== type) continue;
    const result = await callWebhook(hook, ctx, opts);
    results.push({ hook: hook.name, ...result });
    if (type === 'rollback' ? result.ok : type !== 'event' && !result.ok) break;
  }
  return results;
}

/** The URL with any password or token replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon >= 0 ? `${scheme}${userinfo.slice(0, colon)}:***@` : `${scheme}***@`;
  });
}

interface HttpAnswer {
  status: number;
  statusText: string;
  body: string;
}

type Post = (url: URL, body: string, headers: Record<string, string>, signal: AbortSignal) => Promise<HttpAnswer>;

/** Where a hook is posted; `secrets` are the credentials moved out of its URL, removed from any echo. */
interface Target {
  url: URL;
  headers: Record<string, string>;
  secrets: string[];
}

interface AttemptOutcome {
  ok: boolean;
  retryable: boolean;
  status?: number;
  /** Completes `POST <url>` into a sentence. */
  text: string;
}

/** Parses the URL and moves credentials into a Basic auth header (fetch refuses them in URLs). */
function prepareTarget(raw: string): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported scheme ${url.protocol}`);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const secrets: string[] = [];
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.Authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    secrets.push(user, decodeURIComponent(url.password) || decodeURIComponent(url.username));
    url.username = '';
    url.password = '';
  }
  return { url, headers, secrets };
}

async function attemptOnce(
  post: Post,
  target: Target,
  body: string,
  timeoutSeconds: number,
): Promise<AttemptOutcome> {
  const signal = AbortSignal.timeout(Math.max(1, Math.round(timeoutSeconds * 1000)));
  try {
    const answer = await post(target.url, body, target.headers, signal);
    const ok = isSuccessStatus(answer.status);
    const text = excerpt(answer.body, MAX_BODY_CHARS, target.secrets);
    return {
      ok,
      retryable: !ok && isRetryableStatus(answer.status),
      status: answer.status,
      text: `returned ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}${text ? `: ${text}` : ''}`,
    };
  } catch (e) {
    if (signal.aborted) return { ok: false, retryable: true, text: `timed out after ${timeoutSeconds}s` };
    const cause = ((e as { cause?: unknown }).cause ?? e) as { code?: string; message?: string };
    const code = cause.code ?? '';
    // Like Go's retryablehttp: a certificate problem will not fix itself by retrying.
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return { ok: false, retryable: false, text: `failed TLS verification (${code}); set disableTLS only for a trusted endpoint` };
    }
    return { ok: false, retryable: true, text: `failed: ${cause.message ?? String(e)}` };
  }
}

/**
 * retryablehttp uses Go's http.Client, which follows redirects (redirects.ts has its rules), also
 * for a disableTLS client; each hop is sent without following.
 */
function poster(insecure: boolean): Post {
  const send: SendOnce = (url, req, signal) => (insecure && url.protocol === 'https:' ? sendSkippingTlsVerification(url, req, signal) : sendWithFetch(url, req, signal));
  return async (url, body, headers, signal) => {
    const answer = await sendFollowingRedirects(send, url, { method: 'POST', headers, body }, signal);
    return { status: answer.status, statusText: answer.statusText, body: answer.body };
  };
}

const sendWithFetch: SendOnce = async (url, req, signal) => {
  const res = await fetch(url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal });
  return { status: res.status, statusText: res.statusText, body: (await readBody(res)).text, location: res.headers.get('location') ?? undefined };
};

/** Global fetch cannot skip certificate checks without undici's Agent, so use node:https directly. */
const sendSkippingTlsVerification: SendOnce = (url, req, signal) =>
  new Promise((resolve, reject) => {
    const r = httpsRequest(
      url,
      {
        method: req.method,
        headers: req.body === undefined ? req.headers : { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) },
        rejectUnauthorized: false,
        signal,
      },
      (res) => {
        readIncoming(res).then(
          (read) => {
            const location = res.headers.location;
            resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: read.text, ...(location ? { location } : {}) });
          },
          reject,
        );
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
