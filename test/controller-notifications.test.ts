import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendAlerts } from '../src/adapters/alerts/sending';
import { loadConfig } from '../src/adapters/config';
import { synthEnv } from '../src/adapters/synth';
import type { WebhookContext } from '../src/adapters/webhooks/call';
import { notifyAfterPush } from '../src/driver/driver';
import { Decision } from '../src/machine/action';
import { initialState } from '../src/machine/decide';
import { DRIVER_ENV, Notifications, driverSettings, notificationsFor } from '../src/model/driver-settings';
import { AnalysisPlan, PlannedAlert, PlannedWebhook } from '../src/model/plan';
import { FLAGGER_MESSAGES, stageEvent, thresholdMessage } from '../src/model/reasons';
import { hook, makePlan, T0 } from './support/plans';

// Flagger's controller-wide notifications (cmd/flagger/main.go initNotifier and fromEnv,
// pkg/controller/events.go alert and sendEventToWebhook): -cluster-name, the default Slack or
// MS Teams notifier for canaries without analysis.alerts, and -event-webhook for canaries without
// an event webhook. The URLs and the token come from Flagger's environment variables only.

interface Recorded {
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

const requests: Recorded[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if ((req.url ?? '').startsWith('/fail')) {
        // Echoes the credentials back, as some services do: they must not reach the log.
        res.writeHead(500).end(`bad token ${req.headers.authorization} at ${req.url}`);
        return;
      }
      requests.push({ path: req.url ?? '/', headers: req.headers, body: raw ? JSON.parse(raw) : undefined });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  requests.length = 0;
});

const newRevision = stageEvent('NewRevision', FLAGGER_MESSAGES.newRevision);
const threshold = stageEvent('ThresholdReached', thresholdMessage(5));

function decisionFor(plan: AnalysisPlan, events = [newRevision]): Decision {
  return { action: { type: 'start', revision: 'rev-2' }, state: { ...initialState(plan, T0), phase: 'Progressing' }, events };
}

/** notifyAfterPush with the real alert sender and a webhook caller that records its calls. */
async function notify(plan: AnalysisPlan, notifications: Notifications, events = [newRevision]): Promise<{ lines: string[]; hooks: { hook: PlannedWebhook; ctx: WebhookContext }[] }> {
  const lines: string[] = [];
  const hooks: { hook: PlannedWebhook; ctx: WebhookContext }[] = [];
  const callWebhook = async (h: PlannedWebhook, ctx: WebhookContext): Promise<{ ok: boolean; message: string; attempts: number }> => {
    hooks.push({ hook: h, ctx });
    return { ok: true, message: 'ok', attempts: 1 };
  };
  await notifyAfterPush(plan, decisionFor(plan, events), { now: () => T0, log: (l) => lines.push(l), callWebhook, sendAlerts, notifications });
  return { lines, hooks };
}

describe('notificationsFor (main.go initNotifier, fromEnv)', () => {
  it('nothing without Flagger\'s environment variables; empty values count as unset', () => {
    expect(notificationsFor(driverSettings(), {})).toEqual({ clusterName: '', defaultNotifier: undefined, eventWebhook: undefined });
    expect(notificationsFor(driverSettings(), { SLACK_URL: '', EVENT_WEBHOOK_URL: '' }).defaultNotifier).toBeUndefined();
  });

  it('Slack by default: SLACK_URL, SLACK_TOKEN, SLACK_PROXY_URL, -slack-user (default flagger) and -slack-channel', () => {
    const n = notificationsFor(driverSettings({ slackChannel: 'deploys' }), { SLACK_URL: 'https://hooks.slack.com/services/T/B/X', SLACK_TOKEN: 'xoxb-1', SLACK_PROXY_URL: 'http://proxy:3128' });
    expect(n.defaultNotifier).toEqual({
      alert: { name: 'default-notifier', severity: 'info', provider: { name: 'SLACK_URL', namespace: '', type: 'slack', channel: 'deploys', username: 'flagger', proxy: 'http://proxy:3128' } },
      target: { address: 'https://hooks.slack.com/services/T/B/X', token: 'xoxb-1' },
    });
  });

  it('MS Teams when MSTEAMS_URL is set, even with SLACK_URL, with MSTEAMS_PROXY_URL', () => {
    const n = notificationsFor(driverSettings(), { SLACK_URL: 'https://hooks.slack.com/x', MSTEAMS_URL: 'https://example.webhook.office.com/y', SLACK_PROXY_URL: 'http://slack-proxy', MSTEAMS_PROXY_URL: 'http://teams-proxy' });
    expect(n.defaultNotifier?.alert.provider).toMatchObject({ type: 'msteams', proxy: 'http://teams-proxy' });
    expect(n.defaultNotifier?.target.address).toBe('https://example.webhook.office.com/y');
  });

  it('EVENT_WEBHOOK_URL: a hook named events, webhook.go\'s 10s timeout, no retries', () => {
    expect(notificationsFor(driverSettings(), { EVENT_WEBHOOK_URL: 'http://events.example/hook' }).eventWebhook).toEqual({ name: 'events', type: 'event', url: 'http://events.example/hook', timeoutSeconds: 10, retries: 0 });
  });
});

