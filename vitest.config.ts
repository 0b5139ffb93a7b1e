import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // First the tools npm test needs besides Node (one message naming the apt-get install), then
    // one throwaway PostgreSQL cluster per run for the PostgreSQL driver's tests.
    globalSetup: ['test/support/prerequisites.ts', 'test/support/pg-cluster.ts'],
    // End-to-end tests drive the built CLI as child processes on real SQLite files. The limits are
    // far above what the slowest test takes on a loaded 2-core machine (the walkthrough: 59.5 s
    // against the former 60 s, issue 23): a limit is a hang detector, never a race.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
