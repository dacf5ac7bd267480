import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: integration tests load real models in worker threads; running files one at a time keeps
    // them from starving each other and keeps the timings they log meaningful.
    fileParallelism: false,
    reporters: ['default'],
  },
});
