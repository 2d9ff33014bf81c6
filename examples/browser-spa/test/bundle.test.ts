import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const builtins = new Set(builtinModules);

/**
 * Bundles `contents` as a browser app would (esbuild: platform browser, ESM, minified, the packages'
 * `dist` through their `exports` maps) and reports every Node built-in it tried to import (with or
 * without the `node:` prefix — tsup drops the prefix) and the min+gzip size (gzip level 9).
 */
async function bundle(contents: string) {
  const nodeImports: string[] = [];
  const spotNodeBuiltins: Plugin = {
    name: 'spot-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, ({ path }) => {
        const bare = path.replace(/^node:/, '');
        if (!path.startsWith('node:') && !builtins.has(bare) && !builtins.has(bare.split('/')[0]!)) return;
        nodeImports.push(path);
        return { path, external: true };
      });
    },
  };
  const result = await build({
    stdin: { contents, resolveDir: exampleDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [spotNodeBuiltins],
  });
  const code = result.outputFiles[0]!.contents;
  const text = new TextDecoder().decode(code);
  return { nodeImports, text, gzipBytes: gzipSync(code, { level: 9 }).length };
}

/**
 * Budgets (min+gzip, bytes, esbuild at gzip level 9), measured first: core main 6 304, createEkaAuth
 * alone 5 816, /web 1 250, auth-fetch 1 664 (with the bits of the core it uses), the browser app's
 * three imports 7 827. With in-flight retries and waiting out back-offs (and the core split into one
 * module per rule): core main 7 750, createEkaAuth alone 7 275, the browser app 9 253. With storage
 * time bounds, fetch(request, init) semantics and token calls passing foreign fetch wrappers: the
 * browser app 9 656.
 */
const ENTRIES = [
  { name: '@eka/auth-core (whole main entry)', code: `export * from '@eka/auth-core';`, budget: 8_000 },
  {
    name: '@eka/auth-core: createEkaAuth alone',
    code: `export { createEkaAuth } from '@eka/auth-core';`,
    budget: 7_500,
  },
  { name: '@eka/auth-core/web', code: `export * from '@eka/auth-core/web';`, budget: 1_536 },
  { name: '@eka/auth-fetch', code: `export * from '@eka/auth-fetch';`, budget: 2_048 },
  {
    name: 'a browser app: createEkaAuth + webStorage + installGlobalFetch',
    code: `export { createEkaAuth } from '@eka/auth-core';
      export { webStorage } from '@eka/auth-core/web';
      export { installGlobalFetch } from '@eka/auth-fetch';`,
    budget: 9_800,
  },
];

describe('browser bundles', () => {
  it.each(ENTRIES)('$name: no Node built-ins, min+gzip ≤ $budget B', async ({ code, budget }) => {
    const { nodeImports, text, gzipBytes } = await bundle(code);
    expect(nodeImports).toEqual([]);
    // Globals that exist only in Node would throw in a browser.
    expect(text).not.toMatch(/\b(process\.|Buffer\.|__dirname|__filename|require\()/);
    expect(gzipBytes).toBeGreaterThan(300);
    expect(gzipBytes, `min+gzip ${gzipBytes} B, budget ${budget} B`).toBeLessThanOrEqual(budget);
  });

  it('the check itself spots Node built-ins (the control: @eka/auth-core/file is for Node)', async () => {
    const { nodeImports } = await bundle(`export * from '@eka/auth-core/file';`);
    expect(nodeImports.map((path) => path.replace(/^node:/, '')).sort()).toEqual(['fs/promises', 'path']);
  });
});
