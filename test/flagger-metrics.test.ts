import { describe, expect, it } from 'vitest';
import { CanaryTrailers } from '../src/model/commit-message';
import { analysisDurations, flaggerFamilies, renderExposition } from '../src/adapters/flagger-metrics';
import { Phase } from '../src/model/phase';
import { AnalysisPlan } from '../src/model/plan';
import { StageRecord, runsOf } from '../src/adapters/git/stage-history';

/*
 * The exporter's arithmetic on synthetic stage histories (the end-to-end series are asserted in
 * test/exporter.test.ts against a real Prometheus): which transitions count as successes or
 * failures with which analysis_status (Flagger scheduler.go: AnalysisStatusCompleted after a
 * promotion, AnalysisStatusSkipped with skipAnalysis), durations, and where runs begin and end.
 */

let seq = 0;
function record(canary: string, minute: number, phase: Phase, weight: number, metrics: Record<string, number> = {}): StageRecord {
  const trailers: CanaryTrailers = { phase, weight, revision: phase === 'Initialized' ? 'r0' : 'r1', failedChecks: 0 };
  return { sha: `${++seq}`.padStart(40, '0'), time: new Date(Date.UTC(2026, 0, 1, 0, minute)), canary, subject: `stage ${seq}`, trailers, metrics, body: '' };
}

const plan = (namespace: string, strategy: AnalysisPlan['strategy'] = 'canary'): AnalysisPlan =>
  ({
    namespace,
    name: 'web',
    targetName: 'web-app',
    provider: 'nginx',
    strategy,
    metrics: [
      { name: 'request-duration', unit: 'milliseconds', thresholdRange: { max: 500 } },
      { name: 'error rate', thresholdRange: { min: 0, max: 1 } },
    ],
  }) as unknown as AnalysisPlan;

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Flagger metrics from a stage history', () => {
  const a = 'team-a/web';
  const history = [
    record(a, 0, 'Initialized', 0),
    record(a, 1, 'Progressing', 0),
    record(a, 3, 'Progressing', 10, { 'request-duration': 120, 'error rate': 0.5 }),
    record(a, 4, 'Promoting', 10, { 'request-duration': 80 }),
    record(a, 5, 'Finalising', 0),
    record(a, 6, 'Succeeded', 0),
    // skipAnalysis: straight to Succeeded.
    record(a, 10, 'Succeeded', 0),
    record(a, 20, 'Progressing', 0),
    record(a, 21, 'Progressing', 10),
    record(a, 22, 'Failed', 0),
  ];
  // The skip is a new revision promoted without analysis: a different phase before it.
  history[6] = { ...history[6], trailers: { ...history[6].trailers, revision: 'r2' } };
  history.splice(6, 0, record(a, 9, 'Initialized', 0));
  const text = renderExposition(
    flaggerFamilies({ version: '1.2.3', canaries: [{ plan: plan('team-a'), state: undefined }, { plan: plan('team-b', 'blue-green') }], history }),
  );
  const base = 'name="web-app",namespace="team-a"';

  it.each([
    [`flagger_canary_successes_total{${base},deployment_strategy="canary",analysis_status="completed"}`, 1],
    [`flagger_canary_successes_total{${base},deployment_strategy="canary",analysis_status="skipped"}`, 1],
    [`flagger_canary_failures_total{${base},deployment_strategy="canary",analysis_status="completed"}`, 1],
    [`flagger_canary_successes_total{name="web-app",namespace="team-b",deployment_strategy="blue-green",analysis_status="completed"}`, 0],
    // Progressing stages at minutes 1, 3, 20, 21 were live 2, 1, 1, 1 minutes.
    [`flagger_canary_duration_seconds_count{${base}}`, 4],
    [`flagger_canary_duration_seconds_sum{${base}}`, 300],
    [`flagger_canary_duration_seconds_bucket{${base},le="60"}`, 3],
    [`flagger_canary_duration_seconds_bucket{${base},le="120"}`, 4],
    // The latest measured value of each metric; milliseconds exported in seconds, as Flagger.
    [`flagger_canary_metric_analysis{${base},metric="request-duration"}`, 0.08],
    [`flagger_canary_metric_analysis{${base},metric="error rate"}`, 0.5],
    [`canarykit_canary_metric_threshold{${base},metric="request-duration",bound="max"}`, 0.5],
    [`canarykit_canary_metric_threshold{${base},metric="error rate",bound="min"}`, 0],
    ['flagger_canary_total{namespace="team-a"}', 1],
    ['flagger_info{version="1.2.3",mesh_provider="nginx"}', 1],
  ])('%s = %d', (series, value) => {
    expect(sample(text, series)).toBe(value);
  });

  it('exports no skipped series before a skip, and no status or weight without a state file', () => {
    expect(text).not.toContain('namespace="team-b",deployment_strategy="blue-green",analysis_status="skipped"');
    expect(text).not.toMatch(/^flagger_canary_(status|weight)\{/m);
    expect(text).toContain('# TYPE flagger_canary_duration_seconds histogram');
  });

  it('durations count only stages that followed a Progressing one', () => {
    expect(analysisDurations(history)).toEqual([120, 60, 60, 60]);
  });

  it('runs start at the first rollout stage and end with the next resting one', () => {
    const runs = runsOf(history);
    expect(runs.map((r) => [r.before?.trailers.phase, r.stages.map((s) => s.trailers.phase).join(','), r.ended])).toEqual([
      ['Initialized', 'Progressing,Progressing,Promoting,Finalising,Succeeded', true],
      ['Succeeded', 'Progressing,Progressing,Failed', true],
    ]);
  });
});
