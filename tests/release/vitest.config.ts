import { defineConfig } from 'vitest/config';

// Git repositories and a workspace copy in the OS temp dir; the timeouts only bound a hang.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
