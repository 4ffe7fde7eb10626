import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alertMessage, alertPayload, canaryFields, trafficRouting } from '../src/adapters/alerts/payloads';
import { alertContext, alertsFor, receives } from '../src/adapters/alerts/routing';
import { alertEnvVar, sendAlerts } from '../src/adapters/alerts/sending';
import { notifyAfterPush } from '../src/driver/driver';
import { callWebhook } from '../src/adapters/webhooks/call';
import { initialState } from '../src/machine/decide';
import { Decision } from '../src/machine/action';
import { AlertProviderType, AlertSeverity, AnalysisPlan, PlannedAlert } from '../src/model/plan';
import { FLAGGER_MESSAGES, Severity, StageEvent, stageEvent, thresholdMessage } from '../src/model/reasons';
import { hook, makePlan, PlanOverrides, T0 } from './support/plans';

// ---------------------------------------------------------------------------------------------
// A chat service on 127.0.0.1 that records what it receives

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

const requests: Recorded[] = [];
const tunnels: string[] = [];
let server: Server;
let base = '';
/** A port nothing listens on. */
let closedPort = 0;

function respond(req: IncomingMessage, res: ServerResponse, raw: string): void {
  const path = req.url ?? '/';
  if (path.startsWith('/slow')) return; // never answers
  if (path.startsWith('/fail')) {
    // Echoes what it got, as some services do: the token must not reach the logs through it.
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`invalid_payload for ${req.headers.authorization ?? 'anonymous'} at ${path}`);
    return;
  }
  if (path.startsWith('/moved')) {
    res.writeHead(307, { Location: `${base}/elsewhere` }).end();
    return;
  }
  // /hop/<n>: n more redirects before the answer; /see-other: a 303 to /elsewhere.
  const hop = /^\/hop\/(\d+)$/.exec(path);
  if (hop) {
    const n = Number(hop[1]);
    res.writeHead(n > 0 ? 308 : 200, n > 0 ? { Location: `${base}/hop/${n - 1}` } : {}).end();
    return;
  }
  if (path.startsWith('/see-other')) {
    res.writeHead(303, { Location: `${base}/elsewhere` }).end();
    return;
  }
  requests.push({ method: req.method ?? '', path, headers: req.headers, body: raw ? JSON.parse(raw) : undefined });
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => respond(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  // Doubles as an HTTP proxy: CONNECT tunnels to the same server.
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  requests.length = 0;
  tunnels.length = 0;
});

// ---------------------------------------------------------------------------------------------
// Builders

function alert(name: string, severity: AlertSeverity, type: AlertProviderType, provider: Partial<PlannedAlert['provider']> = {}): PlannedAlert {
  return {
    name,
    severity,
    provider: { name: `${name}-provider`, namespace: 'test', type, channel: 'deploys', username: 'canarykit', ...provider },
  };
}

function planWith(alerts: PlannedAlert[], overrides: PlanOverrides = {}): AnalysisPlan {
  return makePlan({ alerts, ...overrides });
}

const newRevision = stageEvent('NewRevision', FLAGGER_MESSAGES.newRevision);
const threshold = stageEvent('ThresholdReached', thresholdMessage(5));
const waiting = stageEvent('WaitingForApproval', FLAGGER_MESSAGES.waitingPromotion);

/** makePlan: podinfo in test, threshold 5, deadline 600s, stepWeight 10 max 50. */
const FIELDS = [
  { name: 'Target', value: 'Deployment/podinfo.test' },
  { name: 'Failed checks threshold', value: '5' },
  { name: 'Progress deadline', value: '600s' },
  { name: 'Traffic routing', value: 'Weight step: 10 max: 50' },
];

// ---------------------------------------------------------------------------------------------

