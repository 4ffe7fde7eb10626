import { randomUUID } from 'crypto';
import { MetricsError } from '../../errors';
import { KEPTN_SPEC } from '../../model/metric-providers/keptn';
import { parseGoFloat } from './go-float';
import { KubeClient, KubeConfig, kubeConfigFromEnv } from './kube-api';
import { MetricProviderModule, MetricSource, MetricSourceContext, QueryValue } from './source';

/** keptn.go: the Keptn metrics API group and version. */
export const KEPTN_GROUP_VERSION = 'metrics.keptn.sh/v1beta1';

/** A parsed keptn query (keptn.go parseQuery). */
export type KeptnQuery =
  | { resource: 'keptnmetrics'; namespace: string; name: string }
  | { resource: 'analyses'; namespace: string; name: string; timeframe: string; args: Record<string, string> };

const FORMAT = 'query must be in the format <keptnmetric|analysis>/<namespace>/<resourceName>/<duration>/<arguments>';

/**
 * keptn.go parseQuery: the query lower-cased, one trailing newline and surrounding spaces removed,
 * split at `/`: `keptnmetric|keptnmetrics/<ns>/<name>` (further parts ignored) or
 * `analysis|analyses/<ns>/<name>[/<timeframe, default 1m>[/<k=v;k=v>]]`; an argument that is not
 * exactly one `k=v` pair is skipped.
 * @throws Error with Flagger's text for any other shape.
 */
export function parseKeptnQuery(query: string): KeptnQuery {
  let q = query.toLowerCase();
  if (q.endsWith('\n')) q = q.slice(0, -1);
  const split = q.trim().split('/');
  if (split.length < 3) throw new Error(`unexpected query format. ${FORMAT}`);
  const [kind, namespace, name] = split;
  switch (kind) {
    case 'keptnmetric':
    case 'keptnmetrics':
      return { resource: 'keptnmetrics', namespace, name };
    case 'analysis':
    case 'analyses': {
      const args: Record<string, string> = {};
      if (split.length >= 5) {
        for (const arg of split[4].split(';')) {
          const kv = arg.split('=');
          if (kv.length === 2) args[kv[0]] = kv[1];
        }
      }
      return { resource: 'analyses', namespace, name, timeframe: split.length >= 4 ? split[3] : '1m', args };
    }
    default:
      throw new Error("unexpected resource kind provided in the query. must be one of: ['keptnmetric', 'analysis']");
  }
}

