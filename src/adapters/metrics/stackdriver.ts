import { createSign } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt } from '../../redact';
import { LIMITS } from '../../limits';
import { STACKDRIVER_SPEC } from '../../model/metric-providers/stackdriver';
import { TransportFailure, exchange } from './http-exchange';
import { MetricProviderModule, MetricSource, QueryValue } from './source';

/**
 * pkg/metrics/providers/stackdriver.go over the REST form of the same API: Flagger calls
 * QueryService.QueryTimeSeries (MQL) over gRPC; canarykit POSTs `{"query": ...}` to its REST
 * binding `https://monitoring.googleapis.com/v3/projects/<project>/timeSeries:query` (Google's
 * projects.timeSeries.query reference: `POST /v3/{name}/timeSeries:query`), and follows `nextPageToken`
 * as the Go iterator's Next does until it has one TimeSeriesData. The value is
 * TimeSeriesData[0].PointData[0].Values[0].GetDoubleValue().
 *
 * Credentials, as Flagger's NewStackDriverProvider and Google's client libraries find them:
 * Secret key `serviceAccountKey` (a service-account JSON key: an RS256 JWT exchanged at its
 * token_uri), else Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud's
 * application_default_credentials.json, the GCE/GKE metadata server (GCE_METADATA_HOST).
 */

export const STACKDRIVER_ENDPOINT = 'https://monitoring.googleapis.com';
/** Environment variables the stackdriver client reads. */
export const STACKDRIVER_ENV = {
  /** canarykit's override of the Cloud Monitoring endpoint (Flagger has none; its address field is unused). */
  endpoint: 'CANARYKIT_STACKDRIVER_ENDPOINT',
  applicationCredentials: 'GOOGLE_APPLICATION_CREDENTIALS',
  gcloudConfig: 'CLOUDSDK_CONFIG',
  metadataHost: 'GCE_METADATA_HOST',
} as const;
/** The monitoring client's DefaultAuthScopes (cloud.google.com/go/monitoring/apiv3/v2). */
export const STACKDRIVER_SCOPES = ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/monitoring', 'https://www.googleapis.com/auth/monitoring.read'];
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Pages the client reads looking for a first TimeSeriesData before it calls the answer empty. */
const MAX_PAGES = 10;

export const STACKDRIVER: MetricProviderModule<'stackdriver'> = {
  spec: STACKDRIVER_SPEC,
  connect(provider, ctx): MetricSource {
    const project = ctx.credentials.project;
    // NewStackDriverProvider: "<type> credentials does not contain a project id".
    if (!project) throw new ConfigError(`stackdriver credentials does not contain a project id: ${ctx.credentialHint('project')}`);
    const endpoint = stackdriverEndpoint(ctx.env);
    const http = new Http(ctx.timeoutMs, provider.insecureSkipVerify);
    const auth = googleCredentials(ctx.credentials.serviceAccountKey, ctx.env, http);
    const client = new StackdriverClient(endpoint, project, auth, http);
    return {
      address: client.address,
      async query(query): Promise<QueryValue> {
        let data: TimeSeriesData | undefined;
        try {
          data = await client.firstTimeSeriesData(query);
        } catch (e) {
          if (e instanceof GoogleApiError) throw client.error(e.kind, `error requesting stackdriver: ${e.message}`, e.status);
          throw e;
        }
        return doubleValue(data, client);
      },
      async isOnline() {
        // stackdriver.go IsOnline: an empty query; online when it succeeds or is refused as
        // InvalidArgument, offline for any other status (PermissionDenied…).
        try {
          await client.firstTimeSeriesData('');
        } catch (e) {
          if (e instanceof GoogleApiError) {
            if (e.code === 'InvalidArgument') return;
            throw new Error(`unexpected status code: ${e.code}`);
          }
          throw new Error(`unexpected error: ${(e as Error).message}`);
        }
      },
    };
  },
};

