import { posix } from 'node:path';
import type { ProxyAgent } from 'undici';
import { readBody } from '../http-body';
import { excerpt, redact } from '../redact';
import { Decision } from './machine-action';
import { AlertSeverity, AnalysisPlan, PlannedAlert, WebhookType } from './plan';
import { FLAGGER_MESSAGES, Reason, Severity, StageEvent } from './reasons';
import { SendOnce, sendFollowingRedirects } from './redirects';
import { failureThreshold } from './tick';

/**
 * Alerts (Flagger's AlertProviders, reference §1.4 and §6): which events go to which alert, the
 * chat payload of each provider type, and the POST. Everything but `sendAlerts` is pure.
 */

/** Flagger's notifier HTTP timeout (notifier/client.go postMessage: context.WithTimeout 5s). */
export const ALERT_TIMEOUT_MS = 5_000;

/**
 * What Flagger does with each reason: `fields` = alert with the canary's fields attached, `plain` =
 * alert with the message only, `false` = Kubernetes event only, never an alert (weight steps,
 * failed checks, readiness waits...). Exhaustive, so a new reason has to be classified here.
 */
export const ALERT_KIND = {
  Initializing: false,
  Initialized: 'fields',
  NewRevision: 'fields',
  Restarted: false,
  WaitingForApproval: 'plain',
  ReadinessWait: false,
  // scheduler.go records GetRoutes errors as events only.
  RouteNotReady: false,
  MirrorStarted: false,
  WeightIncreased: false,
  IterationAdvanced: false,
  TrafficSwitched: false,
  MetricCheckFailed: false,
  NoMetricData: false,
  MetricError: false,
  WebhookFailed: false,
  ThresholdReached: 'plain',
  RollbackRequested: 'plain',
  // scheduler.go sends "Progress deadline exceeded" only on paths a not-ready canary never reaches
  // (IsCanaryReady returns before them), so a deadline rollback sends no alert of its own.
  ProgressDeadlineExceeded: false,
  RolledBack: false,
  Promoted: false,
  PromotionTrafficShifted: false,
  Finalised: false,
  Succeeded: 'plain',
  AnalysisSkipped: 'plain',
  PromotionFailed: 'plain',
  ObservationMissing: false,
} as const satisfies Record<Reason, 'fields' | 'plain' | false>;

/** What the decision knew beyond its events. */
export interface AlertContext {
  /** The confirm-* webhook whose closed gate produced a WaitingForApproval event (for muteAlert). */
  webhook?: string;
}

/** The context `alertsFor` needs from a decision. */
export function alertContext(decision: Decision): AlertContext {
  return { webhook: decision.action.type === 'wait' ? decision.action.webhook : undefined };
}

/** Flagger's routing: `info` receives everything, `warn` warn and error, `error` only errors. */
export function receives(alert: AlertSeverity, event: Severity): boolean {
  switch (alert) {
    case 'info':
      return true;
    case 'warn':
      return event === 'warn' || event === 'error';
    case 'error':
      return event === 'error';
    default:
      return false;
  }
}

export interface AlertDelivery {
  alert: PlannedAlert;
  event: StageEvent;
}

/** The (alert, event) pairs to send, event by event in order, each to the alerts in plan order. */
export function alertsFor(plan: AnalysisPlan, events: readonly StageEvent[], context: AlertContext = {}): AlertDelivery[] {
  const alerts = plan.alerts ?? [];
  const out: AlertDelivery[] = [];
  for (const event of events) {
    if (!isAlerted(plan, event, context)) continue;
    for (const alert of alerts) if (receives(alert.severity, event.severity)) out.push({ alert, event });
  }
  return out;
}

function isAlerted(plan: AnalysisPlan, event: StageEvent, context: AlertContext): boolean {
  if (!ALERT_KIND[event.reason]) return false;
  if (event.reason === 'WaitingForApproval') return !muted(plan, event, context);
  return true;
}

const GATE_OF_MESSAGE: Record<string, WebhookType> = {
  [FLAGGER_MESSAGES.waitingRollout]: 'confirm-rollout',
  [FLAGGER_MESSAGES.waitingPromotion]: 'confirm-promotion',
  [FLAGGER_MESSAGES.waitingTrafficIncrease]: 'confirm-traffic-increase',
};

/** `muteAlert` on the closed gate's webhook (or, not knowing which one, on every hook of the gate). */
function muted(plan: AnalysisPlan, event: StageEvent, context: AlertContext): boolean {
  const hooks = context.webhook
    ? plan.webhooks.filter((h) => h.name === context.webhook)
    : plan.webhooks.filter((h) => h.type === GATE_OF_MESSAGE[event.message]);
  return hooks.length > 0 && hooks.every((h) => h.muteAlert === true);
}

// ---------------------------------------------------------------------------------------------
// Payloads (pure)

export interface AlertField {
  name: string;
  value: string;
}

/** One notification, whatever the chat service. */
export interface AlertMessage {
  /** The canary's name and namespace: Flagger titles alerts `<name>.<namespace>`. */
  name: string;
  namespace: string;
  message: string;
  fields: AlertField[];
  severity: Severity;
}

/** Flagger's alert metadata: target, threshold, deadline and traffic routing. */
export function canaryFields(plan: AnalysisPlan): AlertField[] {
  const fields: AlertField[] = [
    { name: 'Target', value: `Deployment/${plan.targetName}.${plan.namespace}` },
    { name: 'Failed checks threshold', value: String(failureThreshold(plan)) },
    { name: 'Progress deadline', value: `${plan.progressDeadlineSeconds}s` },
  ];
  const routing = trafficRouting(plan);
  if (routing) fields.push({ name: 'Traffic routing', value: routing });
  return fields;
}

