import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // First the tools npm test needs besides Node (one message naming the apt-get install), then
    // one throwaway PostgreSQL cluster per run for the PostgreSQL driver's tests.
    globalSetup: ['test/support/prerequisites.ts', 'test/support/pg-cluster.ts'],
    // End-to-end tests drive the built CLI as child processes on real SQLite files.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
