/**
 * New Relic's Insights query API (docs.newrelic.com "Query Insights event data via API"), local:
 * `GET /v1/accounts/<account id>/query?nrql=...` with header X-Query-Key. A wrong key answers 403
 * `{"error":...}`; the answer is `{"results":[...],"performanceStats":...,"metadata":...}` with
 * the results `answer(nrql)` gives.
 */
import { ApiServer, Reply } from './datadog-server';

export const NEWRELIC_ACCOUNT_ID = '2718281';
export const NEWRELIC_QUERY_KEY = 'NRIQ-abcdefghijklmnopqrstuvwxyz0123';

export class NewRelicServer extends ApiServer {
  constructor(answer: (nrql: string) => Record<string, unknown>[] | Reply | undefined = () => undefined) {
    super();
    this.on(`/v1/accounts/${NEWRELIC_ACCOUNT_ID}/query`, (r) => {
      if (r.headers['x-query-key'] !== NEWRELIC_QUERY_KEY) return { status: 403, json: { error: 'Invalid query key' } };
      const nrql = r.query.get('nrql') ?? '';
      const since = /SINCE (\d+) seconds ago$/.exec(nrql);
      if (!since) return { status: 400, json: { error: `NRQL Syntax Error: Error at line 1 position ${nrql.length}` } };
      const got = answer(nrql);
      if (got !== undefined && !Array.isArray(got)) return got;
      const end = 1772366400000;
      return {
        json: {
          results: got ?? [{ events: [] }],
          performanceStats: { inspectedCount: 1840, omittedCount: 0, matchCount: 120, wallClockTime: 14 },
          metadata: {
            eventTypes: ['Metric'],
            eventType: 'Metric',
            openEnded: true,
            beginTimeMillis: end - Number(since[1]) * 1000,
            endTimeMillis: end,
            rawSince: `${since[1]} SECONDS AGO`,
            rawUntil: 'NOW',
            messages: [],
          },
        },
      };
    });
  }
}
