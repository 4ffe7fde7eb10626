import * as fs from 'fs';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Duration } from 'cdk8s';
import { resolveAnalysis } from '../src/constructs/analysis';
import { CanaryApp } from '../src/constructs/canary-app';
import { compileFiles } from '../src/compile';
import { addPodinfoChart, removeTempDirs } from './support/construct-fixtures';
import { FIXTURES, tempDir } from './compile/support';

afterAll(removeTempDirs);

// Issue 11: values Flagger v1.44.0 corrects at run time and still runs. canarykit runs them the
// same way (the plan holds what Flagger would run) and warns, in the construct and in compile.
describe('resolveAnalysis: what Flagger clamps or defaults runs the same way, with a warning', () => {
  it('interval under 10s runs every 10s (canary.go GetAnalysisInterval)', () => {
    const { resolved, problems, warnings } = resolveAnalysis({ stepWeight: 10, interval: Duration.seconds(5) }, 'istio', false);
    expect(problems).toEqual([]);
    expect(resolved.settings.intervalSeconds).toBe(10);
    expect(warnings).toEqual([{ path: 'analysis.interval', message: "5s is under Flagger's minimum; Flagger runs the analysis every 10s, and so does canarykit (set interval: 10s to silence this)" }]);
  });

  it.each([0, -3])('threshold %d means the default 1 (canary.go GetAnalysisThreshold)', (threshold) => {
    const { resolved, problems, warnings } = resolveAnalysis({ stepWeight: 10, threshold }, 'istio', false);
    expect(problems).toEqual([]);
    expect(resolved.settings.threshold).toBe(1);
    expect(warnings.map((w) => w.path)).toEqual(['analysis.threshold']);
  });

  it('threshold has no upper bound (canary.go GetAnalysisThreshold takes any positive int)', () => {
    const { resolved, problems, warnings } = resolveAnalysis({ stepWeight: 10, threshold: 10_000 }, 'istio', false);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(resolved.settings.threshold).toBe(10_000);
  });

  it.each([
    [[10, 50, 150], [10, 50, 100]],
    [[20, 120, 300], [20, 100]],
    [[150], [100]],
  ])('stepWeights %j run as %j (scheduler.go maxWeight, nextStepWeight: min(totalWeight, step))', (steps, ran) => {
    const { resolved, problems, warnings } = resolveAnalysis({ stepWeights: steps }, 'istio', false);
    expect(problems).toEqual([]);
    expect(resolved.settings.stepWeights).toEqual(ran);
    expect(resolved.settings.maxWeight).toBe(100);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].path).toBe(`analysis.stepWeights[${steps.findIndex((w) => w > 100)}]`);
  });

  it('a step past 100 followed by a smaller one is still an error (not something Flagger clamps into order)', () => {
    const { problems } = resolveAnalysis({ stepWeights: [50, 200, 30] }, 'istio', false);
    expect(problems.map((p) => p.path)).toEqual(['analysis.stepWeights[1]', 'analysis.stepWeights[2]']);
  });

  it('provider kubernetes drops an A/B match and runs blue/green (scheduler.go advanceCanary)', () => {
    const { resolved, problems, warnings } = resolveAnalysis({ iterations: 5, match: [{ headers: { x: { exact: 'y' } } }] }, 'kubernetes', false);
    expect(problems).toEqual([]);
    expect(resolved.strategy).toBe('blue-green');
    expect(resolved.match).toEqual([]);
    expect(resolved.settings).toMatchObject({ iterations: 5, hasMatch: false });
    expect(warnings).toEqual([{ path: 'analysis.match', message: 'provider kubernetes cannot route by request: Flagger drops the match and runs blue/green, and so does canarykit (remove match to silence this)' }]);
  });

  it('other providers that cannot route by request still refuse a match (Flagger would send all traffic to the canary)', () => {
    const { warnings } = resolveAnalysis({ iterations: 5, match: [{ headers: { x: { exact: 'y' } } }] }, 'traefik', false);
    expect(warnings).toEqual([]);
  });

  it('provider kubernetes with stepWeights runs blue/green x10 (scheduler.go advanceCanary)', () => {
    const { resolved, problems, warnings } = resolveAnalysis({ stepWeights: [10, 20] }, 'kubernetes', false);
    expect(problems).toEqual([]);
    expect(resolved.strategy).toBe('blue-green');
    expect(resolved.settings.iterations).toBe(10);
    expect(resolved.settings.stepWeights).toEqual([]);
    expect(warnings.map((w) => w.path)).toEqual(['analysis.stepWeights']);
  });
});

