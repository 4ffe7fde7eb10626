import * as fs from 'fs';
import type { Agent } from 'undici';
import { ConfigError, MetricsError, MetricsErrorKind } from '../../errors';
import { truncationNote } from '../../http-body';
import { excerpt, redact } from '../../redact';
import { HttpAnswer, TransportFailure, exchange, insecureDispatcher } from './http-exchange';

/**
 * A minimal Kubernetes REST client for the metrics providers that read the cluster (keptn,
 * externalmetrics), standing in for the rest.Config Flagger gets from client-go.
 *
 * Configuration, first match wins:
 * - `CANARYKIT_KUBE_API_URL` (e.g. `https://10.0.0.1:6443`), with `CANARYKIT_KUBE_TOKEN` (Bearer),
 *   `CANARYKIT_KUBE_CA_FILE` (PEM bundle to trust) and `CANARYKIT_KUBE_INSECURE_SKIP_TLS_VERIFY=true`;
 * - in a pod, as client-go's rest.InClusterConfig: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
 *   the token and ca.crt of /var/run/secrets/kubernetes.io/serviceaccount (the token file is read
 *   again for each request, as client-go refreshes it).
 */
export const KUBE_ENV = {
  url: 'CANARYKIT_KUBE_API_URL',
  token: 'CANARYKIT_KUBE_TOKEN',
  caFile: 'CANARYKIT_KUBE_CA_FILE',
  insecure: 'CANARYKIT_KUBE_INSECURE_SKIP_TLS_VERIFY',
} as const;

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where and how to reach the API server (client-go's rest.Config, the parts canarykit uses). */
export interface KubeConfig {
  /** Base URL; a path is kept as a prefix (client-go's Host). */
  server: string;
  /** Static Bearer token (BearerToken). */
  token?: string;
  /** Token file read for every request (BearerTokenFile); wins over `token` when readable. */
  tokenFile?: string;
  /** PEM file of the CAs to trust (TLSClientConfig.CAFile). */
  caFile?: string;
  /** Skip certificate verification (TLSClientConfig.Insecure). */
  insecure: boolean;
  /** Which configuration this is, for messages. */
  origin: 'env' | 'in-cluster';
}

/** The driver's Kubernetes API configuration. @throws ConfigError when there is none. */
export function kubeConfigFromEnv(env: NodeJS.ProcessEnv, serviceAccountDir = SERVICE_ACCOUNT_DIR): KubeConfig {
  const url = env[KUBE_ENV.url];
  const insecureText = env[KUBE_ENV.insecure] ?? '';
  if (insecureText !== '' && !/^(true|false|1|0)$/i.test(insecureText)) {
    throw new ConfigError(`${KUBE_ENV.insecure} must be true or false (got "${insecureText}")`);
  }
  const insecure = /^(true|1)$/i.test(insecureText);
  if (url) {
    return { server: url, token: env[KUBE_ENV.token] || undefined, caFile: env[KUBE_ENV.caFile] || undefined, insecure, origin: 'env' };
  }
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ConfigError(
      `no Kubernetes API to ask: run the driver in a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set there) ` +
        `or set ${KUBE_ENV.url} and ${KUBE_ENV.token}`,
    );
  }
  const tokenFile = `${serviceAccountDir}/token`;
  let token: string;
  try {
    token = fs.readFileSync(tokenFile, 'utf8');
  } catch (e) {
    throw new ConfigError(`in-cluster Kubernetes configuration: cannot read the service account token ${tokenFile} (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the driver's pod a token (automountServiceAccountToken: true, or a projected serviceAccountToken volume) or set ${KUBE_ENV.url} and ${KUBE_ENV.token}`);
  }
  const caFile = `${serviceAccountDir}/ca.crt`;
  // client-go logs and goes on without the CA when ca.crt is unreadable.
  const hasCa = fs.existsSync(caFile);
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { server: `https://${hostPort}`, token, tokenFile, caFile: hasCa ? caFile : undefined, insecure: false, origin: 'in-cluster' };
}

/**
 * client-go's DefaultServerURL: a host without a scheme gets https when TLS is configured (a CA
 * or insecure), http otherwise; such a host must not carry a path.
 * @throws ConfigError for an address client-go refuses.
 */
