import { defineConfig } from 'tsup';
import { defineLibrary } from '../../tooling/tsup';

export default defineConfig([
  // `!cli.js` keeps the bin built by the second config, which runs in parallel.
  defineLibrary(
    { index: 'src/index.ts' },
    { clean: ['!cli.js'], external: [/^node:/], removeNodeProtocol: false },
  ),
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    clean: false,
    dts: false,
    sourcemap: false,
    // Keep `node:` imports as written (the size budget ignores `node:*`).
    removeNodeProtocol: false,
  },
]);
