import { defineConfig } from 'vitest/config';

// Each runtime runs in its own child process (or workerd) against its own emulator: files may run in
// parallel. The timeouts only bound a hang; nothing here measures time.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
