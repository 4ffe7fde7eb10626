/**
 * Flagger's controller flags the step driver uses when it notifies (cmd/flagger/main.go v1.44.0):
 * the cluster name of alerts, the global event webhook and the default Slack / MS Teams notifier.
 * They change no rendered object, so they live in canarykit.yaml's `controller:` only (no compile
 * flag, no CanaryApp prop). URLs and tokens are secrets and never enter git: like Flagger, the
 * driver reads them from Flagger's own environment variables at step time.
 */

import { PlannedAlert, PlannedWebhook } from './plan';

/** The non-secret settings, defaults applied. */
export interface DriverSettings {
  /** `-cluster-name`: a "Cluster" field in every alert when set (src: pkg/controller/events.go alert). */
  readonly clusterName: string;
  /** `-slack-user`: the user name of the default Slack notifier. */
  readonly slackUser: string;
  /** `-slack-channel`: the channel of the default Slack notifier. */
  readonly slackChannel: string;
}

export type DriverSettingsInput = { -readonly [K in keyof DriverSettings]?: DriverSettings[K] };

/** Flagger's defaults (main.go init). */
export const DRIVER_DEFAULTS: DriverSettings = { clusterName: '', slackUser: 'flagger', slackChannel: '' };

/** canarykit.yaml keys and Flagger's flags. */
export const DRIVER_FLAGS: readonly { key: keyof DriverSettings; flag: string; description: string }[] = [
  { key: 'slackUser', flag: 'slack-user', description: 'user name of the default Slack notifier' },
  { key: 'slackChannel', flag: 'slack-channel', description: 'channel of the default Slack notifier' },
  { key: 'clusterName', flag: 'cluster-name', description: 'cluster name included in alerts' },
];

/**
 * Flagger's environment variables for the secret flags (main.go fromEnv, initNotifier). canarykit
 * reads only the variables: a flag value would have to be written in git.
 */
export const DRIVER_ENV = {
  eventWebhook: 'EVENT_WEBHOOK_URL',
  slackUrl: 'SLACK_URL',
  slackToken: 'SLACK_TOKEN',
  slackProxyUrl: 'SLACK_PROXY_URL',
  msteamsUrl: 'MSTEAMS_URL',
  msteamsProxyUrl: 'MSTEAMS_PROXY_URL',
} as const;

/** Flagger's flag of each environment variable (for the README table and messages). */
export const DRIVER_ENV_FLAGS: Readonly<Record<keyof typeof DRIVER_ENV, string>> = {
  eventWebhook: 'event-webhook',
  slackUrl: 'slack-url',
  slackToken: 'slack-token',
  slackProxyUrl: 'slack-proxy-url',
  msteamsUrl: 'msteams-url',
  msteamsProxyUrl: 'msteams-proxy-url',
};

/** The driver's keys of `input` (canarykit.yaml's whole `controller:` may be given), defaults applied. */
export function driverSettings(input: DriverSettingsInput = {}): DriverSettings {
  const defined = Object.fromEntries(DRIVER_FLAGS.flatMap((f) => (input[f.key] === undefined ? [] : [[f.key, input[f.key]]])));
  return { ...DRIVER_DEFAULTS, ...defined };
}

/** The default notifier: the alert it stands for and where it posts (the address stays in memory). */
export interface DefaultNotifier {
  readonly alert: PlannedAlert;
  readonly target: { address: string; token?: string };
}

/** What the driver notifies with beyond each plan. */
export interface Notifications {
  /** Flagger's -cluster-name; '' for none. */
  readonly clusterName: string;
  /** Flagger's global notifier, for canaries without `analysis.alerts`. */
  readonly defaultNotifier?: DefaultNotifier;
  /** Flagger's -event-webhook, for canaries without an `event` webhook. */
  readonly eventWebhook?: PlannedWebhook;
}

/** An environment variable, empty meaning unset (Flagger's fromEnv). */
function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The notifications Flagger's controller would send with these settings and environment.
 * src: cmd/flagger/main.go initNotifier: Slack unless MSTEAMS_URL is set, the URL from SLACK_URL
 * (or MSTEAMS_URL), no notifier at all without a URL (notifier/factory.go: NopNotifier). Discord,
 * Rocket and Google Chat have no global flag in Flagger: they are AlertProviders only.
 */
export function notificationsFor(settings: DriverSettings, env: NodeJS.ProcessEnv, namespace = ''): Notifications {
  const msteams = fromEnv(env, DRIVER_ENV.msteamsUrl);
  const type = msteams ? 'msteams' : 'slack';
  const address = msteams ?? fromEnv(env, DRIVER_ENV.slackUrl);
  const proxy = fromEnv(env, msteams ? DRIVER_ENV.msteamsProxyUrl : DRIVER_ENV.slackProxyUrl);
  const token = fromEnv(env, DRIVER_ENV.slackToken);
  const hook = fromEnv(env, DRIVER_ENV.eventWebhook);
  return {
    clusterName: settings.clusterName,
    defaultNotifier: address
      ? {
        // Flagger's global notifier posts every alert, whatever its severity (events.go alert).
        alert: {
          name: 'default-notifier',
          severity: 'info',
          provider: { name: msteams ? DRIVER_ENV.msteamsUrl : DRIVER_ENV.slackUrl, namespace, type, channel: settings.slackChannel, username: settings.slackUser, ...(proxy ? { proxy } : {}) },
        },
        target: token ? { address, token } : { address },
      }
      : undefined,
    // src: pkg/controller/events.go sendEventToWebhook: a hook named "events", webhook.go's 10s default timeout, no retries.
    eventWebhook: hook ? { name: 'events', type: 'event', url: hook, timeoutSeconds: 10, retries: 0 } : undefined,
  };
}
