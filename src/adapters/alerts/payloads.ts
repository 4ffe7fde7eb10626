import { failureThreshold } from '../../machine/tick';
import { AnalysisPlan, PlannedAlert } from '../../model/plan';
import { Severity, StageEvent } from '../../model/reasons';
import { ALERT_KIND } from './routing';

/** The notification of one event and its JSON body per chat service (Flagger's notifier/*.go). Pure. */

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
    // events.go alertMetadata: `<targetRef.kind>/<name>.<namespace>`.
    { name: 'Target', value: `${plan.targetKind ?? 'Deployment'}/${plan.targetName}.${plan.namespace}` },
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

/**
 * The notification for one event (fields only where Flagger attaches them), the controller's
 * cluster name first when set (src: pkg/controller/events.go alert).
 */
export function alertMessage(plan: AnalysisPlan, event: StageEvent, clusterName = ''): AlertMessage {
  return {
    name: plan.name,
    namespace: plan.namespace,
    message: event.message,
    fields: [...(clusterName ? [{ name: 'Cluster', value: clusterName }] : []), ...(ALERT_KIND[event.reason] === 'fields' ? canaryFields(plan) : [])],
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
