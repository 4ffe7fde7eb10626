/**
 * Go's strconv.ParseFloat(s, 64), as far as metric answers need it, the one owner of that rule
 * among the metrics clients (graphite datapoints, InfluxDB CSV, KeptnMetric values). Pure.
 */

/**
 * Go's strconv.ParseFloat(s, 64) for decimal text (optional sign and exponent) and Go's spellings
 * of infinity and NaN in any case; undefined where Go returns an error (syntax, or a finite text
 * out of float64 range). Go's hexadecimal floats (`0x1p-2`) are not read.
 */
export function parseGoFloat(text: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
