import type { Options } from 'tsup';

/**
 * The one tsup configuration every published package uses: ESM + CJS, `.d.ts`/`.d.cts`,
 * minified-friendly output, no bundled dependencies.
 */
export function defineLibrary(entry: Record<string, string>, extra: Partial<Options> = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: false,
    target: 'es2022',
    platform: 'neutral',
    treeshake: true,
    splitting: true,
    ...extra,
  };
}
