/**
 * Dynatrace's Metrics API v2 (docs.dynatrace.com "Metrics API - GET metric data points"), local:
 * header `Authorization: Api-Token <token>` (otherwise 401 with Dynatrace's error object),
 * `GET /api/v2/metrics/query?metricSelector&resolution&from&to` answers the data series
 * `answer(selector)` gives, `GET /api/v2/metrics?pageSize=1` one metric descriptor.
 */
import { ApiServer, RecordedRequest, Reply } from './datadog-server';

export const DYNATRACE_TOKEN = 'dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX.0123456789abcdef0123456789abcdef';

/** One data series of a metric: its dimensions and [timestamp ms, value] pairs. */
export interface DynatraceSeries {
  dimensions: Record<string, string>;
  points: [number, number | null][];
}

export class DynatraceServer extends ApiServer {
  constructor(answer: (selector: string) => DynatraceSeries[] | Reply | undefined = () => undefined) {
    super();
    const unauthorized = (r: RecordedRequest): Reply | undefined => {
      const auth = r.headers.authorization;
      if (auth === undefined) return { status: 401, json: { error: { code: 401, message: 'Missing authorization parameter.' } } };
      if (auth !== `Api-Token ${DYNATRACE_TOKEN}`) return { status: 401, json: { error: { code: 401, message: 'Token Authentication failed' } } };
      return undefined;
    };
    this.on('/api/v2/metrics', (r) => unauthorized(r) ?? { json: { totalCount: 2107, nextPageKey: 'AQAAABQBAAAABQ==', metrics: [{ metricId: 'builtin:apps.other.apdex.osAndGeo' }] } });
    this.on('/api/v2/metrics/query', (r) => {
      const denied = unauthorized(r);
      if (denied) return denied;
      const selector = r.query.get('metricSelector');
      if (!selector) return { status: 400, json: { error: { code: 400, message: 'Constraints violated.', constraintViolations: [{ path: 'metricSelector', message: 'must not be empty', parameterLocation: 'QUERY' }] } } };
      const got = answer(selector);
      if (got !== undefined && !Array.isArray(got)) return got;
      const metricId = selector.trim();
      return {
        json: {
          totalCount: got ? 1 : 0,
          nextPageKey: null,
          resolution: r.query.get('resolution') ?? '1m',
          result: got
            ? [{ metricId, dataPointCountRatio: 0.0009, dimensionCountRatio: 0.003, data: got.map((s) => ({ dimensions: Object.values(s.dimensions), dimensionMap: s.dimensions, timestamps: s.points.map((p) => p[0]), values: s.points.map((p) => p[1]) })) }]
            : [],
        },
      };
    });
  }
}
