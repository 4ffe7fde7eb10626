import { CheckResult, describeRange, formatValue } from '../adapters/prometheus/metric-check';
import { Phase } from '../model/phase';
import { PlannedMetric } from '../model/plan';

/**
 * What a reviewer sees in a stage pull request (and in the stage commit's body): the weight
 * history of the run as a mermaid `xychart-beta` (GitHub and GitLab render it), a table of this
 * tick's checks with value, threshold and verdict, and per metric a link to the Prometheus graph
 * of its query over the run. Pure text builders; the driver supplies the history.
 */

/** One stage of the run so far. */
export interface WeightPoint {
  time: Date;
  phase: Phase;
  /** Canary weight; the primary has 100 - weight. */
  weight: number;
}

/** Points beyond this are dropped from the start of the chart (a body must stay small). */
export const MAX_CHART_POINTS = 60;

/** `HH:MM` in UTC: short x-axis labels; the run's date is in the chart title. */
function clock(t: Date): string {
  return t.toISOString().slice(11, 16);
}

/** The mermaid chart of canary and primary weight over the run. */
export function weightChart(canary: string, points: readonly WeightPoint[]): string {
  const shown = points.slice(-MAX_CHART_POINTS);
  const skipped = points.length - shown.length;
  const day = shown[0]?.time.toISOString().slice(0, 10) ?? '';
  const labels = shown.map((p) => `"${clock(p.time)}"`).join(', ');
  return [
    `Weight history of this run (canary, then primary; UTC ${day}${skipped > 0 ? `, last ${shown.length} of ${points.length} stages` : ''}):`,
    '',
    '```mermaid',
    'xychart-beta',
    `  title "${canary.replace(/"/g, "'")} traffic weight (%)"`,
    `  x-axis [${labels}]`,
    '  y-axis "weight (%)" 0 --> 100',
    `  line [${shown.map((p) => p.weight).join(', ')}]`,
    `  line [${shown.map((p) => 100 - p.weight).join(', ')}]`,
    '```',
  ].join('\n');
}

/** Markdown table cell text: no pipes or newlines. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

/** Human verdict of a check. */
export function verdictOf(check: CheckResult): string {
  return check.outcome === 'no-data' ? 'no data' : check.outcome === 'error' ? 'error' : check.outcome;
}

/** The measured value of a check as text (`-` without one). */
export function measuredText(check: CheckResult): string {
  return check.outcome === 'pass' || check.outcome === 'fail' ? formatValue(check.value, check.unit) : '-';
}

/** The table of this tick's metric checks. */
export function checksTable(checks: readonly CheckResult[]): string {
  const rows = checks.map((c) => `| ${cell(c.metric)} | ${cell(measuredText(c))} | ${cell(describeRange(c.thresholdRange, c.unit) || 'none')} | ${verdictOf(c)} |`);
  return ['| check | value | threshold | verdict |', '|---|---|---|---|', ...rows].join('\n');
}

/**
 * Link to Prometheus's graph page for `query` over [from, to]: the `g0.*` parameters both the
 * classic and the new Prometheus UI read.
 */
export function prometheusGraphUrl(address: string, query: string, from: Date, to: Date): string {
  const minutes = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 60_000));
  const end = to.toISOString().slice(0, 19).replace('T', ' ');
  const params = new URLSearchParams({ 'g0.expr': query.replace(/\s+/g, ' ').trim(), 'g0.tab': '0', 'g0.range_input': `${minutes}m`, 'g0.end_input': end });
  return `${address.replace(/\/+$/, '')}/graph?${params}`;
}

/** One link per metric to its query over the run. */
export function metricLinks(metrics: readonly PlannedMetric[], from: Date, to: Date, addressOverride?: string): string {
  // Prometheus has a graph page to link to; other providers' metrics are named with their type.
  const links = metrics.map((m) =>
    m.provider.type === 'prometheus' && (addressOverride ?? m.provider.address)
      ? `- [${m.name}](${prometheusGraphUrl((addressOverride ?? m.provider.address) as string, m.query, from, to)})`
      : `- ${m.name} (${m.provider.type})`,
  );
  return ['Prometheus graphs over the run:', ...links].join('\n');
}

export interface ReviewInput {
  canary: string;
  /** The run so far, ending with the stage being proposed; empty when no run is going on. */
  points: readonly WeightPoint[];
  checks: readonly CheckResult[];
  metrics: readonly PlannedMetric[];
  prometheusAddress?: string;
}

/** The review paragraphs of a stage: chart, checks table, metric links (each only when it has content). */
export function reviewSections(input: ReviewInput): string[] {
  const out: string[] = [];
  if (input.points.length > 0) out.push(weightChart(input.canary, input.points));
  if (input.checks.length > 0) out.push(checksTable(input.checks));
  if (input.points.length > 0 && input.metrics.length > 0) {
    // Start a minute before the first stage so the graph shows the traffic leading into it.
    const from = new Date(input.points[0].time.getTime() - 60_000);
    out.push(metricLinks(input.metrics, from, input.points[input.points.length - 1].time, input.prometheusAddress));
  }
  return out;
}
