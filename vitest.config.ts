import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'out/**'],
    // One temporary directory per run, removed at its end (test/support/run-tmpdir.ts).
    globalSetup: ['test/support/run-tmpdir.ts'],
    // Integration tests start real processes and sockets; give them room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