/** CANARYKIT_STACKDRIVER_ENDPOINT, else monitoring.googleapis.com. */
export function stackdriverEndpoint(env: NodeJS.ProcessEnv): string {
  const address = env[STACKDRIVER_ENV.endpoint] || STACKDRIVER_ENDPOINT;
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ConfigError(`${STACKDRIVER_ENV.endpoint} ${JSON.stringify(address)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${STACKDRIVER_ENV.endpoint} must be an http or https URL`);
  if (url.username || url.password) throw new ConfigError(`${STACKDRIVER_ENV.endpoint} must not embed credentials`);
  return url.href.replace(/\/+$/, '');
}

// ---- the answer -------------------------------------------------------------------------------

interface TypedValue {
  doubleValue?: unknown;
  int64Value?: unknown;
  boolValue?: unknown;
  stringValue?: unknown;
  distributionValue?: unknown;
}
interface TimeSeriesData {
  labelValues?: unknown[];
  pointData?: { values?: TypedValue[]; timeInterval?: unknown }[];
}
interface QueryTimeSeriesResponse {
  timeSeriesDescriptor?: unknown;
  timeSeriesData?: TimeSeriesData[];
  nextPageToken?: string;
  partialErrors?: unknown[];
}

/**
 * stackdriver.go RunQuery: no TimeSeriesData, no PointData or no Values is no data; otherwise
 * Values[0]. Flagger reads it with GetDoubleValue, which is 0 for an int64 (a count), so a `max`
 * bound on a count would always pass: canarykit reads int64 values as numbers (README says so), and
 * refuses bool, string and distribution values instead of reading 0. NaN is no data, as for
 * Prometheus, because NaN passes every bound.
 */
function doubleValue(data: TimeSeriesData | undefined, client: StackdriverClient): QueryValue {
  if (!data) return { kind: 'no-data' };
  const points = data.pointData;
  if (points !== undefined && !Array.isArray(points)) throw client.error('bad-response', 'timeSeriesData[0].pointData is not a list', 200);
  if (!points || points.length < 1) return { kind: 'no-data' };
  const values = points[0]?.values;
  if (values !== undefined && !Array.isArray(values)) throw client.error('bad-response', 'pointData[0].values is not a list', 200);
  if (!values || values.length < 1) return { kind: 'no-data' };
  const typed = values[0] ?? {};
  const v = typed.doubleValue;
  if (v === undefined || v === null) {
    // proto3 JSON writes int64 as a decimal string.
    const i = typed.int64Value;
    if ((typeof i === 'string' && /^-?\d+$/.test(i)) || (typeof i === 'number' && Number.isInteger(i))) return { kind: 'value', value: Number(i) };
    const kind = Object.keys(typed).join(', ') || 'empty';
    throw client.error('bad-response', `pointData[0].values[0] holds no number (${excerpt(kind, 80)}); the query must return a double or int64 value`, 200);
  }
  if (typeof v === 'number') return Number.isNaN(v) ? { kind: 'no-data' } : { kind: 'value', value: v };
  // proto3 JSON writes non-finite doubles as strings.
  if (v === 'NaN') return { kind: 'no-data' };
  if (v === 'Infinity' || v === '-Infinity') return { kind: 'value', value: Number(v) };
  throw client.error('bad-response', `pointData[0].values[0].doubleValue is not a number (${excerpt(JSON.stringify(v), 80)})`, 200);
}

// ---- HTTP -------------------------------------------------------------------------------------

/** Cloud Monitoring refused a call: its google.rpc status (gRPC code name, as Go's codes.Code prints it). */
class GoogleApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  get kind(): MetricsErrorKind {
    return this.code === 'InvalidArgument' ? 'bad-query' : 'http';
  }
}

const HTTP_TO_GRPC: Record<number, string> = { 400: 'InvalidArgument', 401: 'Unauthenticated', 403: 'PermissionDenied', 404: 'NotFound', 409: 'Aborted', 429: 'ResourceExhausted', 499: 'Canceled', 500: 'Internal', 501: 'Unimplemented', 503: 'Unavailable', 504: 'DeadlineExceeded' };