describe('routing', () => {
  it('follows Flagger severities: info gets all, warn gets warn and error, error only errors', () => {
    const table: Record<AlertSeverity, Record<Severity, boolean>> = {
      info: { info: true, warn: true, error: true },
      warn: { info: false, warn: true, error: true },
      error: { info: false, warn: false, error: true },
    };
    for (const [a, row] of Object.entries(table)) {
      for (const [e, expected] of Object.entries(row)) expect(receives(a as AlertSeverity, e as Severity), `${a} <- ${e}`).toBe(expected);
    }
    const plan = planWith([alert('all', 'info', 'slack'), alert('warnings', 'warn', 'slack'), alert('errors', 'error', 'slack')]);
    const pairs = alertsFor(plan, [newRevision, waiting, threshold]).map((d) => `${d.event.reason}->${d.alert.name}`);
    expect(pairs).toEqual([
      'NewRevision->all',
      'WaitingForApproval->all',
      'WaitingForApproval->warnings',
      'ThresholdReached->all',
      'ThresholdReached->warnings',
      'ThresholdReached->errors',
    ]);
  });

  it('alerts only where Flagger does: no weight steps, failed checks or rollback bookkeeping', () => {
    const plan = planWith([alert('all', 'info', 'slack')]);
    const quiet: StageEvent[] = [
      stageEvent('WeightIncreased', 'Canary weight increased from 10 to 20.'),
      stageEvent('MetricCheckFailed', 'Metric request-success-rate check failed (failed checks 1/5)'),
      stageEvent('WebhookFailed', 'rollout webhook failed'),
      stageEvent('RolledBack', FLAGGER_MESSAGES.failed),
      stageEvent('Promoted', FLAGGER_MESSAGES.promoting),
      stageEvent('Restarted', 'New revision rev-3 detected, restarting canary analysis.'),
      // scheduler.go: IsCanaryReady returns before the "Progress deadline exceeded" alert can be sent.
      stageEvent('ProgressDeadlineExceeded', 'Progress deadline exceeded canary deployment podinfo not ready'),
    ];
    expect(alertsFor(plan, quiet)).toEqual([]);
    const loud = [
      stageEvent('Succeeded', FLAGGER_MESSAGES.succeeded),
      stageEvent('AnalysisSkipped', FLAGGER_MESSAGES.skipped),
      stageEvent('RollbackRequested', FLAGGER_MESSAGES.rollbackHook),
      stageEvent('PromotionFailed', 'Promotion failed, primary not ready: x'),
    ];
    expect(alertsFor(plan, loud).map((d) => d.event.reason)).toEqual(loud.map((e) => e.reason));
    expect(alertsFor(makePlan(), loud)).toEqual([]); // no alerts in the plan
  });

  it('alerts "initialization completed" on Initialized, not on the first Initializing state', () => {
    const plan = planWith([alert('all', 'info', 'slack')]);
    expect(alertsFor(plan, [stageEvent('Initializing', FLAGGER_MESSAGES.initializing)])).toEqual([]);
    expect(alertsFor(plan, [stageEvent('Initialized', FLAGGER_MESSAGES.initialized)])).toHaveLength(1);
  });

  it('honours muteAlert on the closed confirm-* webhook', () => {
    const gate = { ...hook('gate', 'confirm-promotion'), muteAlert: true };
    const plan = planWith([alert('all', 'info', 'slack')], { webhooks: [gate, hook('other', 'confirm-promotion')] });
    expect(alertsFor(plan, [waiting], { webhook: 'gate' })).toEqual([]);
    expect(alertsFor(plan, [waiting], { webhook: 'other' })).toHaveLength(1);
    // Without the webhook's name: muted only when every hook of that gate mutes.
    expect(alertsFor(plan, [waiting])).toHaveLength(1);
    expect(alertsFor({ ...plan, webhooks: [gate] }, [waiting])).toEqual([]);
  });

  it('takes the closed gate from a decision', () => {
    const state = { ...initialState(makePlan(), T0), phase: 'WaitingPromotion' as const };
    const decision: Decision = { action: { type: 'wait', gate: 'confirm-promotion', webhook: 'gate', message: 'x' }, state, events: [waiting] };
    expect(alertContext(decision)).toEqual({ webhook: 'gate' });
  });
});

