import { defineConfig } from 'tsup';
import { defineLibrary } from '../../tooling/tsup';

// ESM only, like got itself (got 12+ is an ES module; CommonJS apps load both with `await import()`).
export default defineConfig(defineLibrary({ index: 'src/index.ts' }, { format: ['esm'] }));