/** `PERMISSION_DENIED` -> `PermissionDenied` (google.rpc.Code in REST, codes.Code.String() in Go). */
function grpcCodeName(status: unknown, http: number): string {
  if (typeof status === 'string' && /^[A-Z_]+$/.test(status)) {
    return status
      .toLowerCase()
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('');
  }
  return HTTP_TO_GRPC[http] ?? 'Unknown';
}

interface HttpAnswer {
  status: number;
  text: string;
  note: string;
}

/** The shared exchange (http-exchange.ts) with the whole-request timeout; transport failures as MetricsErrors. */
class Http {
  constructor(
    readonly timeoutMs: number,
    private readonly insecureSkipVerify?: boolean,
  ) {}

  async send(url: string, init: RequestInit, fail: (kind: MetricsErrorKind, detail: string) => MetricsError): Promise<HttpAnswer> {
    try {
      const answer = await exchange(url, init, { timeoutMs: this.timeoutMs, insecureSkipVerify: this.insecureSkipVerify });
      return { status: answer.status, text: answer.body.text, note: truncationNote(answer.body) };
    } catch (err) {
      if (err instanceof TransportFailure) throw fail(err.kind, err.message);
      throw err;
    }
  }
}

// ---- credentials ------------------------------------------------------------------------------

/** A source of OAuth2 access tokens for the monitoring scopes. */
interface TokenSource {
  /** Where tokens come from, without secrets (for messages). */
  readonly describe: string;
  /** Secrets to mask in any message (private key, refresh token, the tokens handed out). */
  readonly secrets: string[];
  token(): Promise<string>;
}

