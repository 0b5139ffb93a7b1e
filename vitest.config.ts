import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway PostgreSQL cluster per run for the PostgreSQL driver's tests.
    globalSetup: ['test/support/pg-cluster.ts'],
    // End-to-end tests drive the built CLI as child processes on real SQLite files.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
