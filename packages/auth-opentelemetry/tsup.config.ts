import { defineConfig } from 'tsup';
import { defineLibrary } from '../../tooling/tsup';

export default defineConfig(defineLibrary({ index: 'src/index.ts' }));
