import { Problem } from '../../errors';
import { METRIC_PROVIDER_TYPES, MetricProviderPlan, PlannedMetric, PlannedWebhook } from '../../model/plan';
import { metricProviderSpec } from '../../model/metric-providers';
import { ProviderName } from '../../providers/registry';
import { MetricOptions, WebhookOptions } from '../analysis-options';
import { BUILTIN_METRICS, isBuiltinMetric } from '../../model/builtin-metrics';
import { builtinQuery } from './builtin';
import { TemplateVars, renderQuery } from './template';


/** Values for Flagger's template functions, shared by every metric of one canary. */
export interface MetricContext {
  readonly provider: ProviderName;
  readonly metricsServer: string;
  readonly vars: Omit<TemplateVars, 'interval' | 'variables'>;
}

function intervalText(m: MetricOptions): string {
  if (!m.interval) return '1m';
  const s = m.interval.toSeconds({ integral: false });
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/**
 * Expands every metric into a ready-to-send query (built-in PromQL, MetricTemplate or inline query).
 * Flagger runs built-in and inline metrics first, then template metrics, each in spec order; a
 * metric named like a built-in that also has a template is checked twice, as in Flagger.
 */
export function planMetrics(metrics: readonly MetricOptions[], ctx: MetricContext): { metrics: PlannedMetric[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const defaultProvider: MetricProviderPlan = { type: 'prometheus', address: ctx.metricsServer };
  const seen = new Set<string>();
  const direct: PlannedMetric[] = [];
  const templated: PlannedMetric[] = [];
  metrics.forEach((m, i) => {
    const path = `analysis.metrics[${i}]`;
    if (!m.name) problems.push({ path: `${path}.name`, message: 'is required' });
    if (seen.has(m.name)) problems.push({ path: `${path}.name`, message: `duplicate metric name "${m.name}"` });
    seen.add(m.name);
    const range = m.thresholdRange ?? {};
    if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
      problems.push({ path: `${path}.thresholdRange`, message: `min ${range.min} is greater than max ${range.max}` });
    }
    const vars: TemplateVars = { ...ctx.vars, interval: intervalText(m), variables: { ...m.templateVariables } };
    const thresholdRange = { min: range.min, max: range.max };
    if (m.threshold !== undefined && !Number.isFinite(m.threshold)) problems.push({ path: `${path}.threshold`, message: `must be a number (got ${m.threshold})` });
    // scheduler_metrics.go: without thresholdRange, Flagger compares against the deprecated threshold (default 0).
    const fallback = m.thresholdRange === undefined ? { threshold: m.threshold ?? 0 } : {};
    try {
      if (isBuiltinMetric(m.name)) {
        const { query, unit } = builtinQuery(m.name, ctx.provider, vars);
        direct.push({ name: m.name, query, interval: vars.interval, thresholdRange, ...fallback, provider: defaultProvider, builtin: true, unit });
      } else if (m.query) {
        direct.push({ name: m.name, query: renderQuery(m.query, vars), interval: vars.interval, thresholdRange, ...fallback, provider: defaultProvider, builtin: false });
      } else if (!m.template) {
        problems.push({ path, message: `metric "${m.name}" is not built in (${BUILTIN_METRICS.join(', ')}); give it a template or a query` });
      }
      if (m.template) {
        const p = m.template.provider ?? {};
        const type = p.type ?? 'prometheus';
        const provider: MetricProviderPlan = {
          type,
          // The construct's default: the canary's own Prometheus (Flagger's CRD asks for an address).
          address: p.address ?? (type === 'prometheus' ? ctx.metricsServer : undefined),
          headers: p.headers,
          secretRef: p.secretRef,
          region: p.region,
          insecureSkipVerify: p.insecureSkipVerify,
        };
        const spec = metricProviderSpec(type);
        if (!spec) problems.push({ path: `${path}.template.provider.type`, message: `must be one of ${METRIC_PROVIDER_TYPES.join(', ')} (got ${JSON.stringify(type)})` });
        else for (const f of spec.validate(provider)) problems.push({ path: `${path}.template.provider.${f.field}`, message: f.message });
        templated.push({
          name: m.name,
          query: renderQuery(m.template.query, vars),
          interval: vars.interval,
          thresholdRange,
          ...fallback,
          builtin: false,
          template: true,
          templateRef: { name: m.template.name, namespace: m.template.namespace ?? ctx.vars.namespace },
          provider: dropUndefined(provider),
        });
      }
    } catch (e) {
      problems.push({ path, message: (e as Error).message });
    }
  });
  return { metrics: [...direct, ...templated], problems };
}

/** The plan JSON keeps only the fields that are set, so plans of unchanged canaries stay byte-identical. */
function dropUndefined(p: MetricProviderPlan): MetricProviderPlan {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as MetricProviderPlan;
}

const MAX_WEBHOOK_TIMEOUT_SECONDS = 3600;
const MAX_WEBHOOK_RETRIES = 20;

/** Webhooks with defaults applied (type rollout, timeout 10s, retries 0). */
export function planWebhooks(hooks: readonly WebhookOptions[]): { webhooks: PlannedWebhook[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const webhooks = hooks.map((h, i) => {
    const path = `analysis.webhooks[${i}]`;
    if (!h.name) problems.push({ path: `${path}.name`, message: 'is required' });
    if (!/^https?:\/\//.test(h.url ?? '')) problems.push({ path: `${path}.url`, message: `must be an http(s) URL (got ${JSON.stringify(h.url)})` });
    // Bounds keep a tick finite: every attempt waits up to the timeout, with backoff in between.
    if (h.retries !== undefined && (!Number.isInteger(h.retries) || h.retries < 0 || h.retries > MAX_WEBHOOK_RETRIES)) {
      problems.push({ path: `${path}.retries`, message: `must be an integer from 0 to ${MAX_WEBHOOK_RETRIES} (got ${h.retries})` });
    }
    const timeoutSeconds = h.timeout ? h.timeout.toSeconds({ integral: false }) : 10;
    if (!(timeoutSeconds > 0 && timeoutSeconds <= MAX_WEBHOOK_TIMEOUT_SECONDS)) {
      problems.push({ path: `${path}.timeout`, message: `must be more than 0s and at most ${MAX_WEBHOOK_TIMEOUT_SECONDS}s (got ${timeoutSeconds}s)` });
    }
    const hook: PlannedWebhook = {
      name: h.name,
      type: h.type ?? 'rollout',
      url: h.url,
      timeoutSeconds,
      retries: h.retries ?? 0,
    };
    if (h.metadata && Object.keys(h.metadata).length) hook.metadata = { ...h.metadata };
    if (h.muteAlert) hook.muteAlert = true;
    if (h.disableTLS) hook.disableTLS = true;
    return hook;
  });
  return { webhooks, problems };
}
