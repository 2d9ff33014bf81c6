import { defineConfig } from 'vitest/config';

/** One vitest run over every package, example and the bench smoke tests: one summary at the end. */
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
      'bench*/vitest.config.ts',
      'tests/*/vitest.config.ts',
    ],
  },
});