describe('the default notifier and the cluster name (events.go alert)', () => {
  it('a canary without alerts posts to the default Slack notifier, Cluster first, with the token as a bearer', async () => {
    const n = notificationsFor(driverSettings({ clusterName: 'prod-eu', slackChannel: 'deploys' }), { SLACK_URL: `${base}/services/global`, SLACK_TOKEN: 'xoxb-secret' });
    const { lines } = await notify(makePlan({ alerts: undefined }), n);
    expect(lines).toEqual([]);
    expect(requests.map((r) => r.path)).toEqual(['/services/global']);
    expect(requests[0].headers.authorization).toBe('Bearer xoxb-secret');
    expect(requests[0].body).toMatchObject({ channel: 'deploys', username: 'flagger', attachments: [{ author_name: 'podinfo.test', text: FLAGGER_MESSAGES.newRevision }] });
    const fields = requests[0].body.attachments[0].fields.map((f: { title: string }) => f.title);
    expect(fields).toEqual(['Cluster', 'Target', 'Failed checks threshold', 'Progress deadline', 'Traffic routing']);
    expect(requests[0].body.attachments[0].fields[0].value).toBe('prod-eu');
  });

  it('every severity reaches it; an event without metadata carries the Cluster field only', async () => {
    const n = notificationsFor(driverSettings({ clusterName: 'prod-eu' }), { MSTEAMS_URL: `${base}/webhookb2/global` });
    await notify(makePlan({ alerts: undefined }), n, [threshold]);
    expect(requests).toHaveLength(1);
    expect(requests[0].body.sections[0]).toMatchObject({ activityTitle: thresholdMessage(5), facts: [{ name: 'Cluster', value: 'prod-eu' }] });
  });

  it('a canary with its own alerts never uses the default notifier; its alerts get the Cluster field', async () => {
    const own: PlannedAlert = { name: 'team', severity: 'info', provider: { name: 'team', namespace: 'test', type: 'slack', channel: 'team', username: 'canarykit', address: `${base}/services/team` } };
    const n = notificationsFor(driverSettings({ clusterName: 'prod-eu' }), { SLACK_URL: `${base}/services/global` });
    await notify(makePlan({ alerts: [own] }), n, [threshold]);
    expect(requests.map((r) => r.path)).toEqual(['/services/team']);
    expect(requests[0].body.attachments[0].fields).toEqual([{ title: 'Cluster', value: 'prod-eu', short: false }]);
  });

  it('a failed post is logged without the URL\'s path or the token', async () => {
    const n = notificationsFor(driverSettings(), { SLACK_URL: `${base}/fail/T000/B000/secretpath`, SLACK_TOKEN: 'xoxb-secret' });
    const { lines } = await notify(makePlan({ alerts: undefined }), n);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('alert default-notifier (slack provider /SLACK_URL): POST to 127.0.0.1');
    expect(lines[0]).toContain('returned 500');
    expect(lines[0]).not.toContain('xoxb-secret');
    expect(lines[0]).not.toContain('secretpath');
  });
});

describe('the global event webhook (events.go sendEventToWebhook)', () => {
  const n = notificationsFor(driverSettings(), { EVENT_WEBHOOK_URL: 'http://events.example/hook' });

  it('receives every event of a canary without event webhooks, with the per-canary payload', async () => {
    const { hooks } = await notify(makePlan({ alerts: undefined, webhooks: [] }), n);
    expect(hooks.length).toBeGreaterThan(0);
    expect(hooks.every((h) => h.hook.name === 'events' && h.hook.url === 'http://events.example/hook')).toBe(true);
    expect(hooks[0].ctx).toMatchObject({ name: 'podinfo', namespace: 'test' });
    expect(hooks[0].ctx.event?.message).toBe('New revision detected! Scaling up podinfo.test');
  });

  it('is overridden by the canary\'s own event webhooks', async () => {
    const { hooks } = await notify(makePlan({ alerts: undefined, webhooks: [hook('mine', 'event')] }), n);
    expect(hooks.length).toBeGreaterThan(0);
    expect(hooks.every((h) => h.hook.name === 'mine')).toBe(true);
  });
});

describe('secrets stay out of git and out of the app', () => {
  it('canarykit.yaml takes the non-secret settings and refuses URL and token keys, naming the variable', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-ctl-notify-'));
    try {
      fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'controller:\n  clusterName: prod-eu\n  slackUser: deployer\n  slackChannel: deploys\n');
      expect(driverSettings(loadConfig(root).controller)).toEqual({ clusterName: 'prod-eu', slackUser: 'deployer', slackChannel: 'deploys' });
      fs.writeFileSync(path.join(root, 'canarykit.yaml'), 'controller:\n  slackUrl: https://hooks.slack.com/services/T/B/X\n');
      expect(() => loadConfig(root)).toThrow("canarykit.yaml#/controller/slackUrl: Flagger's -slack-url is a secret and is not read from git: set SLACK_URL in the step driver's environment instead");
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the synth command does not see Flagger\'s notifier and webhook variables', () => {
    const env = Object.fromEntries(Object.values(DRIVER_ENV).map((k) => [k, 'secret']));
    expect(synthEnv({ ...env, PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });
});
