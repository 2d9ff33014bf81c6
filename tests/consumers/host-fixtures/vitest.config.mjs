// The scratch project's own vitest (3, 4 or 5): a plain object, so no version-specific import.
export default { test: { include: ['*.test.mjs'], testTimeout: 20_000 } };
