import { defineConfig } from 'vitest/config';

// One runner for shared, server and client unit/integration tests. Browser end-to-end specs
// live in e2e/ and run under Playwright (npm run test:e2e).
export default defineConfig({
  test: {
    include: ['shared/src/**/*.test.ts', 'server/test/**/*.test.ts', 'client/src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['server/test/helpers/temp-root.ts'],
  },
});
