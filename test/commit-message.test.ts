import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCommitMessage, parseTrailers, readCanaryTrailers, StageCommitInput } from '../src/model/commit-message';

const base: StageCommitInput = {
  namespace: 'test',
  name: 'podinfo',
  subject: 'advance weight 20 -> 30',
  checks: ['request-success-rate 99.9 >= 99: ok', 'request-duration 120 <= 500: ok'],
  trailers: { phase: 'Progressing', weight: 30, revision: '7c9e6f1a', failedChecks: 0 },
};

/** What real git considers the trailers of `message`. */
function gitTrailers(message: string): string[] {
  const out = execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

describe('buildCommitMessage', () => {
  it('writes subject, check lines and trailers as separate paragraphs', () => {
    expect(buildCommitMessage(base)).toBe(
      [
        'canary(test/podinfo): advance weight 20 -> 30',
        '',
        '- request-success-rate 99.9 >= 99: ok',
        '- request-duration 120 <= 500: ok',
        '',
        'Canary-Phase: Progressing',
        'Canary-Weight: 30',
        'Canary-Revision: 7c9e6f1a',
        'Canary-Failed-Checks: 0',
        '',
      ].join('\n'),
    );
  });

  it('produces trailers git itself parses', () => {
    expect(gitTrailers(buildCommitMessage(base))).toEqual([
      'Canary-Phase: Progressing',
      'Canary-Weight: 30',
      'Canary-Revision: 7c9e6f1a',
      'Canary-Failed-Checks: 0',
    ]);
  });

  it('appends the reason to the subject', () => {
    const msg = buildCommitMessage({
      ...base,
      subject: 'hold at weight 20',
      reason: 'request-success-rate 97.1 < 99',
      trailers: { ...base.trailers, weight: 20, failedChecks: 1 },
    });
    expect(msg.split('\n')[0]).toBe('canary(test/podinfo): hold at weight 20: request-success-rate 97.1 < 99');
  });

  it('keeps the subject to one short line and the full reason in the body', () => {
    const reason = `webhook load-test failed:\n${'x'.repeat(200)}`;
    const msg = buildCommitMessage({ ...base, subject: 'roll back', reason, trailers: { ...base.trailers, phase: 'Failed' } });
    const [subject, blank, body] = msg.split('\n');
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject.endsWith('…')).toBe(true);
    expect(blank).toBe('');
    expect(body).toBe(`Reason: webhook load-test failed: ${'x'.repeat(200)}`);
    expect(readCanaryTrailers(msg)?.phase).toBe('Failed');
  });

  it('keeps trailers last and intact when there are no checks or checks look like trailers', () => {
    for (const checks of [[], ['Signed-off-by: someone', '---', '# not a comment']]) {
      const msg = buildCommitMessage({ ...base, subject: 'promote', checks });
      expect(gitTrailers(msg)).toHaveLength(4);
      expect(readCanaryTrailers(msg)).toEqual(base.trailers);
    }
  });

  it('flattens newlines in values so every trailer stays on one line', () => {
    const msg = buildCommitMessage({ ...base, trailers: { ...base.trailers, revision: 'abc\ndef' } });
    expect(parseTrailers(msg)['Canary-Revision']).toBe('abc def');
  });
});

describe('parseTrailers', () => {
  it('reads the last paragraph, joining continuation lines', () => {
    expect(parseTrailers('subject\n\nbody\n\nKey: a\n  b\nOther-Key:c\n')).toEqual({ Key: 'a b', 'Other-Key': 'c' });
  });

  it('finds no trailers in a subject-only message or a free-text last paragraph', () => {
    expect(parseTrailers('Key: value')).toEqual({});
    expect(parseTrailers('subject\n\nKey: value\nsome prose')).toEqual({});
  });

  it('round-trips the canary trailers', () => {
    expect(readCanaryTrailers(buildCommitMessage(base))).toEqual(base.trailers);
  });

  it('rejects malformed canary trailers', () => {
    const msg = buildCommitMessage(base);
    expect(readCanaryTrailers(msg.replace('Progressing', 'Sideways'))).toBeUndefined();
    expect(readCanaryTrailers(msg.replace('Canary-Weight: 30', 'Canary-Weight: 3x'))).toBeUndefined();
    expect(readCanaryTrailers('canary(test/podinfo): promote\n')).toBeUndefined();
  });
});
