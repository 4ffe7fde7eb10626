import { ConfigError, PrometheusError, UserError } from '../errors';
import { CanarykitConfig } from '../adapters/config';
import { AnalysisPlan, PlannedMetric, WebhookType } from '../model/plan';
import { RangeSeries, clientForProvider } from '../adapters/prometheus/client';
import { PlanEntry } from '../adapters/repo-files';
import { Run, StageRecord, canaryHistory, readStageHistory, runsOf } from '../adapters/git/stage-history';

/**
 * What `canarykit report` shows of one run, gathered from git (stage commits) and Prometheus
 * (`query_range` of each metric over the run). Rendering is src/driver/report-html.ts.
 */

export interface HookOutcome {
  time: Date;
  stage: string;
  type: WebhookType;
  message: string;
  ok: boolean;
}

export interface MetricSeries {
  metric: PlannedMetric;
  series: RangeSeries[];
  /** Why Prometheus could not be asked (the page says so instead of a chart). */
  error?: string;
}

export interface ReportData {
  canary: string;
  plan: AnalysisPlan;
  run: Run;
  /** Every stage of the run, with the one it started from first when known. */
  points: StageRecord[];
  from: Date;
  to: Date;
  hooks: HookOutcome[];
  metrics: MetricSeries[];
}

const HOOK_TYPES: readonly WebhookType[] = ['confirm-rollout', 'pre-rollout', 'rollout', 'confirm-traffic-increase', 'confirm-promotion', 'post-rollout', 'rollback', 'event'];

/** Webhook lines of a stage commit body (`- <type> <message>[ (failed)]`, see stage-commit.ts). */
export function hookOutcomes(record: StageRecord): HookOutcome[] {
  const out: HookOutcome[] = [];
  for (const line of record.body.split('\n')) {
    const m = /^- ([a-z-]+) (.*)$/.exec(line);
    if (!m || !HOOK_TYPES.includes(m[1] as WebhookType)) continue;
    const failed = m[2].endsWith(' (failed)');
    out.push({ time: record.time, stage: record.subject, type: m[1] as WebhookType, message: failed ? m[2].slice(0, -' (failed)'.length) : m[2], ok: !failed });
  }
  return out;
}

/** The run `rev` names (a revision or stage commit prefix), or the latest one. */
export function selectRun(runs: readonly Run[], canary: string, rev?: string): Run {
  if (runs.length === 0) throw new ConfigError(`${canary} has no analysis run in the history yet (no stage commit in Progressing)`);
  if (rev === undefined) return runs[runs.length - 1];
  const found = runs.filter((r) => r.revision.startsWith(rev) || r.stages.some((s) => s.sha.startsWith(rev)));
  if (found.length === 0) {
    throw new ConfigError(`no run of ${canary} matches --run ${rev}; runs: ${runs.map((r) => `${r.revision.slice(0, 8)} (${r.stages[0].time.toISOString()})`).join(', ')}`);
  }
  return found[found.length - 1];
}

export interface GatherOptions {
  repoDir: string;
  config: CanarykitConfig;
  entry: PlanEntry;
  rev?: string;
  now: Date;
  timeoutMs: number;
}

export async function gatherReport(o: GatherOptions): Promise<ReportData> {
  const { plan } = o.entry;
  const canary = `${plan.namespace}/${plan.name}`;
  const history = canaryHistory(await readStageHistory(o.repoDir, 'HEAD', o.config.stateDir), canary);
  const run = selectRun(runsOf(history), canary, o.rev);
  const points = run.before ? [run.before, ...run.stages] : [...run.stages];
  const last = run.stages[run.stages.length - 1];
  const interval = plan.analysis.intervalSeconds * 1000;
  const from = new Date(points[0].time.getTime() - interval);
  const to = run.ended ? new Date(last.time.getTime() + interval) : o.now;
  const step = Math.max(15, Math.ceil((to.getTime() - from.getTime()) / 1000 / 240));
  const metrics: MetricSeries[] = [];
  for (const metric of plan.metrics) {
    if (metric.provider.type !== 'prometheus') {
      // Only Prometheus has a range API canarykit reads; other providers' checks are in the run's commits.
      metrics.push({ metric, series: [], error: `the report draws Prometheus metrics only; this metric is checked by ${metric.provider.type}` });
      continue;
    }
    const provider = { ...metric.provider, address: o.config.prometheus.address ?? metric.provider.address ?? plan.metricsServer };
    try {
      const client = clientForProvider(provider, { timeoutMs: o.timeoutMs });
      metrics.push({ metric, series: await client.queryRange(metric.query, from, to, step) });
    } catch (e) {
      if (!(e instanceof PrometheusError) && !(e instanceof UserError)) throw e;
      metrics.push({ metric, series: [], error: e.message });
    }
  }
  return { canary, plan, run, points, from, to, hooks: run.stages.flatMap(hookOutcomes), metrics };
}
