import { defineConfig } from 'vitest/config';

// One file, run in order: pack → npm install into a scratch project → load, typecheck, call. The timeouts
// only bound a hang (a cold npm cache on a slow machine); nothing here measures time.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
