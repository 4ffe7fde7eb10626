import { AnalysisPlan } from '../model/plan';
import { Phase } from '../model/phase';
import { CanaryState } from '../model/state';
import { StageRecord, canaryHistory } from './git/stage-history';

/**
 * Flagger's Prometheus metrics (pkg/metrics/recorder.go: names, label names, value conventions)
 * computed from git alone: phases and weights from the state files at the tip, durations and
 * success/failure counters from the stage-commit history, metric analysis values from the latest
 * stage commit that measured them. Pure: same inputs, same text.
 */

/** One canary as the tip of the branch has it. */
export interface ExportedCanary {
  plan: AnalysisPlan;
  state?: CanaryState;
}

export interface ExportInput {
  /** canarykit's version, in `flagger_info{version}`. */
  version: string;
  canaries: readonly ExportedCanary[];
  /** Stage commits reachable from the tip, oldest first. */
  history: readonly StageRecord[];
}

/**
 * Buckets of flagger_canary_duration_seconds. Flagger observes the seconds one controller pass
 * took (DefBuckets, up to 10 s); canarykit observes the seconds each analysis stage was live
 * before the next one was decided, which is minutes, so the buckets reach an hour.
 */
export const DURATION_BUCKETS = [5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;

/** Flagger's canary_status values (recorder.go SetStatus): 0 running, 1 successful, 2 failed. */
export function statusValue(phase: Phase): number {
  return phase === 'Progressing' ? 0 : phase === 'Failed' ? 2 : 1;
}

type Labels = Record<string, string>;
interface Sample {
  name: string;
  labels: Labels;
  value: number;
}
interface Family {
  name: string;
  type: 'gauge' | 'counter' | 'histogram';
  help: string;
  samples: Sample[];
}

/** A finished run: how it ended, with Flagger's analysis_status. */
interface Outcome {
  canary: string;
  result: 'success' | 'failure';
  analysisStatus: 'completed' | 'skipped';
}

/** Successes and failures of a canary's history: every stage entering Succeeded or Failed. */
function outcomes(history: readonly StageRecord[]): Outcome[] {
  const out: Outcome[] = [];
  history.forEach((r, i) => {
    const before = i > 0 ? history[i - 1].trailers.phase : undefined;
    const phase = r.trailers.phase;
    if (phase === before) return;
    // A promotion goes Promoting -> Finalising -> Succeeded; Succeeded straight from another phase
    // is skipAnalysis (scheduler.go: AnalysisStatusSkipped).
    if (phase === 'Succeeded') out.push({ canary: r.canary, result: 'success', analysisStatus: before === 'Finalising' ? 'completed' : 'skipped' });
    if (phase === 'Failed') out.push({ canary: r.canary, result: 'failure', analysisStatus: 'completed' });
  });
  return out;
}

/** Seconds each analysis (Progressing) stage was live before the next stage of the canary. */
export function analysisDurations(history: readonly StageRecord[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < history.length; i++) {
    if (history[i - 1].trailers.phase !== 'Progressing') continue;
    out.push(Math.max(0, (history[i].time.getTime() - history[i - 1].time.getTime()) / 1000));
  }
  return out;
}

/** The last measured value of every metric of a canary, newest stage first. */
function lastValues(history: readonly StageRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of [...history].reverse()) {
    for (const [metric, value] of Object.entries(r.metrics)) if (!out.has(metric)) out.set(metric, value);
  }
  return out;
}