describe('fields', () => {
  it('describes target, threshold, deadline and traffic routing as Flagger does', () => {
    expect(canaryFields(makePlan())).toEqual(FIELDS);
    // events.go alertMetadata: switch on DeploymentStrategy(), then stepWeight / stepWeights with the spec's MaxWeight.
    const routing = (analysis: PlanOverrides['analysis'], strategy: PlanOverrides['strategy'] = 'canary'): string | undefined =>
      trafficRouting(makePlan({ analysis, strategy }));
    expect(routing({ stepWeight: 0, stepWeights: [5, 10, 25], maxWeight: 25 })).toBe('Weight steps: 5,10,25 max: 25');
    expect(routing({ stepWeight: 0, stepWeights: [5, 10, 25], maxWeight: 25, maxWeightUnset: true })).toBe('Weight steps: 5,10,25 max: 0');
    expect(routing({ stepWeight: 10, maxWeight: 100, maxWeightUnset: true })).toBe('Weight step: 10 max: 0');
    expect(routing({ stepWeight: 0, iterations: 10, hasMatch: true }, 'ab-testing')).toBe('A/B Testing');
    expect(routing({ stepWeight: 10, iterations: 10, hasMatch: true }, 'ab-testing')).toBe('A/B Testing');
    expect(routing({ stepWeight: 0, iterations: 10 }, 'blue-green')).toBe('Blue/Green');
    expect(routing({ stepWeight: 5, iterations: 10 }, 'blue-green')).toBe('Blue/Green');
    expect(routing({ stepWeight: 0 })).toBeUndefined();
  });

  it('are attached to the new-revision and initialization alerts only', () => {
    const plan = makePlan();
    expect(alertMessage(plan, newRevision).fields).toEqual(FIELDS);
    expect(alertMessage(plan, stageEvent('Initialized', FLAGGER_MESSAGES.initialized)).fields).toEqual(FIELDS);
    expect(alertMessage(plan, threshold).fields).toEqual([]);
    expect(alertMessage(plan, waiting).fields).toEqual([]);
  });
});

