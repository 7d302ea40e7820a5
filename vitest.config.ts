import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database-backed suites start embedded PGlite instances; two workers fit a 2-core machine.
    maxWorkers: 2,
  },
});
