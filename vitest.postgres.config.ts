import { defineConfig } from 'vitest/config';

// The contract suites again against PostgreSQL (KERMA_TEST_POSTGRES_URL, default
// postgres://postgres@127.0.0.1:5432/kerma_test), plus the PostgreSQL-only tests (outage, several instances).
export default defineConfig({
  test: {
    include: ['test/contract/**/*.test.ts', 'test/postgres/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { KERMA_TEST_ENGINE: 'postgres' },
  },
});
