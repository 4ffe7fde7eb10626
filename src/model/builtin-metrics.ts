/**
 * Metric names Flagger answers itself, from the provider's observer, instead of a MetricTemplate.
 * The construct plans them; the driver judges them (success rate is a floor, duration a ceiling).
 */
export type BuiltinMetricName = 'request-success-rate' | 'request-duration';

export const REQUEST_SUCCESS_RATE = 'request-success-rate' satisfies BuiltinMetricName;
export const REQUEST_DURATION = 'request-duration' satisfies BuiltinMetricName;

/** The reserved built-in metric names. */
export const BUILTIN_METRICS: readonly BuiltinMetricName[] = [REQUEST_SUCCESS_RATE, REQUEST_DURATION];

/** True when `name` is one of Flagger's reserved built-in metric names. */
export function isBuiltinMetric(name: string): name is BuiltinMetricName {
  return (BUILTIN_METRICS as readonly string[]).includes(name);
}
