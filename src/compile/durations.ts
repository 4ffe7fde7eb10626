import { Duration } from 'cdk8s';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^(?:(\d+(?:\.\d*)?|\.\d+)(ms|h|m|s))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ms|h|m|s)/g;

/**
 * Parses a Flagger duration (Go `time.ParseDuration`: `30s`, `1m`, `1m30s`, `1.5s`, `500ms`) into a
 * cdk8s Duration. Returns undefined for anything Go would reject, where Flagger would silently
 * fall back to a default; the caller reports it instead.
 */
export function parseGoDuration(text: string): Duration | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, num, unit] of text.matchAll(PART)) ms += Number(num) * UNIT_MS[unit];
  if (!Number.isFinite(ms)) return undefined;
  return Duration.millis(Math.round(ms));
}
