import * as fs from 'fs';
import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { excerpt } from '../../redact';
import { TransportFailure, exchange } from './http-exchange';

/**
 * The part of the AWS SDK's default credential chain the cloudwatch client covers, in the SDK's
 * order: static keys from the environment, a web identity token file (EKS IRSA:
 * AssumeRoleWithWebIdentity at STS), then container credentials (EKS Pod Identity, ECS).
 * Not covered: shared config/credentials files and profiles, SSO, credential_process, and the
 * EC2 instance metadata service (IMDS).
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsCredentialSource {
  /** Where the credentials come from, without secrets (for messages). */
  readonly describe: string;
  /** Secrets to mask in messages (grows as temporary credentials are fetched). */
  readonly secrets: string[];
  get(): Promise<AwsCredentials>;
}

export const AWS_CREDENTIAL_ENV = {
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  sessionToken: 'AWS_SESSION_TOKEN',
  webIdentityTokenFile: 'AWS_WEB_IDENTITY_TOKEN_FILE',
  roleArn: 'AWS_ROLE_ARN',
  roleSessionName: 'AWS_ROLE_SESSION_NAME',
  stsEndpoint: 'AWS_ENDPOINT_URL_STS',
  endpointAll: 'AWS_ENDPOINT_URL',
  ignoreEndpoints: 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  containerFullUri: 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  containerRelativeUri: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  containerTokenFile: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  containerToken: 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
} as const;

const E = AWS_CREDENTIAL_ENV;
/** Temporary credentials are refreshed this long before they expire (the SDKs use 5 minutes). */
const REFRESH_MARGIN_MS = 5 * 60_000;
const CACHE = new Map<string, { credentials: AwsCredentials; expires: number }>();

/** Forgets cached temporary credentials (tests). */
export function clearAwsCredentials(): void {
  CACHE.clear();
}

/**
 * The first source of the chain that is configured.
 * @throws ConfigError when none is, or only half of a key pair is set.
 */
export function awsCredentialChain(env: NodeJS.ProcessEnv, region: string, timeoutMs: number): AwsCredentialSource {
  const accessKeyId = env[E.accessKeyId] || undefined;
  const secretAccessKey = env[E.secretAccessKey] || undefined;
  if (accessKeyId && secretAccessKey) {
    const credentials = { accessKeyId, secretAccessKey, sessionToken: env[E.sessionToken] || undefined };
    return { describe: `credentials from ${E.accessKeyId}`, secrets: [secretAccessKey, credentials.sessionToken].filter((s): s is string => !!s), get: async () => credentials };
  }
  if (accessKeyId || secretAccessKey) {
    throw new ConfigError(`cloudwatch in region ${region}: set ${accessKeyId ? E.secretAccessKey : E.accessKeyId} as well (static AWS credentials need both ${E.accessKeyId} and ${E.secretAccessKey})`);
  }
  const tokenFile = env[E.webIdentityTokenFile] || undefined;
  const roleArn = env[E.roleArn] || undefined;
  if (tokenFile && roleArn) return webIdentity(env, region, tokenFile, roleArn, timeoutMs);
  if (tokenFile || roleArn) throw new ConfigError(`cloudwatch in region ${region}: set ${tokenFile ? E.roleArn : E.webIdentityTokenFile} as well (web identity credentials need both)`);
  const full = env[E.containerFullUri] || undefined;
  const relative = env[E.containerRelativeUri] || undefined;
  if (full || relative) return container(env, full ?? `http://169.254.170.2${relative}`, timeoutMs);
  throw new ConfigError(
    `cloudwatch in region ${region} needs AWS credentials with cloudwatch:GetMetricData: set ${E.accessKeyId} and ${E.secretAccessKey}` +
      ` (and ${E.sessionToken} for temporary credentials), or ${E.webIdentityTokenFile} and ${E.roleArn} (EKS IRSA),` +
      ` or ${E.containerFullUri} (EKS Pod Identity, ECS) in the driver's environment`,
  );
}

async function cached(key: string, secrets: string[], fetchCredentials: () => Promise<{ credentials: AwsCredentials; expires: number }>): Promise<AwsCredentials> {
  const hit = CACHE.get(key);
  if (hit && hit.expires - REFRESH_MARGIN_MS > Date.now()) return hit.credentials;
  const fresh = await fetchCredentials();
  secrets.push(...[fresh.credentials.secretAccessKey, fresh.credentials.sessionToken].filter((s): s is string => !!s));
  CACHE.set(key, fresh);
  return fresh.credentials;
}

function stsEndpoint(env: NodeJS.ProcessEnv, region: string): string {
  const ignore = (env[E.ignoreEndpoints] ?? '').toLowerCase() === 'true';
  const configured = ignore ? undefined : env[E.stsEndpoint] || env[E.endpointAll] || undefined;
  return (configured ?? `https://sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`).replace(/\/+$/, '');
}