interface CredentialsFile {
  type?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  token_uri?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

/** Access tokens by credential, so every metric of a tick shares one token until it expires. */
const TOKEN_CACHE = new Map<string, { token: string; expires: number }>();

/**
 * Google's credential search: the Secret's serviceAccountKey, GOOGLE_APPLICATION_CREDENTIALS,
 * gcloud's application default credentials file, then the metadata server.
 */
function googleCredentials(serviceAccountKey: string | undefined, env: NodeJS.ProcessEnv, http: Http): TokenSource {
  if (serviceAccountKey) return fromJson(serviceAccountKey, 'the Secret key serviceAccountKey', http);
  const file = env[STACKDRIVER_ENV.applicationCredentials];
  if (file) return fromJson(readCredentialsFile(file, STACKDRIVER_ENV.applicationCredentials), `${STACKDRIVER_ENV.applicationCredentials} (${file})`, http);
  const home = env.HOME || os.homedir();
  const wellKnown = path.join(env[STACKDRIVER_ENV.gcloudConfig] || path.join(home, '.config', 'gcloud'), 'application_default_credentials.json');
  if (fs.existsSync(wellKnown)) return fromJson(readCredentialsFile(wellKnown, 'gcloud application default credentials'), wellKnown, http);
  return metadataServer(env, http);
}

function readCredentialsFile(file: string, what: string): string {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > LIMITS.responseBytes) throw new Error('not a regular file of at most 1 MiB');
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`stackdriver: cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

function fromJson(text: string, where: string, http: Http): TokenSource {
  let key: CredentialsFile;
  try {
    key = JSON.parse(text) as CredentialsFile;
    if (typeof key !== 'object' || key === null) throw new Error('not an object');
  } catch {
    // Never echo the text: it is a private key.
    throw new ConfigError(`stackdriver: ${where} is not a Google credentials JSON file`);
  }
  if (key.type === 'service_account') {
    if (!key.client_email || !key.private_key) throw new ConfigError(`stackdriver: the service account key in ${where} lacks client_email or private_key`);
    return serviceAccount(key as Required<Pick<CredentialsFile, 'client_email' | 'private_key'>> & CredentialsFile, http);
  }
  if (key.type === 'authorized_user') {
    if (!key.client_id || !key.client_secret || !key.refresh_token) throw new ConfigError(`stackdriver: the user credentials in ${where} lack client_id, client_secret or refresh_token`);
    return authorizedUser(key as Required<Pick<CredentialsFile, 'client_id' | 'client_secret' | 'refresh_token'>> & CredentialsFile, http);
  }
  throw new ConfigError(`stackdriver: ${where} has credentials of type ${JSON.stringify(key.type ?? null)}; canarykit reads service_account and authorized_user keys (or runs with the metadata server)`);
}

/** A service-account key: a JWT signed RS256 with its private key, exchanged at its token_uri (RFC 7523). */
function serviceAccount(key: CredentialsFile & { client_email: string; private_key: string }, http: Http): TokenSource {
  const tokenUri = key.token_uri || DEFAULT_TOKEN_URI;
  const secrets = [key.private_key];
  return {
    describe: `service account ${key.client_email}`,
    secrets,
    token: () =>
      cached(`sa:${key.client_email}:${tokenUri}:${key.private_key_id ?? ''}`, secrets, async () => {
        const now = Math.floor(Date.now() / 1000);
        const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
        const claims = { iss: key.client_email, scope: STACKDRIVER_SCOPES.join(' '), aud: tokenUri, iat: now, exp: now + 3600 };
        const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
        let signature: string;
        try {
          signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key).toString('base64url');
        } catch {
          throw new ConfigError(`stackdriver: the private_key of service account ${key.client_email} cannot sign (not a PEM RSA private key)`);
        }
        const assertion = `${unsigned}.${signature}`;
        secrets.push(assertion);
        const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
        return tokenRequest(tokenUri, body, `service account ${key.client_email}`, secrets, http);
      }),
  };
}

/** gcloud user credentials: a refresh token exchanged at token_uri. */
function authorizedUser(key: CredentialsFile & { client_id: string; client_secret: string; refresh_token: string }, http: Http): TokenSource {
  const tokenUri = key.token_uri || DEFAULT_TOKEN_URI;
  const secrets = [key.client_secret, key.refresh_token];
  return {
    describe: `user credentials of client ${key.client_id}`,
    secrets,
    token: () =>
      cached(`user:${key.client_id}:${key.refresh_token.slice(-8)}`, secrets, () =>
        tokenRequest(tokenUri, new URLSearchParams({ grant_type: 'refresh_token', client_id: key.client_id, client_secret: key.client_secret, refresh_token: key.refresh_token }), `user credentials of client ${key.client_id}`, secrets, http),
      ),
  };
}

/** The GCE/GKE metadata server (Workload Identity on GKE): GCE_METADATA_HOST or metadata.google.internal. */
function metadataServer(env: NodeJS.ProcessEnv, http: Http): TokenSource {
  const host = env[STACKDRIVER_ENV.metadataHost] || 'metadata.google.internal';
  const url = `http://${host}/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(STACKDRIVER_SCOPES.join(','))}`;
  const secrets: string[] = [];
  const describe = `the metadata server ${host}`;
  return {
    describe,
    secrets,
    token: () =>
      cached(`metadata:${host}`, secrets, async () => {
        const fail = (kind: MetricsErrorKind, detail: string, status?: number) =>
          new MetricsError(
            kind,
            `stackdriver: no credentials from ${describe} (no Secret key serviceAccountKey, ${STACKDRIVER_ENV.applicationCredentials} or gcloud credentials either): ${detail}`,
            `http://${host}`,
            status,
          );
        const answer = await http.send(url, { headers: { 'Metadata-Flavor': 'Google' } }, fail);
        return parseToken(answer, (detail) => fail('http', detail, answer.status), secrets);
      }),
  };
}

async function tokenRequest(tokenUri: string, body: URLSearchParams, who: string, secrets: string[], http: Http): Promise<{ token: string; expiresIn: number }> {
  const fail = (kind: MetricsErrorKind, detail: string, status?: number) => new MetricsError(kind, excerpt(`stackdriver: token request for ${who} to ${tokenUri} failed: ${detail}`, 600, secrets), tokenUri, status);
  const answer = await http.send(tokenUri, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body.toString() }, fail);
  return parseToken(answer, (detail) => fail('http', detail, answer.status), secrets);
}

