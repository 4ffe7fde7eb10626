import { describe, expect, it } from 'vitest';
import { metricIntervalMillis, parseGoDuration } from '../src/go-duration';

// Go's time.ParseDuration (src/time/format.go ParseDuration): the one reading the metrics
// providers (Flagger's metricInterval) and the APISIX router share.
describe('parseGoDuration (Go time.ParseDuration)', () => {
  it('reads every unit, fractions, sums and signs', () => {
    expect(parseGoDuration('1m')).toBe(60e9);
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('1.5h')).toBe(5400e9);
    expect(parseGoDuration('.5s')).toBe(5e8);
    expect(parseGoDuration('3.s')).toBe(3e9);
    expect(parseGoDuration('250ms')).toBe(25e7);
    expect(parseGoDuration('7us')).toBe(7000);
    expect(parseGoDuration('7µs')).toBe(7000); // U+00B5
    expect(parseGoDuration('7μs')).toBe(7000); // U+03BC
    expect(parseGoDuration('9ns')).toBe(9);
    expect(parseGoDuration('-2s')).toBe(-2e9);
    expect(parseGoDuration('+2s')).toBe(2e9);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('-0')).toBe(0);
  });

  it('refuses what Go refuses', () => {
    for (const text of ['', '1', '0s0', 'm', '.s', '1 m', '1 minute', '1d', '--1s', '1m ', ' 1m', '3000000h']) {
      expect(parseGoDuration(text), text).toBeUndefined();
    }
  });
});

describe('metricIntervalMillis', () => {
  it('is milliseconds with fractions kept, and refuses a negative interval', () => {
    expect(metricIntervalMillis('1m')).toBe(60_000);
    expect(metricIntervalMillis('1500us')).toBe(1.5);
    expect(metricIntervalMillis('0')).toBe(0);
    expect(metricIntervalMillis('-1m')).toBeUndefined();
    expect(metricIntervalMillis('1 minute')).toBeUndefined();
  });
});
