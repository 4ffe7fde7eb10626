import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: the CLI suites spawn many real processes, and a loaded 2-core machine runs them
    // several times slower than a quiet one. The limit only catches hangs.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // Integration suites start real Prometheus servers and git remotes; two workers fit the 2-core machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