export function serverUrl(host: string, tls: boolean): URL {
  if (host === '') throw new ConfigError('the Kubernetes API address is empty: host must be a URL or a host:port pair');
  let url: URL | undefined;
  try {
    const u = new URL(host);
    if (u.host !== '' && /^[a-z][a-z0-9+.-]*:\/\//i.test(host)) url = u;
  } catch {
    // Not a URL with a scheme: a host:port pair.
  }
  if (!url) {
    try {
      url = new URL(`${tls ? 'https' : 'http'}://${host}`);
    } catch {
      throw new ConfigError(`Kubernetes API address "${host}" is not a URL or a host:port pair`);
    }
    if (url.pathname !== '' && url.pathname !== '/') throw new ConfigError(`Kubernetes API address "${host}": host must be a URL or a host:port pair`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`Kubernetes API address "${host}" must be an http or https URL`);
  if (url.username !== '' || url.password !== '') throw new ConfigError(`Kubernetes API address ${url.origin} must not embed credentials`);
  return url;
}

/** A JSON answer of the API server. */
export interface KubeResponse {
  status: number;
  body: unknown;
}

/** A Kubernetes metav1.Status failure, as the API server answers 4xx/5xx. */
interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/** Per-request settings. */
export interface RequestOptions {
  query?: Record<string, string>;
  /** Replaces the client's timeout for this request (a shorter deadline of the caller). */
  timeoutMs?: number;
}

export interface KubeClientOptions {
  /** Whole-request timeout in milliseconds. */
  timeoutMs: number;
  /** Names the provider in error messages (`keptn`, `externalmetrics`). */
  provider: string;
  /** The Accept header (client-go's dynamic client: application/json; typed clients: `application/json, *\/*`). */
  accept?: string;
}

/**
 * JSON requests to one API server. Failures throw MetricsError: unreachable, timeout, `bad-query`
 * for 400/422 (the server refused what was asked), `http` for other statuses, `bad-response` for
 * an answer that is not JSON. Messages carry the server's Status reason and message, redacted, and
 * never a token.
 */
export class KubeClient {
  readonly address: string;
  private readonly base: URL;
  private readonly dispatcher?: Agent;
  private readonly staticSecrets: string[];

  constructor(private readonly config: KubeConfig, private readonly options: KubeClientOptions) {
    const tls = config.caFile !== undefined || config.insecure;
    this.base = serverUrl(config.server, tls);
    this.address = this.base.href.replace(/\/$/, '');
    this.staticSecrets = config.token ? [config.token.trim(), config.token] : [];
    if (this.base.protocol === 'https:' && (config.caFile !== undefined || config.insecure)) {
      let ca: string | undefined;
      if (config.caFile !== undefined && !config.insecure) {
        try {
          ca = fs.readFileSync(config.caFile, 'utf8');
        } catch (e) {
          throw new ConfigError(`cannot read the Kubernetes API CA file ${config.caFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
      // undici only when TLS needs settings: most ticks never ask the cluster.
      this.dispatcher = config.insecure ? insecureDispatcher() : new (require('undici') as typeof import('undici')).Agent({ connect: { ca } });
    }
  }

  /** The client's whole-request timeout in milliseconds. */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** GET `path` (absolute, e.g. `/apis/metrics.keptn.sh/v1beta1/...`) with optional query parameters. */
  get(path: string, o: RequestOptions = {}): Promise<KubeResponse> {
    return this.request('GET', path, o);
  }

  post(path: string, body: unknown, o: RequestOptions = {}): Promise<KubeResponse> {
    return this.request('POST', path, { ...o, body });
  }

  delete(path: string, body: unknown, o: RequestOptions = {}): Promise<KubeResponse> {
    return this.request('DELETE', path, { ...o, body });
  }

  /** One request; throws MetricsError for transport failures and statuses >= 400. */
  async request(method: string, path: string, o: RequestOptions & { body?: unknown } = {}): Promise<KubeResponse> {
    const { query, body } = o;
    const timeoutMs = o.timeoutMs ?? this.options.timeoutMs;
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    if (query && Object.keys(query).length > 0) url.search = new URLSearchParams(query).toString();
    const token = this.currentToken();
    const secrets = [...this.staticSecrets, ...(token ? [token] : [])];
    const headers: Record<string, string> = { Accept: this.options.accept ?? 'application/json', 'User-Agent': 'canarykit' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let answer: HttpAnswer;
    try {
      answer = await exchange(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, { timeoutMs, dispatcher: this.dispatcher });
    } catch (err) {
      if (err instanceof TransportFailure) throw this.error(err.kind, `${method} ${path}: ${err.message}`, secrets);
      throw err;
    }
    const { status } = answer;
    const text = answer.body.text;
    const note = truncationNote(answer.body);
    if (status >= 400) {
      const kind: MetricsErrorKind = status === 400 || status === 422 ? 'bad-query' : 'http';
      throw this.error(kind, `${method} ${path}: HTTP ${status}: ${excerpt(statusText(text), 300, secrets)}${note}`, secrets, status);
    }
    if (note) throw this.error('bad-response', `${method} ${path}: the answer is not a Kubernetes object${note}`, secrets, status);
    if (text.trim() === '') return { status, body: undefined };
    try {
      return { status, body: JSON.parse(text) };
    } catch {
      throw this.error('bad-response', `${method} ${path}: the answer is not JSON: ${excerpt(text, 200, secrets)}`, secrets, status);
    }
  }

  /** The token to send: the token file's content when readable (client-go's refresh), else the static token. */
  private currentToken(): string | undefined {
    if (this.config.tokenFile !== undefined) {
      try {
        const t = fs.readFileSync(this.config.tokenFile, 'utf8').trim();
        if (t !== '') return t;
      } catch {
        // client-go keeps the token it has when the file cannot be read.
      }
    }
    return this.config.token?.trim() || undefined;
  }

  /** A MetricsError naming the provider and the API server, credentials removed. */
  error(kind: MetricsErrorKind, detail: string, secrets: readonly string[] = this.staticSecrets, status?: number): MetricsError {
    return new MetricsError(kind, redact(`${this.options.provider} request to Kubernetes API ${this.address} failed: ${detail}`, secrets), this.address, status);
  }
}

/** `Reason: message` of a metav1.Status body, or the body itself when it is not one. */
function statusText(body: string): string {
  try {
    const s = JSON.parse(body) as KubeStatus;
    if (s && s.kind === 'Status' && typeof s.message === 'string') return s.reason ? `${s.reason}: ${s.message}` : s.message;
  } catch {
    // Not JSON: a proxy's page; shown as is.
  }
  return body;
}
