import { defineConfig } from 'vitest/config';

// Each client runs in its own child process against its own emulators. The timeouts only bound a hang
// (the first run downloads a Node 24 for ky and wretch into npm's cache); nothing here measures time.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