/** The families, in Flagger's registration order. */
export function flaggerFamilies(input: ExportInput): Family[] {
  const canaries = [...input.canaries].sort((a, b) => `${a.plan.namespace}/${a.plan.name}`.localeCompare(`${b.plan.namespace}/${b.plan.name}`));
  const f = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });
  const info = f('flagger_info', 'gauge', 'canarykit version and the traffic providers of its canaries (Flagger: version and mesh provider)');
  const duration = f('flagger_canary_duration_seconds', 'histogram', 'Seconds each analysis stage was live before the next stage was decided.');
  const total = f('flagger_canary_total', 'gauge', 'Canaries per namespace.');
  const status = f('flagger_canary_status', 'gauge', 'Last analysis result: 0 running, 1 successful, 2 failed.');
  const weight = f('flagger_canary_weight', 'gauge', 'Traffic weight of the primary and canary workloads at the committed stage.');
  const analysis = f('flagger_canary_metric_analysis', 'gauge', 'Last measured value of each analysis metric.');
  const thresholds = f('canarykit_canary_metric_threshold', 'gauge', 'Bounds of each analysis metric (bound="min" or "max"), in the unit of flagger_canary_metric_analysis.');
  const successes = f('flagger_canary_successes_total', 'counter', 'Runs that ended in promotion.');
  const failures = f('flagger_canary_failures_total', 'counter', 'Runs that ended in rollback.');

  for (const provider of [...new Set(canaries.map((c) => c.plan.provider))].sort()) {
    info.samples.push({ name: info.name, labels: { version: input.version, mesh_provider: provider }, value: 1 });
  }
  const perNamespace = new Map<string, number>();
  for (const c of canaries) perNamespace.set(c.plan.namespace, (perNamespace.get(c.plan.namespace) ?? 0) + 1);
  for (const [namespace, n] of [...perNamespace].sort(([a], [b]) => a.localeCompare(b))) total.samples.push({ name: total.name, labels: { namespace }, value: n });

  for (const { plan, state } of canaries) {
    const id = `${plan.namespace}/${plan.name}`;
    // Flagger labels by the target's name (cd.Spec.TargetRef.Name), not the Canary's.
    const base = { name: plan.targetName, namespace: plan.namespace };
    const history = canaryHistory(input.history, id);

    const observed = analysisDurations(history);
    for (const le of DURATION_BUCKETS) {
      duration.samples.push({ name: `${duration.name}_bucket`, labels: { ...base, le: String(le) }, value: observed.filter((s) => s <= le).length });
    }
    duration.samples.push({ name: `${duration.name}_bucket`, labels: { ...base, le: '+Inf' }, value: observed.length });
    duration.samples.push({ name: `${duration.name}_sum`, labels: base, value: observed.reduce((a, b) => a + b, 0) });
    duration.samples.push({ name: `${duration.name}_count`, labels: base, value: observed.length });

    if (state) {
      status.samples.push({ name: status.name, labels: base, value: statusValue(state.phase) });
      weight.samples.push({ name: weight.name, labels: { workload: `${plan.targetName}-primary`, namespace: plan.namespace }, value: 100 - state.canaryWeight });
      weight.samples.push({ name: weight.name, labels: { workload: plan.targetName, namespace: plan.namespace }, value: state.canaryWeight });
    }

    const values = lastValues(history);
    for (const m of plan.metrics) {
      const v = values.get(m.name);
      // Flagger records request-duration in seconds (scheduler_metrics.go: val.Seconds()).
      const scale = (x: number): number => (m.unit === 'milliseconds' ? x / 1000 : x);
      if (v !== undefined) analysis.samples.push({ name: analysis.name, labels: { ...base, metric: m.name }, value: scale(v) });
      for (const bound of ['min', 'max'] as const) {
        const b = m.thresholdRange[bound];
        if (b !== undefined) thresholds.samples.push({ name: thresholds.name, labels: { ...base, metric: m.name, bound }, value: scale(b) });
      }
    }

    const ended = outcomes(history);
    const count = (result: Outcome['result'], s: Outcome['analysisStatus']): number => ended.filter((o) => o.result === result && o.analysisStatus === s).length;
    for (const [family, result] of [[successes, 'success'], [failures, 'failure']] as const) {
      for (const s of ['completed', 'skipped'] as const) {
        const n = count(result, s);
        // "completed" is always exported (0 until the first run ends) so increase() sees the first one.
        if (n > 0 || s === 'completed') family.samples.push({ name: family.name, labels: { ...base, deployment_strategy: plan.strategy, analysis_status: s }, value: n });
      }
    }
  }
  return [info, duration, total, status, weight, analysis, successes, failures, thresholds];
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Families in the Prometheus text exposition format 0.0.4. */
export function renderExposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const s of family.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      lines.push(`${s.name}${labels ? `{${labels}}` : ''} ${formatNumber(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