/** An OAuth2 token answer ({access_token, expires_in}) or its error ({error, error_description}). */
function parseToken(answer: HttpAnswer, fail: (detail: string) => MetricsError, secrets: string[]): { token: string; expiresIn: number } {
  let parsed: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    // Shown below as text.
  }
  if (answer.status >= 400 || typeof parsed.access_token !== 'string') {
    const why = typeof parsed.error === 'string' ? `${parsed.error}${typeof parsed.error_description === 'string' ? `: ${parsed.error_description}` : ''}` : answer.text;
    throw fail(`HTTP ${answer.status}: ${excerpt(why, 300, secrets)}${answer.note}`);
  }
  secrets.push(parsed.access_token);
  return { token: parsed.access_token, expiresIn: typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600 };
}

async function cached(key: string, secrets: string[], fetchToken: () => Promise<{ token: string; expiresIn: number }>): Promise<string> {
  const hit = TOKEN_CACHE.get(key);
  // A minute of margin, as oauth2's expiryDelta is 10 s plus clock skew.
  if (hit && hit.expires > Date.now() + 60_000) {
    if (!secrets.includes(hit.token)) secrets.push(hit.token);
    return hit.token;
  }
  const { token, expiresIn } = await fetchToken();
  TOKEN_CACHE.set(key, { token, expires: Date.now() + expiresIn * 1000 });
  return token;
}

/** Forgets cached access tokens (tests). */
export function clearStackdriverTokens(): void {
  TOKEN_CACHE.clear();
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

// ---- the client -------------------------------------------------------------------------------

class StackdriverClient {
  readonly address: string;
  private readonly url: string;

  constructor(
    endpoint: string,
    private readonly project: string,
    private readonly auth: TokenSource,
    private readonly http: Http,
  ) {
    this.address = endpoint;
    this.url = `${endpoint}/v3/projects/${encodeURIComponent(project)}/timeSeries:query`;
  }

  /**
   * The first TimeSeriesData of the query, reading pages as Go's iterator Next does (a page
   * without data but with a nextPageToken is followed). @throws GoogleApiError, MetricsError.
   */
  async firstTimeSeriesData(query: string): Promise<TimeSeriesData | undefined> {
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.call({ query, ...(pageToken ? { pageToken } : {}) });
      if (answer.timeSeriesData !== undefined && !Array.isArray(answer.timeSeriesData)) throw this.error('bad-response', 'timeSeriesData is not a list', 200);
      if (answer.timeSeriesData && answer.timeSeriesData.length > 0) return answer.timeSeriesData[0];
      if (typeof answer.nextPageToken !== 'string' || answer.nextPageToken === '') return undefined;
      pageToken = answer.nextPageToken;
    }
    return undefined;
  }

  private async call(body: Record<string, string>): Promise<QueryTimeSeriesResponse> {
    const token = await this.auth.token();
    const answer = await this.http.send(
      this.url,
      { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) },
      (kind, detail) => this.error(kind, detail),
    );
    if (answer.status >= 400) {
      let code = grpcCodeName(undefined, answer.status);
      let message = answer.text;
      try {
        const parsed = JSON.parse(answer.text) as { error?: { status?: unknown; message?: unknown } };
        if (parsed.error) {
          code = grpcCodeName(parsed.error.status, answer.status);
          if (typeof parsed.error.message === 'string') message = parsed.error.message;
        }
      } catch {
        // A proxy's page: shown as is.
      }
      throw new GoogleApiError(answer.status, code, `code = ${code} desc = ${excerpt(message, 300, this.auth.secrets)}${answer.note}`);
    }
    if (answer.note) throw this.error('bad-response', `the answer is not a QueryTimeSeriesResponse${answer.note}`, answer.status);
    try {
      const parsed = JSON.parse(answer.text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as QueryTimeSeriesResponse;
    } catch {
      throw this.error('bad-response', `the answer is not JSON: ${excerpt(answer.text, 200, this.auth.secrets)}`, answer.status);
    }
  }

  error(kind: MetricsErrorKind, detail: string, status?: number): MetricsError {
    return new MetricsError(kind, excerpt(`stackdriver query to ${this.address} (project ${this.project}, ${this.auth.describe}) failed: ${detail}`, 600, this.auth.secrets), this.address, status);
  }
}