describe('sendAlerts', () => {
  const slackFields = FIELDS.map((f) => ({ title: f.name, value: f.value, short: false }));

  it('posts the Slack payload', async () => {
    const plan = planWith([alert('slack', 'info', 'slack', { address: `${base}/services/T0/B0/xyz` })]);
    const results = await sendAlerts(plan, [newRevision, threshold]);
    expect(results.map((r) => [r.ok, r.reason])).toEqual([[true, 'NewRevision'], [true, 'ThresholdReached']]);
    expect(requests.map((r) => [r.method, r.path, r.headers['content-type'], r.headers.authorization])).toEqual([
      ['POST', '/services/T0/B0/xyz', 'application/json', undefined],
      ['POST', '/services/T0/B0/xyz', 'application/json', undefined],
    ]);
    expect(requests[0].body).toEqual({
      channel: 'deploys',
      username: 'canarykit',
      icon_url: '',
      icon_emoji: ':rocket:',
      attachments: [{ color: 'good', author_name: 'podinfo.test', text: FLAGGER_MESSAGES.newRevision, mrkdwn_in: ['text'], fields: slackFields }],
    });
    expect(requests[1].body).toEqual({
      channel: 'deploys',
      username: 'canarykit',
      icon_url: '',
      icon_emoji: ':rocket:',
      attachments: [{ color: 'danger', author_name: 'podinfo.test', text: 'Failed checks threshold reached 5', mrkdwn_in: ['text'], fields: [] }],
    });
  });

  it('posts the Slack format to <address>/slack for Discord (once)', async () => {
    const plan = planWith([
      alert('discord', 'info', 'discord', { address: `${base}/api/webhooks/123/abc` }),
      alert('discord-slack', 'info', 'discord', { address: `${base}/api/webhooks/456/def/slack` }),
    ]);
    const results = await sendAlerts(plan, [threshold]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(requests.map((r) => r.path)).toEqual(['/api/webhooks/123/abc/slack', '/api/webhooks/456/def/slack']);
    expect(requests[0].body).toEqual(alertPayload(plan.alerts![0], alertMessage(plan, threshold)));
    expect((requests[0].body as { attachments: { color: string }[] }).attachments[0].color).toBe('danger');
  });

  it('posts the Slack shape with Flagger\'s hex colours to Rocket.Chat', async () => {
    const plan = planWith([alert('rocket', 'info', 'rocket', { address: `${base}/hooks/rocket` })]);
    await sendAlerts(plan, [newRevision, threshold]);
    expect(requests.map((r) => r.body)).toEqual([
      {
        channel: 'deploys',
        username: 'canarykit',
        icon_url: '',
        icon_emoji: ':rocket:',
        attachments: [{ color: '#0076D7', author_name: 'podinfo.test', text: FLAGGER_MESSAGES.newRevision, mrkdwn_in: ['text'], fields: slackFields }],
      },
      {
        channel: 'deploys',
        username: 'canarykit',
        icon_url: '',
        icon_emoji: ':rocket:',
        attachments: [{ color: '#FF0000', author_name: 'podinfo.test', text: 'Failed checks threshold reached 5', mrkdwn_in: ['text'], fields: [] }],
      },
    ]);
  });

  it('posts a MessageCard to MS Teams', async () => {
    const plan = planWith([alert('teams', 'info', 'msteams', { address: `${base}/webhookb2/teams` })]);
    await sendAlerts(plan, [newRevision, threshold]);
    expect(requests.map((r) => r.body)).toEqual([
      {
        '@type': 'MessageCard',
        '@context': 'http://schema.org/extensions',
        themeColor: '0076D7',
        summary: 'podinfo.test',
        sections: [{ activityTitle: FLAGGER_MESSAGES.newRevision, activitySubtitle: 'podinfo.test', facts: FIELDS }],
      },
      {
        '@type': 'MessageCard',
        '@context': 'http://schema.org/extensions',
        themeColor: 'FF0000',
        summary: 'podinfo.test',
        sections: [{ activityTitle: 'Failed checks threshold reached 5', activitySubtitle: 'podinfo.test', facts: [] }],
      },
    ]);
  });

  it('posts a card to Google Chat', async () => {
    const plan = planWith([alert('gchat', 'info', 'gchat', { address: `${base}/v1/spaces/AAA/messages?key=k&token=t` })]);
    await sendAlerts(plan, [newRevision]);
    expect(requests[0].path).toBe('/v1/spaces/AAA/messages?key=k&token=t');
    const strong = (s: string): string => `<font color=#848484><strong>${s}</strong></font>`;
    expect(requests[0].body).toEqual({
      cards: [
        {
          header: { title: 'Flagger', subtitle: 'podinfo.test', imageUrl: 'https://flagger.app/favicon.png' },
          sections: [
            { widgets: [{ textParagraph: { text: strong(FLAGGER_MESSAGES.newRevision) } }] },
            ...FIELDS.map((f) => ({ widgets: [{ textParagraph: { text: `${f.name}<br>${strong(f.value)}` } }] })),
          ],
        },
      ],
    });
  });

  it('reads a secretRef provider\'s address and token from the environment', async () => {
    expect(alertEnvVar('team-slack.prod', 'ADDRESS')).toBe('CANARYKIT_ALERT_TEAM_SLACK_PROD_ADDRESS');
    expect(alertEnvVar('teamSlack', 'TOKEN')).toBe('CANARYKIT_ALERT_TEAMSLACK_TOKEN');
    const plan = planWith([
      // The secret's address overrides spec.address, as in Flagger.
      alert('ops', 'info', 'slack', { name: 'team-slack', secretRef: 'slack-webhook', address: `${base}/not-this-one` }),
    ]);
    const env = {
      CANARYKIT_ALERT_TEAM_SLACK_ADDRESS: `${base}/services/from-env`,
      CANARYKIT_ALERT_TEAM_SLACK_TOKEN: 'xoxb-s3cr3t',
    };
    const results = await sendAlerts(plan, [newRevision], { env });
    expect(results).toMatchObject([{ alert: 'ops', ok: true, skipped: false }]);
    expect(requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/services/from-env', 'Bearer xoxb-s3cr3t']]);
    expect(results[0].message).toBe(`alert ops (slack provider test/team-slack): POST to 127.0.0.1:${new URL(base).port} returned 200`);
  });

  // notifier/factory.go: only NewSlack receives the token; Discord, Rocket.Chat, MS Teams and Google Chat post without it.
  it('sends the token to Slack only', async () => {
    const plan = planWith([alert('teams', 'info', 'msteams', { name: 'teams-hook', secretRef: 'teams-webhook' })]);
    const env = { CANARYKIT_ALERT_TEAMS_HOOK_ADDRESS: `${base}/webhookb2/teams`, CANARYKIT_ALERT_TEAMS_HOOK_TOKEN: 't0k3n' };
    const results = await sendAlerts(plan, [newRevision], { env });
    expect(results).toMatchObject([{ ok: true }]);
    expect(requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/webhookb2/teams', undefined]]);
  });

  it('skips an alert without an address once, naming the variable to set', async () => {
    const plan = planWith([alert('ops', 'info', 'msteams', { name: 'teams', secretRef: 'teams-webhook' })]);
    const results = await sendAlerts(plan, [newRevision, threshold], { env: {} });
    expect(requests).toEqual([]);
    expect(results).toEqual([
      {
        alert: 'ops',
        ok: false,
        skipped: true,
        message: 'alert ops (msteams provider test/teams): not sent, no address: set CANARYKIT_ALERT_TEAMS_ADDRESS to the address in Secret test/teams-webhook',
      },
    ]);
  });

  it('reports a server error, an unreachable service and a bad address without throwing; follows a redirect (client.go postMessage)', async () => {
    const plan = planWith([
      alert('broken', 'info', 'slack', { address: `${base}/fail/T0/B0/xyz` }),
      alert('down', 'info', 'slack', { address: `http://127.0.0.1:${closedPort}/hook` }),
      alert('moved', 'info', 'slack', { address: `${base}/moved` }),
      alert('typo', 'info', 'slack', { address: 'hooks.slack.com/services/T0' }),
      alert('fine', 'info', 'slack', { address: `${base}/services/ok` }),
    ]);
    const results = await sendAlerts(plan, [threshold]);
    const host = new URL(base).host;
    expect(results.map((r) => [r.alert, r.ok])).toEqual([['broken', false], ['down', false], ['moved', true], ['typo', false], ['fine', true]]);
    expect(results[0].message).toBe(`alert broken (slack provider test/broken-provider): POST to ${host} returned 500: invalid_payload for anonymous at /***`);
    expect(results[1].message).toMatch(/^alert down \(slack provider test\/down-provider\): POST to 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
    expect(results[2].message).toBe(`alert moved (slack provider test/moved-provider): POST to ${host} returned 200`);
    expect(results[3].message).toBe('alert typo (slack provider test/typo-provider): not sent, the address is not a valid URL');
    // Go's http.Client follows the 307 with the same POST and body, as fetch does.
    expect(requests.map((r) => [r.method, r.path])).toEqual([['POST', '/elsewhere'], ['POST', '/services/ok']]);
  });

  it('redirects as Go\'s http.Client: 303 becomes a GET, 10 redirects are followed, the 11th is an error', async () => {
    requests.length = 0;
    const plan = planWith([
      alert('see-other', 'info', 'slack', { address: `${base}/see-other` }),
      alert('ten', 'info', 'slack', { address: `${base}/hop/10` }),
      alert('eleven', 'info', 'slack', { address: `${base}/hop/11` }),
    ]);
    const results = await sendAlerts(plan, [threshold]);
    expect(results.map((r) => [r.alert, r.ok])).toEqual([['see-other', true], ['ten', true], ['eleven', false]]);
    expect(requests.map((r) => [r.method, r.path, r.body])).toEqual([['GET', '/elsewhere', undefined]]);
    expect(results[2].message).toMatch(/failed: stopped after 10 redirects$/);
  });

  it('gives up after the timeout', async () => {
    const plan = planWith([alert('slow', 'info', 'slack', { address: `${base}/slow` })]);
    const started = Date.now();
    const results = await sendAlerts(plan, [threshold], { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(results).toMatchObject([{ ok: false, message: `alert slow (slack provider test/slow-provider): POST to ${new URL(base).host} timed out after 0.3s` }]);
  });

  it('never puts the webhook path, the token or proxy credentials in its messages', async () => {
    const plan = planWith([
      alert('leaky', 'info', 'slack', { name: 'leaky', secretRef: 'leaky' }),
      alert('via-proxy', 'info', 'slack', { name: 'via-proxy', secretRef: 'via-proxy', proxy: `http://user:pr0xy-pass@127.0.0.1:${closedPort}` }),
    ]);
    const env = {
      CANARYKIT_ALERT_LEAKY_ADDRESS: `${base}/fail/T0/B0/w3bh00k-s3cr3t`,
      CANARYKIT_ALERT_LEAKY_TOKEN: 't0k3n-s3cr3t',
      CANARYKIT_ALERT_VIA_PROXY_ADDRESS: `${base}/services/w3bh00k-s3cr3t`,
    };
    const results = await sendAlerts(plan, [threshold], { env });
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    const text = results.map((r) => r.message).join('\n');
    for (const secret of ['w3bh00k-s3cr3t', 't0k3n-s3cr3t', 'pr0xy-pass', 'T0/B0']) expect(text).not.toContain(secret);
    expect(results[0].message).toContain('returned 500: invalid_payload for Bearer *** at /***');
    expect(results[1].message).toMatch(/POST to 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });

  it('goes through the provider\'s proxy', async () => {
    const plan = planWith([alert('proxied', 'info', 'slack', { address: `${base}/services/proxied`, proxy: base })]);
    const results = await sendAlerts(plan, [threshold]);
    expect(results).toMatchObject([{ ok: true }]);
    expect(tunnels).toEqual([new URL(base).host]);
    expect(requests.map((r) => r.path)).toEqual(['/services/proxied']);
  });

  it('does nothing without alerts or alerted events', async () => {
    expect(await sendAlerts(makePlan(), [threshold])).toEqual([]);
    expect(await sendAlerts(planWith([alert('errors', 'error', 'slack', { address: `${base}/x` })]), [newRevision])).toEqual([]);
    expect(requests).toEqual([]);
  });
});

describe('notifyAfterPush', () => {
  it('sends the decision\'s alerts after the hooks and logs the ones that failed', async () => {
    const plan = planWith([
      alert('slack', 'info', 'slack', { address: `${base}/services/driver` }),
      alert('pager', 'error', 'msteams', { address: `${base}/webhookb2/pager` }),
      alert('unset', 'info', 'slack', { name: 'canarykit-test-unset-provider', secretRef: 'unset' }),
    ]);
    const decision: Decision = {
      action: { type: 'start', revision: 'rev-2' },
      state: { ...initialState(plan, T0), phase: 'Progressing' },
      events: [newRevision],
    };
    const lines: string[] = [];
    await notifyAfterPush(plan, decision, { now: () => T0, log: (l) => lines.push(l), callWebhook, sendAlerts });
    expect(requests.map((r) => r.path)).toEqual(['/services/driver']);
    expect(requests[0].body).toMatchObject({ attachments: [{ text: FLAGGER_MESSAGES.newRevision, author_name: 'podinfo.test' }] });
    expect(lines).toEqual([
      'test/podinfo: alert unset (slack provider test/canarykit-test-unset-provider): not sent, no address: ' +
        'set CANARYKIT_ALERT_CANARYKIT_TEST_UNSET_PROVIDER_ADDRESS to the address in Secret test/unset (ignored)',
    ]);
  });
});
