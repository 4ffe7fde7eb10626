import { MetricsError, MetricsErrorKind, UserError } from '../../errors';
import { MetricProviderPlan, PlannedMetric } from '../../model/plan';
import { MetricSource } from '../metrics/source';

/** Inclusive bounds of a metric check. */
export interface ThresholdRange {
  min?: number;
  max?: number;
}

interface CheckBase {
  /** The metric's name as written in the analysis spec. */
  metric: string;
  thresholdRange: ThresholdRange;
  unit?: PlannedMetric['unit'];
  /** One human sentence: what was measured and why it passed or not. */
  message: string;
}

/**
 * The result of one metric check. Only `pass` lets a rollout advance; `fail`, `no-data` and
 * `error` each count as a failed check (Flagger §3.7).
 */
export type CheckResult =
  | (CheckBase & { outcome: 'pass' | 'fail'; value: number })
  | (CheckBase & { outcome: 'no-data' })
  | (CheckBase & { outcome: 'error'; errorKind: MetricsErrorKind | 'config' });

/**
 * Judges a measured value against the metric's range, or, without a range, against Flagger's
 * deprecated `threshold` (scheduler_metrics.go runBuiltinMetricChecks / runMetricChecks:
 * request-success-rate fails when threshold > value, every other metric when value > threshold).
 * Millisecond values and bounds are truncated to integers first, because Flagger compares
 * durations as whole milliseconds.
 */
export function judgeValue(metric: PlannedMetric, measured: number): CheckResult {
  const ms = metric.unit === 'milliseconds';
  const whole = (n: number | undefined): number | undefined => (n === undefined ? undefined : ms ? Math.trunc(n) : n);
  const value = whole(measured) as number;
  const base = { metric: metric.name, thresholdRange: metric.thresholdRange, unit: metric.unit, value };
  const shown = `metric "${metric.name}" value ${formatValue(value, metric.unit)}`;
  if (metric.threshold !== undefined) {
    const threshold = whole(metric.threshold) as number;
    const atLeast = metric.builtin && metric.name === 'request-success-rate';
    if (atLeast ? value < threshold : value > threshold) {
      return { ...base, outcome: 'fail', message: `${shown} is ${atLeast ? 'below' : 'above'} the threshold ${formatValue(threshold, metric.unit)}` };
    }
    return { ...base, outcome: 'pass', message: `${shown} is ${atLeast ? 'at least' : 'at most'} the threshold ${formatValue(threshold, metric.unit)}` };
  }
  const min = whole(metric.thresholdRange.min);
  const max = whole(metric.thresholdRange.max);
  if (min !== undefined && value < min) {
    return { ...base, outcome: 'fail', message: `${shown} is below the minimum ${formatValue(min, metric.unit)}` };
  }
  if (max !== undefined && value > max) {
    return { ...base, outcome: 'fail', message: `${shown} is above the maximum ${formatValue(max, metric.unit)}` };
  }
  const range = describeRange(metric.thresholdRange, metric.unit);
  return { ...base, outcome: 'pass', message: range === '' ? `${shown} (no bounds)` : `${shown} is within ${range}` };
}

/**
 * Runs one planned metric's query and judges it. Never throws for query problems: they become
 * `no-data` or `error` results so every metric of a tick is reported.
 */
export async function checkMetric(metric: PlannedMetric, client: Pick<MetricSource, 'query' | 'address'>, at?: Date): Promise<CheckResult> {
  try {
    const result = await client.query(metric.query, at);
    // NaN passes every bound; whatever the provider, it is no data (prometheus.go reads NaN so).
    if (result.kind === 'no-data' || Number.isNaN(result.value)) return noData(metric);
    return judgeValue(metric, result.value);
  } catch (err) {
    return errorResult(metric, err, client.address);
  }
}

/**
 * Checks every metric of a plan, in spec order, and returns all results. `clientFor` supplies a
 * client per provider (see `clientForProvider`); if it throws (e.g. missing credentials) that
 * metric's result is an `error`, as Flagger fails a check whose provider cannot be built.
 */