/** EKS IRSA: AssumeRoleWithWebIdentity (an unsigned STS Query call) with the projected token. */
function webIdentity(env: NodeJS.ProcessEnv, region: string, tokenFile: string, roleArn: string, timeoutMs: number): AwsCredentialSource {
  const sts = stsEndpoint(env, region);
  const sessionName = env[E.roleSessionName] || `canarykit-${Date.now()}`;
  const secrets: string[] = [];
  const describe = `web identity role ${roleArn}`;
  return {
    describe,
    secrets,
    get: () =>
      cached(`irsa:${roleArn}:${tokenFile}:${sts}`, secrets, async () => {
        let token: string;
        try {
          token = fs.readFileSync(tokenFile, 'utf8').trim();
        } catch (e) {
          throw new ConfigError(`cloudwatch: cannot read ${E.webIdentityTokenFile} ${tokenFile}: ${(e as Error).message}`);
        }
        secrets.push(token);
        const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: token });
        const fail = (kind: MetricsErrorKind, detail: string, status?: number) => new MetricsError(kind, excerpt(`cloudwatch: AssumeRoleWithWebIdentity for ${roleArn} at ${sts} failed: ${detail}`, 600, secrets), sts, status);
        const { status, text } = await send(sts, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: body.toString() }, timeoutMs, fail);
        if (status >= 400) throw fail('http', `HTTP ${status} ${xmlTag(text, 'Code') ?? ''}: ${excerpt(xmlTag(text, 'Message') ?? text, 300, secrets)}`, status);
        const accessKeyId = xmlTag(text, 'AccessKeyId');
        const secretAccessKey = xmlTag(text, 'SecretAccessKey');
        const sessionToken = xmlTag(text, 'SessionToken');
        if (!accessKeyId || !secretAccessKey || !sessionToken) throw fail('bad-response', 'the answer holds no Credentials', status);
        const expiration = Date.parse(xmlTag(text, 'Expiration') ?? '');
        return { credentials: { accessKeyId, secretAccessKey, sessionToken }, expires: Number.isFinite(expiration) ? expiration : Date.now() + 15 * 60_000 };
      }),
  };
}

/** EKS Pod Identity and ECS: GET the container credentials endpoint (with its authorization token). */
function container(env: NodeJS.ProcessEnv, uri: string, timeoutMs: number): AwsCredentialSource {
  const secrets: string[] = [];
  let shown: string;
  try {
    const u = new URL(uri);
    shown = `${u.origin}${u.pathname}`;
  } catch {
    throw new ConfigError(`cloudwatch: the container credentials URI (${E.containerFullUri} / ${E.containerRelativeUri}) is not a valid URL`);
  }
  return {
    describe: `container credentials ${shown}`,
    secrets,
    get: () =>
      cached(`container:${uri}`, secrets, async () => {
        const tokenFile = env[E.containerTokenFile] || undefined;
        let authorization = env[E.containerToken] || undefined;
        if (tokenFile) {
          try {
            authorization = fs.readFileSync(tokenFile, 'utf8').trim();
          } catch (e) {
            throw new ConfigError(`cloudwatch: cannot read ${E.containerTokenFile} ${tokenFile}: ${(e as Error).message}`);
          }
        }
        if (authorization) secrets.push(authorization);
        const fail = (kind: MetricsErrorKind, detail: string, status?: number) => new MetricsError(kind, excerpt(`cloudwatch: container credentials from ${shown} failed: ${detail}`, 600, secrets), shown, status);
        const { status, text } = await send(uri, { headers: authorization ? { Authorization: authorization } : {} }, timeoutMs, fail);
        if (status >= 400) throw fail('http', `HTTP ${status}: ${excerpt(text, 300, secrets)}`, status);
        let parsed: { AccessKeyId?: unknown; SecretAccessKey?: unknown; Token?: unknown; Expiration?: unknown };
        try {
          parsed = JSON.parse(text);
        } catch {
          throw fail('bad-response', 'the answer is not JSON', status);
        }
        if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.SecretAccessKey !== 'string') throw fail('bad-response', 'the answer holds no AccessKeyId and SecretAccessKey', status);
        const expiration = typeof parsed.Expiration === 'string' ? Date.parse(parsed.Expiration) : NaN;
        return {
          credentials: { accessKeyId: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, sessionToken: typeof parsed.Token === 'string' ? parsed.Token : undefined },
          expires: Number.isFinite(expiration) ? expiration : Date.now() + 15 * 60_000,
        };
      }),
  };
}

async function send(url: string, init: RequestInit, timeoutMs: number, fail: (kind: MetricsErrorKind, detail: string) => MetricsError): Promise<{ status: number; text: string }> {
  try {
    const answer = await exchange(url, init, { timeoutMs });
    return { status: answer.status, text: answer.body.text };
  } catch (err) {
    if (err instanceof TransportFailure) throw fail(err.kind, err.message);
    throw err;
  }
}

/** The text of the first `<tag>` element of an XML answer, entities decoded. */
function xmlTag(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!m) return undefined;
  return m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}
