import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Tests share real database servers; files run one at a time so that a fault test's
    // pg_terminate_backend or kill -9 never hits another file's connections.
    fileParallelism: false,
    pool: 'forks',
  },
});
