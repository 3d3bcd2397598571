import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    // Tests start real workers, servers and browsers: one file at a time keeps them from fighting
    // over the machine's two cores (ports come from test/helpers/ports.ts, checked free).
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