describe('CanaryApp: the warnings of a synth', () => {
  it('are listed by the Canary path and the app renders (canary.go GetAnalysisInterval)', () => {
    const app = new CanaryApp({ outdir: tempDir('canarykit-clamps-') });
    addPodinfoChart(app, { analysis: { stepWeight: 10, interval: Duration.seconds(1), threshold: 0 } });
    const folders = app.render();
    expect(folders.length).toBeGreaterThan(0);
    expect(app.warnings).toEqual([
      "[podinfo/canary] analysis.interval: 1s is under Flagger's minimum; Flagger runs the analysis every 10s, and so does canarykit (set interval: 10s to silence this)",
      "[podinfo/canary] analysis.threshold: 0 means Flagger's default: the canary is rolled back after 1 failed check (set threshold: 1 to silence this)",
    ]);
  });
});

describe('compile: Flagger YAML that Flagger corrects compiles, with warnings naming the field and line', () => {
  let work: string;
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  function compileWith(file: string, edit: (text: string) => string) {
    work = tempDir();
    const dir = path.join(work, 'in');
    fs.cpSync(path.join(FIXTURES, file), dir, { recursive: true });
    const name = fs.readdirSync(dir).find((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes('kind: Canary'))!;
    fs.writeFileSync(path.join(dir, name), edit(fs.readFileSync(path.join(dir, name), 'utf8')));
    return compileFiles([dir], { stateDir: path.join(work, 'state') });
  }

  it('interval 5s, threshold 0 and stepWeights past 100 (canary.go GetAnalysisInterval, GetAnalysisThreshold; scheduler.go nextStepWeight)', () => {
    const compiled = compileWith('istio', (t) => t.replace('interval: 1m\n    threshold: 5\n    maxWeight: 50\n    stepWeight: 10', 'interval: 5s\n    threshold: 0\n    stepWeights: [10, 50, 150]'));
    expect(compiled.warnings).toEqual([
      expect.stringMatching(/canary\.yaml#1 Canary test\/podinfo: spec\.analysis\.interval: 5s is under Flagger's minimum; .* \(line 35\)$/),
      expect.stringMatching(/spec\.analysis\.threshold: 0 means Flagger's default: .* \(line 36\)$/),
      expect.stringMatching(/spec\.analysis\.stepWeights\[2\]: 150 is more than 100%; .*\(stepWeights run as \[10, 50, 100\]\) \(line 37\)$/),
    ]);
    const plan = JSON.parse(compiled.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    expect(plan.analysis).toMatchObject({ intervalSeconds: 10, threshold: 1, stepWeights: [10, 50, 100], maxWeight: 100 });
  });

  it('threshold 10000 compiles unchanged (canary.go GetAnalysisThreshold has no upper bound)', () => {
    const compiled = compileWith('istio', (t) => t.replace('threshold: 5', 'threshold: 10000'));
    expect(compiled.warnings).toEqual([]);
    const plan = JSON.parse(compiled.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    expect(plan.analysis.threshold).toBe(10_000);
  });

  it('the deprecated metric threshold: 0, a large one, and neither (scheduler_metrics.go: threshold, default 0) compile as Flagger compares', () => {
    work = tempDir();
    const dir = path.join(work, 'in');
    fs.cpSync(path.join(FIXTURES, 'istio'), dir, { recursive: true });
    const file = path.join(dir, 'canary.yaml');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text
      .replace('thresholdRange:\n          min: 99\n', 'threshold: 0\n')
      .replace('thresholdRange:\n          max: 500\n', 'threshold: 100000\n')
      .replace('    webhooks:', '      - name: errors\n        query: vector(0)\n        interval: 1m\n    webhooks:'));
    const out = compileFiles([dir], { stateDir: path.join(work, 'state') });
    const plan = JSON.parse(out.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    expect(plan.metrics.map((m: { name: string; threshold?: number }) => [m.name, m.threshold])).toEqual([['request-success-rate', 0], ['request-duration', 100000], ['errors', 0]]);
  });

  it('provider kubernetes with stepWeight runs blue/green x10 (scheduler.go advanceCanary)', () => {
    const compiled = compileWith('bluegreen', (t) => t.replace('iterations: 10', 'stepWeight: 20'));
    expect(compiled.warnings).toEqual([expect.stringMatching(/Canary test\/podinfo: spec\.analysis\.stepWeight: provider kubernetes shifts no traffic: Flagger runs blue\/green with iterations: 10 instead/)]);
    const plan = JSON.parse(compiled.folders.find((f) => f.dir === 'test/podinfo')!.files.get('canary.plan.json')!);
    expect(plan.strategy).toBe('blue-green');
    expect(plan.analysis).toMatchObject({ iterations: 10, stepWeight: 0 });
  });
});
