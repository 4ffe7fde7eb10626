import { describe, expect, it } from 'vitest';
import { CheckResult, shortCheck } from '../src/adapters/prometheus/metric-check';
import { Action } from '../src/machine/action';
import { describeAction } from '../src/driver/stage-commit';

/*
 * Commit subjects (and the step's output line) that people read in `git log --oneline`: numbers
 * kept, one distinct subject per stage.
 */

const rate = (value: number, outcome: 'pass' | 'fail', range = { min: 99 }): CheckResult => ({ metric: 'request-success-rate', thresholdRange: range, value, outcome, message: 'x' });
const duration = (value: number): CheckResult => ({ metric: 'request-duration', thresholdRange: { max: 500 }, unit: 'milliseconds', value, outcome: 'fail', message: 'x' });

describe('shortCheck', () => {
  it.each<[string, CheckResult, string]>([
    ['below the minimum', rate(95, 'fail'), 'request-success-rate 95 < 99'],
    ['float noise hidden', rate(95.00000000000001, 'fail'), 'request-success-rate 95 < 99'],
    ['above the maximum, with unit', duration(612), 'request-duration 612ms > 500ms'],
    ['a range failed above', rate(7, 'fail', { min: 1, max: 5 } as any), 'request-success-rate 7 > 5'],
    ['a pass', rate(99.5, 'pass'), 'request-success-rate 99.5'],
    ['no data', { metric: 'request-success-rate', thresholdRange: { min: 99 }, outcome: 'no-data', message: 'x' }, 'request-success-rate: no data'],
    ['an error', { metric: 'latency', thresholdRange: { max: 1 }, outcome: 'error', errorKind: 'unreachable', message: 'x' } as CheckResult, 'latency: query failed'],
  ])('%s', (_, result, expected) => {
    expect(shortCheck(result)).toBe(expected);
  });
});

describe('describeAction', () => {
  const hold: Action = { type: 'hold', reason: 'MetricCheckFailed', check: 'request-success-rate', message: 'Metric request-success-rate check failed: metric "request-success-rate" value 95 is below the minimum 99 (failed checks 1/5)' };

  it('a metric hold keeps the numbers, not the long message (which the body keeps)', () => {
    expect(describeAction(hold, { canaryWeight: 10, phase: 'Progressing' }, [rate(99.9, 'pass', { min: 90 }), { ...rate(95, 'fail'), metric: 'request-success-rate' }])).toEqual({
      subject: 'hold at weight 10',
      reason: 'request-success-rate 95 < 99',
    });
  });

  it('a hold on a webhook (no metric result of that name) keeps its message', () => {
    const webhook: Action = { type: 'hold', reason: 'WebhookFailed', check: 'load-test', message: 'rollout webhook load-test failed: 500' };
    expect(describeAction(webhook, { canaryWeight: 20, phase: 'Progressing' }, [rate(99.9, 'pass')]).reason).toBe('rollout webhook load-test failed: 500');
  });

  it('Initializing and Initialized commits have distinct subjects', () => {
    const init: Action = { type: 'initialize' };
    const a = describeAction(init, { canaryWeight: 0, phase: 'Initializing' }).subject;
    const b = describeAction(init, { canaryWeight: 0, phase: 'Initialized' }).subject;
    expect(a).toBe('initialize: create the primary');
    expect(b).toBe('initialized: primary ready');
  });
});

describe('formatTable (canarykit status, plan)', () => {
  it('aligns every column at the same offset in every row, whatever the cell widths', async () => {
    const { formatTable } = await import('../src/driver/status');
    const text = formatTable(['CANARY', 'PHASE', 'WEIGHT', 'NOTE'], [
      ['a-very-long-namespace/podinfo', 'Progressing', '10', 'paused'],
      ['web/x', 'Succeeded', '0', ''],
    ]);
    const lines = text.split('\n');
    const starts = (l: string) => [...l.matchAll(/(?:^|\s{2})(\S)/g)].map((m) => m.index! + m[0].length - 1);
    expect(starts(lines[0])).toEqual([0, 31, 44, 52]);
    expect(starts(lines[1])).toEqual([0, 31, 44, 52]);
    expect(starts(lines[2])).toEqual([0, 31, 44]);
    expect(lines[2]).toBe(lines[2].trimEnd());
  });
});