/**
 * events.go alertMetadata: by deployment strategy; the canary strategy prints its step settings
 * and the spec's maxWeight (0 when unset), nothing when neither stepWeight nor stepWeights is set.
 */
export function trafficRouting(plan: AnalysisPlan): string | undefined {
  const a = plan.analysis;
  switch (plan.strategy) {
    case 'ab-testing':
      return 'A/B Testing';
    case 'blue-green':
      return 'Blue/Green';
    case 'canary': {
      const max = a.maxWeightUnset ? 0 : a.maxWeight;
      if (a.stepWeight > 0) return `Weight step: ${a.stepWeight} max: ${max}`;
      if (a.stepWeights.length > 0) return `Weight steps: ${a.stepWeights.join(',')} max: ${max}`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The notification for one event (fields only where Flagger attaches them). */
export function alertMessage(plan: AnalysisPlan, event: StageEvent): AlertMessage {
  return {
    name: plan.name,
    namespace: plan.namespace,
    message: event.message,
    fields: ALERT_KIND[event.reason] === 'fields' ? canaryFields(plan) : [],
    severity: event.severity,
  };
}

function title(m: AlertMessage): string {
  return `${m.name}.${m.namespace}`;
}

/** notifier/slack.go SlackPayload: `icon_url` is always sent (empty), `text` omitted when empty. */
export interface SlackPayload {
  channel: string;
  username: string;
  icon_url: string;
  icon_emoji: string;
  attachments: {
    color: string;
    author_name: string;
    text: string;
    mrkdwn_in: string[];
    fields: { title: string; value: string; short: boolean }[];
  }[];
}

/** Slack (and Discord's Slack-compatible endpoint): green, or red for errors. */
export function slackPayload(channel: string, username: string, m: AlertMessage): SlackPayload {
  return slackShaped(channel, username, m, m.severity === 'error' ? 'danger' : 'good');
}

/** Rocket.Chat: Slack's shape with Flagger's hex colours (blue, or red for errors). */
export function rocketPayload(channel: string, username: string, m: AlertMessage): SlackPayload {
  return slackShaped(channel, username, m, m.severity === 'error' ? '#FF0000' : '#0076D7');
}

function slackShaped(channel: string, username: string, m: AlertMessage, color: string): SlackPayload {
  return {
    channel,
    username,
    icon_url: '',
    icon_emoji: ':rocket:',
    attachments: [
      {
        color,
        author_name: title(m),
        text: m.message,
        mrkdwn_in: ['text'],
        fields: m.fields.map((f) => ({ title: f.name, value: f.value, short: false })),
      },
    ],
  };
}

export interface MSTeamsPayload {
  '@type': 'MessageCard';
  '@context': 'http://schema.org/extensions';
  themeColor: string;
  summary: string;
  sections: { activityTitle: string; activitySubtitle: string; facts: AlertField[] }[];
}

/** MS Teams MessageCard; Flagger turns the card red (FF0000) for errors. */
export function msteamsPayload(m: AlertMessage): MSTeamsPayload {
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: m.severity === 'error' ? 'FF0000' : '0076D7',
    summary: title(m),
    sections: [{ activityTitle: m.message, activitySubtitle: title(m), facts: m.fields.map((f) => ({ name: f.name, value: f.value })) }],
  };
}

export interface GChatPayload {
  cards: {
    header: { title: string; subtitle: string; imageUrl: string };
    sections: { widgets: { textParagraph: { text: string } }[] }[];
  }[];
}

/** Google Chat card: Flagger's header, then the message and one section per field. */
export function gchatPayload(m: AlertMessage): GChatPayload {
  const strong = (text: string): string => `<font color=#848484><strong>${text}</strong></font>`;
  const section = (text: string): GChatPayload['cards'][number]['sections'][number] => ({ widgets: [{ textParagraph: { text } }] });
  return {
    cards: [
      {
        header: { title: 'Flagger', subtitle: title(m), imageUrl: 'https://flagger.app/favicon.png' },
        sections: [section(strong(m.message)), ...m.fields.map((f) => section(`${f.name}<br>${strong(f.value)}`))],
      },
    ],
  };
}

/** The JSON body for the alert's provider type. */
export function alertPayload(alert: PlannedAlert, m: AlertMessage): SlackPayload | MSTeamsPayload | GChatPayload {
  const { type, channel, username } = alert.provider;
  switch (type) {
    case 'slack':
    case 'discord':
      return slackPayload(channel, username, m);
    case 'rocket':
      return rocketPayload(channel, username, m);
    case 'msteams':
      return msteamsPayload(m);
    case 'gchat':
      return gchatPayload(m);
    default:
      throw new Error(`unsupported alert provider type ${JSON.stringify(type)}`);
  }
}

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
      const target = known ?? resolveAlertTarget(alert, env);
      targets.set(alert, target);
      if ('skip' in target) {
        if (!known) results.push({ alert: alert.name, ok: false, skipped: true, message: `${label}: not sent, ${target.skip}` });
        continue;
      }
      const outcome = await post(alert, alertMessage(plan, event), target, timeoutMs, proxies);
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
      // Loaded on use: undici costs ~45 ms of every tick's start (src/stages/prometheus.ts).
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
