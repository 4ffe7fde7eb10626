import { afterAll, beforeAll, describe, it } from 'vitest';
import { OpenMetricsWriter, PrometheusServer, SKIP_MESSAGE, prometheusAvailable, startPrometheus } from './prometheus-server';

// Vitest wrappers around the real Prometheus harness (which itself has no vitest dependency, so
// the benchmark can use it too).
export * from './prometheus-server';

/**
 * `describe` for suites that need a real Prometheus. Without one the suite is skipped with a
 * visible line, unless `CANARYKIT_REQUIRE_PROMETHEUS=1`, which turns the absence into a failure.
 */
export function describeWithPrometheus(name: string, fn: () => void): void {
  if (prometheusAvailable()) {
    describe(name, fn);
  } else if (process.env.CANARYKIT_REQUIRE_PROMETHEUS === '1') {
    describe(name, () => {
      it('needs Prometheus', () => {
        throw new Error('CANARYKIT_REQUIRE_PROMETHEUS=1 but prometheus/promtool are not on PATH: apt-get install -y prometheus');
      });
    });
  } else {
    console.log(SKIP_MESSAGE);
    describe.skip(name, fn);
  }
}

/**
 * Registers beforeAll/afterAll that run one Prometheus for the enclosing suite. Read `url` inside
 * tests (it is set once beforeAll has run).
 */
export function usePrometheus(data: () => string | OpenMetricsWriter): { readonly url: string } {
  let server: PrometheusServer | undefined;
  beforeAll(async () => {
    server = await startPrometheus(String(data()));
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url(): string {
      if (server === undefined) throw new Error('Prometheus is not running (read url inside a test)');
      return server.url;
    },
  };
}