export async function checkMetrics(
  metrics: readonly PlannedMetric[],
  clientFor: (provider: MetricProviderPlan) => Pick<MetricSource, 'query' | 'address'>,
  at?: Date,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const metric of metrics) {
    let client: Pick<MetricSource, 'query' | 'address'>;
    try {
      client = clientFor(metric.provider);
    } catch (err) {
      results.push(errorResult(metric, err, metric.provider.address ?? metric.provider.type));
      continue;
    }
    results.push(await checkMetric(metric, client, at));
  }
  return results;
}

/**
 * The few words a commit subject has room for, numbers kept: `request-success-rate 95 < 99`,
 * `request-duration 612ms > 500ms`, `request-success-rate: no data`, `request-duration: query failed`.
 */
export function shortCheck(result: CheckResult): string {
  switch (result.outcome) {
    case 'pass':
    case 'fail': {
      const { min, max } = result.thresholdRange;
      const ms = result.unit === 'milliseconds';
      const bound = (b: number) => formatValue(ms ? Math.trunc(b) : b, result.unit);
      const value = formatValue(result.value, result.unit);
      if (result.outcome === 'fail' && min !== undefined && result.value < (ms ? Math.trunc(min) : min)) return `${result.metric} ${value} < ${bound(min)}`;
      if (result.outcome === 'fail' && max !== undefined) return `${result.metric} ${value} > ${bound(max)}`;
      return `${result.metric} ${value}`;
    }
    case 'no-data':
      return `${result.metric}: no data`;
    case 'error':
      return `${result.metric}: query failed`;
    default: {
      const never: never = result;
      return never;
    }
  }
}

/** One line for commit bodies, e.g. `request-success-rate: 99.5 (min 99) pass`. */
export function describeCheck(result: CheckResult): string {
  const measured =
    result.outcome === 'pass' || result.outcome === 'fail'
      ? formatValue(result.value, result.unit)
      : result.outcome === 'no-data'
        ? 'no data'
        : 'query failed';
  const range = describeRange(result.thresholdRange, result.unit);
  return `${result.metric}: ${measured}${range === '' ? '' : ` (${range})`} ${result.outcome}`;
}

function noData(metric: PlannedMetric): CheckResult {
  // Built-in metrics only measure canary traffic; a custom query may also simply match no series.
  const cause = metric.builtin
    ? 'is the canary receiving traffic?'
    : 'is the canary receiving traffic, and does the query select any series?';
  return {
    metric: metric.name,
    thresholdRange: metric.thresholdRange,
    unit: metric.unit,
    outcome: 'no-data',
    message: `no values found for metric "${metric.name}": ${cause}`,
  };
}

function errorResult(metric: PlannedMetric, err: unknown, address: string): CheckResult {
  const base = { metric: metric.name, thresholdRange: metric.thresholdRange, unit: metric.unit, outcome: 'error' as const };
  if (err instanceof MetricsError) {
    // The client's message already names the address and carries no credentials.
    return { ...base, errorKind: err.kind, message: `metric "${metric.name}": ${err.message}` };
  }
  if (err instanceof UserError) {
    return { ...base, errorKind: 'config', message: `metric "${metric.name}" (${providerLabel(metric)} at ${address}): ${err.message}` };
  }
  throw err;
}

/** `Prometheus`, `datadog`…: how messages name a metric's provider. */
function providerLabel(metric: PlannedMetric): string {
  return metric.provider.type === 'prometheus' ? 'Prometheus' : metric.provider.type;
}

export function describeRange(range: ThresholdRange, unit: PlannedMetric['unit']): string {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`min ${formatValue(range.min, unit)}`);
  if (range.max !== undefined) parts.push(`max ${formatValue(range.max, unit)}`);
  return parts.join(', ');
}

export function formatValue(value: number, unit: PlannedMetric['unit']): string {
  // Hide float noise such as 95.00000000000001, but keep small ratios like 0.000125 readable.
  const text =
    !Number.isFinite(value) || Number.isInteger(value)
      ? String(value)
      : Math.abs(value) >= 1
        ? String(Math.round(value * 1e4) / 1e4)
        : String(Number(value.toPrecision(6)));
  return unit === 'milliseconds' ? `${text}ms` : text;
}
