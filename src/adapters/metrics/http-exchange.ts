import type { Agent } from 'undici';
import { CappedBody, readBody } from '../../http-body';

/**
 * The one HTTP exchange of the metrics clients (issue 9, "one owner per rule"): fetch with one
 * timeout for the whole exchange (AbortSignal.timeout, which also bounds a body that trickles in),
 * the body read through readBody (capped), undici's certificate-blind Agent when the template sets
 * insecureSkipVerify, and one mapping of "no answer" to `timeout` or `unreachable`.
 *
 * What the answer means (its status, its body) and how a failure is worded stay with each module:
 * they catch TransportFailure and build their own MetricsError.
 */

/** One HTTP answer, its body read up to the cap. */
export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: CappedBody;
}

/**
 * A request that got no answer (or whose body could not be read to the end). `message` is the
 * detail every client shows (`no answer within 5000 ms`, `request failed: <cause>`); `reason` is the
 * transport's own text (empty for a timeout).
 */
export class TransportFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'unreachable',
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'TransportFailure';
  }
}

export interface ExchangeOptions {
  /** Whole-exchange timeout in milliseconds (headers and body). */
  readonly timeoutMs: number;
  /** Accept any server certificate (the template's insecureSkipVerify). Ignored when `dispatcher` is given. */
  readonly insecureSkipVerify?: boolean;
  /** A dispatcher of the caller's own (a cluster CA), instead of the default or insecure one. */
  readonly dispatcher?: Agent;
  /** Body cap in bytes (default LIMITS.responseBytes). */
  readonly maxBytes?: number;
}

let insecureAgent: Agent | undefined;

/**
 * undici's Agent that accepts any certificate: required only here, the first time a template asks
 * for it (undici costs ~45 ms of a tick's start, and most ticks never need it), then shared.
 */
export function insecureDispatcher(): Agent {
  insecureAgent ??= new (require('undici') as typeof import('undici')).Agent({ connect: { rejectUnauthorized: false } });
  return insecureAgent;
}

/** The dispatcher for a template's insecureSkipVerify: the shared insecure Agent, or none (fetch's default). */
export function dispatcherFor(insecureSkipVerify: boolean | undefined): Agent | undefined {
  return insecureSkipVerify ? insecureDispatcher() : undefined;
}

/**
 * fetch `url` with `init` (its signal and dispatcher are set here). @throws TransportFailure when
 * no answer came within the timeout or the request failed; any HTTP status is an answer.
 */
export async function exchange(url: string | URL, init: RequestInit, o: ExchangeOptions): Promise<HttpAnswer> {
  try {
    const options: RequestInit & { dispatcher?: Agent } = {
      ...init,
      signal: AbortSignal.timeout(o.timeoutMs),
      dispatcher: o.dispatcher ?? dispatcherFor(o.insecureSkipVerify),
    };
    const response = await fetch(url, options as RequestInit);
    const body = await readBody(response, o.maxBytes);
    return { status: response.status, statusText: response.statusText, headers: response.headers, body };
  } catch (err) {
    throw transportFailure(err, o.timeoutMs);
  }
}

/** What a failed fetch means: `timeout` when the signal fired, else `unreachable` with the transport's cause. */
export function transportFailure(err: unknown, timeoutMs: number): TransportFailure {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new TransportFailure('timeout', `no answer within ${timeoutMs} ms`, '');
  const cause = e.cause?.message ?? e.cause?.code ?? e.message ?? String(err);
  return new TransportFailure('unreachable', `request failed: ${cause}`, cause);
}
