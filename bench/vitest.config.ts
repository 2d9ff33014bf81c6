import { defineConfig } from 'vitest/config';

/** Smoke tests: every benchmark runs with tiny counts and returns sane numbers (no timing asserts). */
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 25_000 } });
