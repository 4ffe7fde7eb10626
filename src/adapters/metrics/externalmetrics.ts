import { ConfigError } from '../../errors';
import { EXTERNALMETRICS_SPEC } from '../../model/metric-providers/externalmetrics';
import { MetricProviderPlan } from '../../model/plan';
import { KubeClient, KubeConfig, kubeConfigFromEnv } from './kube-api';
import { approximateFloat64, parseQuantity } from './kube-quantity';
import { canonicalLabelSelector } from './label-selector';
import { MetricProviderModule, MetricSource, MetricSourceContext, QueryValue } from './source';

/** The External Metrics API (k8s.io/metrics external_metrics client). */
export const EXTERNAL_METRICS_API = '/apis/external.metrics.k8s.io/v1beta1';

/** A parsed externalmetrics query. */
export interface ExternalMetricsQuery {
  namespace: string;
  metricName: string;
  /** labels.Parse(...).String(); empty for Everything. */
  labelSelector: string;
}

const EXPECTED = 'expected <namespace>/<metricName>?labelSelector=<urlencoded label selectors>';

/**
 * externalmetrics.go parseExternalMetricsQuery: `[<namespace>/]<metricName>[?labelSelector=<url-encoded>]`
 * read as the path and query of `dummy:///<query>` (Go's url.Parse: fragment cut, path
 * %-decoded, query parameters decoded with `+` as space); namespace `default` when absent or
 * empty; the selector parsed by labels.Parse.
 * @throws Error with Flagger's text.
 */
export function parseExternalMetricsQuery(query: string): ExternalMetricsQuery {
  const malformed = new Error(`malformed query string, ${EXPECTED}, got ${query}`);
  if (/[\x00-\x1f\x7f]/.test(query)) throw malformed;
  const [beforeFragment] = cut(query, '#');
  const [rawPath, rawQuery] = cut(beforeFragment, '?');
  const path = unescape(rawPath, false);
  if (path === undefined) throw malformed;
  const parts = path.split('/');
  if (parts.length > 2) throw new Error(`malformed query string, too many slashes, ${EXPECTED}, got ${query}`);
  let namespace = 'default';
  let metricName: string;
  if (parts.length === 1) metricName = parts[0];
  else {
    if (parts[0] !== '') namespace = parts[0];
    metricName = parts[1];
  }
  if (metricName === '') throw new Error('metric name cannot be empty');
  const raw = queryParam(rawQuery ?? '', 'labelSelector') ?? '';
  let labelSelector = '';
  if (raw !== '') {
    try {
      labelSelector = canonicalLabelSelector(raw);
    } catch (e) {
      throw new Error(`error parsing label selector from string ${raw}: ${(e as Error).message}`);
    }
  }
  return { namespace, metricName, labelSelector };
}

