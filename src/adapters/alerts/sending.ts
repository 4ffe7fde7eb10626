import { posix } from 'node:path';
import type { ProxyAgent } from 'undici';
import { readBody } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { AnalysisPlan, PlannedAlert } from '../../model/plan';
import { Reason, StageEvent } from '../../model/reasons';
import { SendOnce, sendFollowingRedirects } from '../redirects';
import { AlertMessage, alertMessage, alertPayload } from './payloads';
import { AlertContext, alertsFor } from './routing';
import { DefaultNotifier } from '../../model/driver-settings';

/**
 * Sending alerts (Flagger's AlertProviders, reference §1.4 and §6): the address from the plan or
 * the environment, the POST through an optional proxy, results that never throw. Which events go
 * where is routing.ts; what is sent is payloads.ts.
 */

/** Flagger's notifier HTTP timeout (notifier/client.go postMessage: context.WithTimeout 5s). */
export const ALERT_TIMEOUT_MS = 5_000;

/** Where the payload goes: Discord takes Slack's format at `<webhook>/slack`. Throws on a bad URL. */
export function alertUrl(alert: PlannedAlert, address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error('the address is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the address has unsupported scheme ${url.protocol}`);
  if (alert.provider.type === 'discord' && !address.endsWith('/slack')) url.pathname = posix.join(url.pathname, 'slack');
  return url;
}

// ---------------------------------------------------------------------------------------------
// Addresses and tokens from the environment

/**
 * `CANARYKIT_ALERT_<PROVIDER>_ADDRESS` / `_TOKEN`: the environment variable holding what the
 * provider's `secretRef` Secret holds in the cluster (provider name upper-cased, every character
 * other than A-Z and 0-9 turned into `_`).
 */
export function alertEnvVar(providerName: string, key: 'ADDRESS' | 'TOKEN'): string {
  return `CANARYKIT_ALERT_${providerName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${key}`;
}

export type AlertTarget = { address: string; token?: string } | { skip: string };

/**
 * The provider's address (and token). Like Flagger: with `secretRef` the address must come from
 * the secret (here: the environment) and overrides `address`; no address at all sends nothing.
 */
export function resolveAlertTarget(alert: PlannedAlert, env: NodeJS.ProcessEnv): AlertTarget {
  const p = alert.provider;
  if (p.secretRef) {
    const name = alertEnvVar(p.name, 'ADDRESS');
    const address = env[name]?.trim();
    if (!address) return { skip: `no address: set ${name} to the address in Secret ${p.namespace}/${p.secretRef}` };
    const token = env[alertEnvVar(p.name, 'TOKEN')]?.trim();
    return token ? { address, token } : { address };
  }
  if (!p.address) return { skip: 'no address configured' };
  return { address: p.address };
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface SendAlertsOptions {
  context?: AlertContext;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default ALERT_TIMEOUT_MS */
  timeoutMs?: number;
  /** Flagger's -cluster-name: a "Cluster" field first in every alert. @default - none */
  clusterName?: string;
  /** The controller's notifier: its alert posts to this target (routing.ts withDefaultNotifier). @default - none */
  defaultNotifier?: DefaultNotifier;
}

export interface AlertResult {
  alert: string;
  /** The event's reason; absent for a skipped alert (reported once, whatever the events). */
  reason?: Reason;
  /** The chat service answered 2xx. */
  ok: boolean;
  /** Not sent because the provider has no address. */
  skipped: boolean;
  /** One line for logs: never the webhook path, a token or proxy credentials, only the host. */
  message: string;
}

/**
 * POSTs every alert of `alertsFor` in order, one at a time. Never throws: unreachable services,
 * non-2xx answers, timeouts and missing addresses are results.
 */
export async function sendAlerts(plan: AnalysisPlan, events: readonly StageEvent[], opts: SendAlertsOptions = {}): Promise<AlertResult[]> {
  const deliveries = alertsFor(plan, events, opts.context);
  if (deliveries.length === 0) return [];
  const env = opts.env ?? process.env;
  const timeoutMs = opts.timeoutMs ?? ALERT_TIMEOUT_MS;
  const results: AlertResult[] = [];
  const targets = new Map<PlannedAlert, AlertTarget>();
  const proxies = new Map<string, ProxyAgent>();
  try {
    for (const { alert, event } of deliveries) {
      const label = `alert ${alert.name} (${alert.provider.type} provider ${alert.provider.namespace}/${alert.provider.name})`;
      const known = targets.get(alert);
      const target = known ?? (alert === opts.defaultNotifier?.alert ? opts.defaultNotifier.target : resolveAlertTarget(alert, env));
      targets.set(alert, target);
      if ('skip' in target) {
        if (!known) results.push({ alert: alert.name, ok: false, skipped: true, message: `${label}: not sent, ${target.skip}` });
        continue;
      }
      const outcome = await post(alert, alertMessage(plan, event, opts.clusterName), target, timeoutMs, proxies);
      results.push({ alert: alert.name, reason: event.reason, ok: outcome.ok, skipped: false, message: `${label}: ${outcome.text}` });
    }
  } catch (e) {
    results.push({ alert: '', ok: false, skipped: false, message: `alerts: unexpected error ${(e as Error).message}` });
  } finally {
    await Promise.all([...proxies.values()].map((p) => p.close().catch(() => undefined)));
  }
  return results;
}

async function post(
  alert: PlannedAlert,
  m: AlertMessage,
  target: { address: string; token?: string },
  timeoutMs: number,
  proxies: Map<string, ProxyAgent>,
): Promise<{ ok: boolean; text: string }> {
  let url: URL;
  let body: string;
  let dispatcher: ProxyAgent | undefined;
  try {
    url = alertUrl(alert, target.address);
    body = JSON.stringify(alertPayload(alert, m));
    if (alert.provider.proxy) dispatcher = proxyFor(alert.provider.proxy, proxies);
  } catch (e) {
    return { ok: false, text: `not sent, ${(e as Error).message}` };
  }
  // Only the host is shown; what the service or the network stack says is scrubbed of secrets.
  const where = `POST to ${url.host}`;
  const secrets = [target.address, url.href, target.token, alert.provider.proxy].filter((s): s is string => !!s);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  // notifier/factory.go passes the token to the Slack notifier only; the others post without it.
  if (target.token && alert.provider.type === 'slack') headers.Authorization = `Bearer ${target.token}`;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Go's http.Client (postMessage) follows redirects with Go's rules (redirects.ts): each hop
    // goes out through the proxy and is sent without following.
    const send: SendOnce = async (hop, req, hopSignal) => {
      const init: RequestInit & { dispatcher?: ProxyAgent } = { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: hopSignal, dispatcher };
      const r = await fetch(hop, init as RequestInit);
      return { status: r.status, statusText: r.statusText, body: (await readBody(r)).text, location: r.headers.get('location') ?? undefined };
    };
    const res = await sendFollowingRedirects(send, url, { method: 'POST', headers, body }, signal);
    // Capped read; scrubbed whole, then shortened, so a secret cut by the limit cannot leak a prefix.
    const answer = excerpt(scrub(res.body, secrets), 200);
    const ok = res.status >= 200 && res.status < 300;
    return { ok, text: ok || !answer ? `${where} returned ${res.status}` : `${where} returned ${res.status}: ${answer}` };
  } catch (e) {
    if (signal.aborted) return { ok: false, text: `${where} timed out after ${timeoutMs / 1000}s` };
    const cause = ((e as { cause?: unknown }).cause ?? e) as { message?: string };
    return { ok: false, text: `${where} failed: ${scrub(cause.message ?? String(e), secrets)}` };
  }
}

function proxyFor(proxy: string, proxies: Map<string, ProxyAgent>): ProxyAgent {
  let agent = proxies.get(proxy);
  if (!agent) {
    try {
      // Loaded on use: undici costs ~45 ms of every tick's start (adapters/prometheus/client.ts).
      agent = new (require('undici') as typeof import('undici')).ProxyAgent(proxy);
    } catch {
      throw new Error('the proxy is not a valid URL');
    }
    proxies.set(proxy, agent);
  }
  return agent;
}

/** Removes addresses, tokens and proxy URLs (and their paths) from text bound for logs. */
function scrub(text: string, secrets: string[]): string {
  let out = redact(text, secrets);
  for (const s of secrets) {
    try {
      const u = new URL(s);
      if (u.pathname.length > 1) out = out.split(u.pathname).join('/***');
      if (u.password) out = out.split(u.password).join('***');
    } catch {
      // not a URL: a token, already removed
    }
  }
  return out;
}
