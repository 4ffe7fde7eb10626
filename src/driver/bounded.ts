/**
 * `fn` over `items` with at most `limit` calls in flight; results in the order of `items`, so
 * whatever is applied from them (outcomes, commits) does not depend on which answer came first.
 * The first rejection rejects the whole map once the calls already started have settled.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.error;
  return results;
}

/** Canaries observed at once in a tick: Prometheus queries and webhooks of different canaries overlap, up to this. */
export const OBSERVE_CONCURRENCY = 16;