function cut(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Go's url unescape: `%XX` decoded (bad escapes refused); `+` is a space only in a query. */
function unescape(s: string, query: boolean): string | undefined {
  if (/%(?![0-9a-fA-F]{2})/.test(s)) return undefined;
  const bytes: number[] = [];
  const utf8 = Buffer.from(query ? s.replace(/\+/g, ' ') : s, 'utf8');
  for (let i = 0; i < utf8.length; i++) {
    if (utf8[i] === 0x25) {
      bytes.push(parseInt(String.fromCharCode(utf8[i + 1], utf8[i + 2]), 16));
      i += 2;
    } else bytes.push(utf8[i]);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** url.ParseQuery(...).Get(name): the first value; pairs with `;` or a bad escape are skipped. */
function queryParam(rawQuery: string, name: string): string | undefined {
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const [k, v] = cut(pair, '=');
    const key = unescape(k, true);
    const value = unescape(v ?? '', true);
    if (key === undefined || value === undefined) continue;
    if (key === name) return value;
  }
  return undefined;
}

/** Go's path escaping (url.URL.EscapedPath): unreserved characters and `$&+,/:;=@` stay as they are. */
function escapePath(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** client-go's IsValidPathSegmentName: the reason a namespace or resource name cannot be a path segment. */
function segmentProblem(s: string): string | undefined {
  if (s === '.' || s === '..') return `may not be '${s}'`;
  if (s.includes('/') || s.includes('%')) return "may not contain '/' or '%'";
  return undefined;
}

/** The GET path and parameters of NamespacedMetrics(namespace).List(metricName, selector). */
export function externalMetricsRequest(q: ExternalMetricsQuery): { path: string; query: Record<string, string> } {
  return {
    path: `${EXTERNAL_METRICS_API}/namespaces/${escapePath(q.namespace)}/${escapePath(q.metricName)}`,
    query: q.labelSelector === '' ? {} : { labelSelector: q.labelSelector },
  };
}

/**
 * NewExternalMetricsProvider's rest config: the driver's (kube-api.ts), the template's address as
 * host, its insecureSkipVerify as the TLS setting, the Secret's token as Bearer token.
 * @throws ConfigError when the template names a Secret whose token is not set, or there is no
 *   configuration to start from.
 */
export function externalMetricsConfig(provider: MetricProviderPlan, ctx: Pick<MetricSourceContext, 'env' | 'credentials' | 'credentialHint'>): KubeConfig {
  const token = ctx.credentials.token;
  if (provider.secretRef !== undefined && token === undefined) {
    throw new ConfigError(`externalmetrics provider uses Secret "${provider.secretRef}" for its token: ${ctx.credentialHint('token')}`);
  }
  let base: KubeConfig;
  try {
    base = kubeConfigFromEnv(ctx.env);
  } catch (e) {
    // Flagger always has its own config; the driver may not, and needs none for an address and token.
    if (!(e instanceof ConfigError) || !provider.address || token === undefined) throw e;
    base = { server: provider.address, insecure: false, origin: 'env' };
  }
  const config: KubeConfig = { ...base, server: provider.address || base.server, insecure: provider.insecureSkipVerify ?? false };
  // The Secret's token replaces the driver's. (client-go would go on preferring an in-cluster
  // token file over it; canarykit sends the token the template asks for.)
  if (token !== undefined) {
    config.token = token;
    delete config.tokenFile;
  }
  return config;
}

/**
 * pkg/metrics/providers/externalmetrics.go: RunQuery lists the external metric and reads the first
 * item's value (a Quantity, as AsApproximateFloat64); no items is no data. IsOnline lists
 * `kube-system/dummy-metric` and fails on any error.
 */
export function externalMetricsSource(config: KubeConfig, ctx: Pick<MetricSourceContext, 'timeoutMs'>): MetricSource {
  const client = new KubeClient(config, { timeoutMs: ctx.timeoutMs, provider: 'externalmetrics', accept: 'application/json, */*' });
  const list = async (q: ExternalMetricsQuery) => {
    for (const s of [q.namespace, q.metricName]) {
      const p = segmentProblem(s);
      if (p) throw client.error('bad-query', `error querying external metrics API: "${s}" ${p}`);
    }
    const { path, query } = externalMetricsRequest(q);
    return (await client.get(path, { query })).body;
  };
  return {
    address: client.address,
    async query(query): Promise<QueryValue> {
      let parsed: ExternalMetricsQuery;
      try {
        parsed = parseExternalMetricsQuery(query);
      } catch (e) {
        throw client.error('bad-query', `error parsing metric query: ${(e as Error).message}`);
      }
      const body = await list(parsed);
      if (body === null || typeof body !== 'object') throw client.error('bad-response', 'error querying external metrics API: the answer is not an ExternalMetricValueList');
      const items = (body as { items?: unknown }).items;
      if (items === undefined || items === null) return { kind: 'no-data' };
      if (!Array.isArray(items)) throw client.error('bad-response', 'error querying external metrics API: items is not a list');
      if (items.length < 1) return { kind: 'no-data' };
      const raw = (items[0] as { value?: unknown } | null)?.value;
      if (raw === undefined || raw === null) return { kind: 'value', value: 0 };
      if (typeof raw !== 'string' && typeof raw !== 'number') throw client.error('bad-response', 'error querying external metrics API: the first item\'s value is not a quantity');
      try {
        return { kind: 'value', value: approximateFloat64(parseQuantity(String(raw))) };
      } catch (e) {
        throw client.error('bad-response', `error querying external metrics API: value "${String(raw).slice(0, 64)}": ${(e as Error).message}`);
      }
    },
    async isOnline() {
      try {
        await list({ namespace: 'kube-system', metricName: 'dummy-metric', labelSelector: '' });
      } catch (e) {
        throw new Error(`external metrics service unavailable: ${(e as Error).message}`);
      }
    },
  };
}

/** The externalmetrics module. */
export const EXTERNALMETRICS: MetricProviderModule<'externalmetrics'> = {
  spec: EXTERNALMETRICS_SPEC,
  connect(provider, ctx) {
    return externalMetricsSource(externalMetricsConfig(provider, ctx), ctx);
  },
};