/** The REST path of a namespaced metrics.keptn.sh resource (client-go's dynamic client). */
export function keptnPath(resource: KeptnQuery['resource'], namespace: string, name?: string): string {
  const ns = namespace === '' ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `/apis/${KEPTN_GROUP_VERSION}${ns}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** How long an Analysis may take and how often it is read (keptn.go: 10 s, every second). */
export interface AnalysisTiming {
  timeoutMs: number;
  pollMs: number;
}

export const FLAGGER_ANALYSIS_TIMING: AnalysisTiming = { timeoutMs: 10_000, pollMs: 1_000 };

/**
 * pkg/metrics/providers/keptn.go against the Kubernetes API: a KeptnMetric's `status.value`, or a
 * fresh Analysis created, read every `pollMs` until `status.state` is Completed with a boolean
 * `status.pass` (1 passed, 0 failed) and deleted afterwards. IsOnline always succeeds, as Flagger's.
 */
export function keptnSource(config: KubeConfig, ctx: Pick<MetricSourceContext, 'timeoutMs'>, timing: AnalysisTiming = FLAGGER_ANALYSIS_TIMING): MetricSource {
  const client = new KubeClient(config, { timeoutMs: ctx.timeoutMs, provider: 'keptn' });
  return {
    address: client.address,
    async query(query): Promise<QueryValue> {
      let parsed: KeptnQuery;
      try {
        parsed = parseKeptnQuery(query);
      } catch (e) {
        throw client.error('bad-query', `query "${query.trim()}": ${(e as Error).message}`);
      }
      const value = parsed.resource === 'keptnmetrics' ? await keptnMetric(client, parsed) : await analysis(client, parsed, timing);
      return { kind: 'value', value };
    },
    // keptn.go IsOnline: "should we check for the keptn deployment to be up and running in the cluster?"
    async isOnline() {},
  };
}

/** keptn.go queryKeptnMetric. */
async function keptnMetric(client: KubeClient, q: KeptnQuery): Promise<number> {
  const where = `${q.namespace}/${q.name}`;
  const { body } = await withContext(`could not retrieve KeptnMetric ${where}`, () => client.get(keptnPath('keptnmetrics', q.namespace, q.name)));
  const value = (body as { status?: { value?: unknown } } | undefined)?.status?.value;
  if (typeof value !== 'string') throw client.error('bad-response', `could not retrieve KeptnMetric - no value found in resource ${where}`);
  const n = parseGoFloat(value);
  if (n === undefined) throw client.error('bad-response', `could not parse value of KeptnMetric ${where} to float: "${value.slice(0, 64)}"`);
  return n;
}

/** keptn.go queryKeptnAnalysis. */
async function analysis(client: KubeClient, q: Extract<KeptnQuery, { resource: 'analyses' }>, timing: AnalysisTiming): Promise<number> {
  const where = `${q.namespace}/${q.name}`;
  const deadline = Date.now() + timing.timeoutMs;
  const object = {
    apiVersion: KEPTN_GROUP_VERSION,
    kind: 'Analysis',
    metadata: { name: `${q.name}-${randomUUID().slice(0, 6)}`, namespace: q.namespace },
    spec: { analysisDefinition: { name: q.name }, timeframe: { recent: q.timeframe }, args: q.args },
  };
  const created = await withContext(`could not create Keptn Analysis ${where}`, () =>
    client.post(keptnPath('analyses', q.namespace), object, { timeoutMs: Math.min(timing.timeoutMs, client.timeoutMs) }),
  );
  const createdName = (created.body as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  const name = typeof createdName === 'string' && createdName !== '' ? createdName : object.metadata.name;
  try {
    const timedOut = () => client.error('timeout', `encountered timeout while waiting for Keptn Analysis ${where} to be finished`);
    for (;;) {
      // keptn.go: the context's deadline, or another second and a GET bounded by that deadline.
      if (deadline - Date.now() < timing.pollMs) throw timedOut();
      await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw timedOut();
      const boundByDeadline = remaining < client.timeoutMs;
      let body: unknown;
      try {
        ({ body } = await client.get(keptnPath('analyses', q.namespace, name), { timeoutMs: Math.min(remaining, client.timeoutMs) }));
      } catch (e) {
        if (e instanceof MetricsError && e.kind === 'timeout' && boundByDeadline) throw timedOut();
        if (e instanceof MetricsError) throw new MetricsError(e.kind, `could not check status of created Keptn Analysis ${where}: ${e.message}`, e.address, e.status);
        throw e;
      }
      const status = (body as { status?: Record<string, unknown> } | undefined)?.status;
      if (status === undefined || status === null) continue;
      if (typeof status !== 'object') throw client.error('bad-response', `could not check status of created Keptn Analysis ${where}: .status is not an object`);
      const state = status.state;
      if (state !== undefined && typeof state !== 'string') throw client.error('bad-response', `could not check status of created Keptn Analysis ${where}: .status.state is not a string`);
      if (state !== 'Completed') continue;
      const pass = status.pass;
      if (pass === undefined) continue;
      if (typeof pass !== 'boolean') throw client.error('bad-response', `could not check status of created Keptn Analysis ${where}: .status.pass is not a boolean`);
      return pass ? 1 : 0;
    }
  } finally {
    // keptn.go deletes the Analysis it created whatever happened, and only logs a failed delete.
    await client.delete(keptnPath('analyses', q.namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1' }).catch(() => undefined);
  }
}

/** Runs a request, prefixing a MetricsError's message with what was being done (Flagger's wording). */
async function withContext<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof MetricsError) throw new MetricsError(e.kind, `${what}: ${e.message}`, e.address, e.status);
    throw e;
  }
}

/** Go's strconv.ParseFloat for a KeptnMetric's value (go-float.ts), re-exported for this module's callers. */
export { parseGoFloat };

/** The keptn module: the driver's Kubernetes credentials (kube-api.ts), never the template's. */
export const KEPTN: MetricProviderModule<'keptn'> = {
  spec: KEPTN_SPEC,
  connect(_provider, ctx) {
    return keptnSource(kubeConfigFromEnv(ctx.env), ctx);
  },
};
