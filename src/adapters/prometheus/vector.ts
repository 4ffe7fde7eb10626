import { excerpt } from '../../redact';
import type { QueryValue } from '../metrics/source';

// Prometheus's HTTP API wire format: the query URL and the instant-vector answer, as Flagger's
// prometheus provider reads them (pkg/metrics/providers/prometheus.go). Pure.

/** One series of an instant vector. `value` may be NaN or ±Infinity. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The outcome of a single-value query: a number, or no data (empty vector or NaN). */
export type { QueryValue };

/** Collapses every run of whitespace to one space, as Flagger does before sending a query. */
export function collapseWhitespace(query: string): string {
  return query.replace(/\s+/g, ' ').trim();
}

/** Builds the `/api/v1/query` URL for a base address, keeping any path prefix. */
export function queryUrl(address: URL, promql: string, at?: Date): URL {
  const url = new URL(address.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.searchParams.set('query', collapseWhitespace(promql));
  if (at !== undefined) url.searchParams.set('time', String(at.getTime() / 1000));
  return url;
}

/**
 * Picks Flagger's single value from an instant vector: the **last** series, and no data when the
 * vector is empty or that value is NaN (e.g. 0/0 when there was no traffic).
 */
export function singleValue(samples: readonly Sample[]): QueryValue {
  const last = samples[samples.length - 1];
  if (last === undefined || Number.isNaN(last.value)) return { kind: 'no-data' };
  return { kind: 'value', value: last.value };
}

/** A Prometheus answer that is not an instant vector, or not parseable: why, and which kind. */
export interface ResponseProblem {
  kind: 'bad-query' | 'bad-response';
  message: string;
}

/**
 * Parses a successful `/api/v1/query` body into samples; anything but an instant vector is a
 * problem (a range selector gives a matrix, a bare number a scalar).
 */
export function parseVector(body: string, secrets: readonly string[] = []): Sample[] | ResponseProblem {
  // Redacted before it is shortened: a secret cut by the length limit would no longer match.
  const snippet = (text: string): string => excerpt(text, 300, secrets);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'bad-response', message: `response is not JSON: ${snippet(body)}` };
  }
  const envelope = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    status?: unknown;
    data?: { resultType?: unknown; result?: unknown } | null;
  };
  const data = envelope.data;
  if (envelope.status !== 'success' || data === undefined || data === null) {
    return { kind: 'bad-response', message: `unexpected response: ${snippet(body)}` };
  }
  if (data.resultType !== 'vector') {
    return {
      kind: 'bad-query',
      message: `query returned a ${String(data.resultType)}, expected an instant vector (one value per series)`,
    };
  }
  if (!Array.isArray(data.result)) return { kind: 'bad-response', message: `vector without result: ${snippet(body)}` };
  const samples: Sample[] = [];
  for (const item of data.result as Array<{ metric?: Record<string, string>; value?: unknown }>) {
    const raw = Array.isArray(item.value) ? item.value[1] : undefined;
    const value = typeof raw === 'string' ? parseSampleValue(raw) : undefined;
    if (value === undefined) return { kind: 'bad-response', message: `malformed sample: ${snippet(JSON.stringify(item))}` };
    samples.push({ labels: item.metric ?? {}, value });
  }
  return samples;
}

function parseSampleValue(raw: string): number | undefined {
  // Prometheus spells infinities the Go way, which Number() does not read.
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  const value = Number(raw);
  return raw.trim() === '' || Number.isNaN(value) ? undefined : value;
}
