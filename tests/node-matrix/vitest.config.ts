import { defineConfig } from 'vitest/config';

// One file per Node major, run one after another (each spawns a whole vitest run with two workers on a
// 2-core machine). The timeouts only bound a hang or a cold download; nothing here measures time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
