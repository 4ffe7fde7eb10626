/**
 * Go's time.ParseDuration, the one reading of Flagger's duration text outside compile/ (issue 9,
 * "one owner per rule"). Pure. compile/durations.ts keeps its own, narrower reading (ms, s, m, h
 * into a cdk8s Duration) for the Canary's fields, where compile reports the rest.
 */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const GO_DURATION = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Go's time.ParseDuration of `text` (`1m`, `30s`, `1m30s`, `1.5h`, `500ms`, `-2s`, `0`), in whole
 * nanoseconds; undefined where Go returns an error.
 */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  const m = GO_DURATION.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const [, n, unit] of m[2].matchAll(PART)) total += Number(n) * UNIT_NS[unit];
  // Go refuses a duration beyond int64 nanoseconds (about 292 years).
  if (total > 9223372036854775807) return undefined;
  return Math.round(m[1] === '-' ? -total : total);
}

/**
 * A MetricTemplate provider's metric interval (`1m`) in milliseconds, fractions kept (`1500us` is
 * 1.5): Go's reading, except that a negative interval (a window ending in the future) is refused
 * too. undefined where it is refused; each provider words its own "error parsing metric interval".
 */
export function metricIntervalMillis(text: string): number | undefined {
  const ns = parseGoDuration(text);
  return ns === undefined || ns < 0 ? undefined : ns / 1e6;
}
