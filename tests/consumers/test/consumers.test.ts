import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, createScratchProject, runCommand, type ScratchProject } from '../src/scratch';
import {
  binsOf,
  ensureBuilt,
  entrySpecifiers,
  exportTargets,
  hostDependencies,
  installedVersion,
  type PackedPackage,
  pack,
  publishedPackages,
  ROOT,
} from '../src/workspace';

const require = createRequire(import.meta.url);
const TSC = require.resolve('typescript/bin/tsc');
const FIXTURES = new URL('../fixtures', import.meta.url).pathname;

/** Adapters the scratch scenario knows how to drive (fixtures/scenario.mjs); others are only loaded. */
const DRIVEN_ADAPTERS = ['@eka/auth-fetch', '@eka/auth-openapi-fetch', '@eka/auth-axios', '@eka/auth-got'];
/** Entries typed against the DOM (checked only by the bundler consumer, whose lib has it). */
const BROWSER_ONLY_ENTRIES = ['@eka/auth-core/web'];
/** ESM-only packages (their host client is ESM-only): types are ESM only; require() works only where Node supports require(esm). */
const ESM_ONLY_ENTRIES = ['@eka/auth-got'];
/**
 * TypeScript versions a consumer may use besides the workspace's 5.9: the native compiler (TypeScript 7,
 * the `typescript` package from 7.0 on) and the oldest 5.x we support. Installed by npm into a folder of
 * their own (in the workspace, a TypeScript 7 would become the peer of openapi-typescript and break it).
 * They check the same two consumers; they do not depend on the Node running them, so the Node matrix
 * (EKA_NODE_MATRIX set) leaves them to the main run.
 */
const TYPESCRIPTS = { native: '7.0.2', oldest: '5.0.4' } as const;
const IN_NODE_MATRIX = !!process.env.EKA_NODE_MATRIX;
/** Must always be there: the real-call scenario needs them. */
const REQUIRED = ['@eka/auth-core', '@eka/auth-fetch', '@eka/auth-testing'];

const packages = publishedPackages();
const timings: Record<string, number> = {};
let startedAt = 0;
let tarballDir: string;
let packed: PackedPackage[] = [];
let scratch: ScratchProject;
const typescripts: Partial<Record<keyof typeof TYPESCRIPTS, ScratchProject>> = {};

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[label] = Math.round(performance.now() - started);
  }
}

const node = (args: string[]) => runCommand(process.execPath, args, { cwd: scratch.dir });
const resultOf = (output: CommandResult, marker: string) => {
  const line = output.stdout.split('\n').find((text) => text.startsWith(`${marker} `));
  if (!line) throw new Error(`no ${marker} line:\n${output.transcript}`);
  return JSON.parse(line.slice(marker.length + 1));
};

beforeAll(async () => {
  startedAt = performance.now();
  const built = await timed('build (only what was missing)', () => ensureBuilt(packages));
  if (built.length > 0) console.log(`[consumers] built first: ${built.join(', ')}`);
  tarballDir = mkdtempSync(join(tmpdir(), 'eka-tarballs-'));
  packed = await timed('pnpm pack', () => Promise.all(packages.map((pkg) => pack(pkg, tarballDir))));
  const dependencies = {
    ...hostDependencies(packages),
    '@types/node': installedVersion(ROOT, '@types/node') ?? '^20.19.0',
  };
  const installTypeScripts = IN_NODE_MATRIX
    ? []
    : Object.entries(TYPESCRIPTS).map(async ([key, version]) => {
        typescripts[key as keyof typeof TYPESCRIPTS] = await timed(`npm install typescript@${version}`, () =>
          createScratchProject({ tarballs: [], dependencies: { typescript: version } }),
        );
      });
  [scratch] = await Promise.all([
    timed('npm install (scratch project)', () =>
      createScratchProject({ tarballs: packed.map((pkg) => pkg.tarball), dependencies, fixtures: FIXTURES }),
    ),
    ...installTypeScripts,
  ]);
}, 240_000);

afterAll(() => {
  scratch?.remove();
  for (const project of Object.values(typescripts)) project.remove();
  if (tarballDir && !process.env.EKA_KEEP_SCRATCH) rmSync(tarballDir, { recursive: true, force: true });
  const wall = Math.round(performance.now() - startedAt);
  const steps = Object.entries(timings).map(([label, ms]) => `${label} ${ms} ms`);
  console.log(
    `[consumers] ${packages.map((pkg) => pkg.manifest.name).join(', ')}\n` +
      `[consumers] ${wall} ms in all; steps (tsc runs alongside the calls): ${steps.join('; ')}`,
  );
});

it('finds the published packages (every non-private package under packages/)', () => {
  const names = packages.map((pkg) => pkg.manifest.name);
  expect(names).toEqual(expect.arrayContaining(REQUIRED));
});

describe.each(packages.map((pkg) => [pkg.manifest.name, pkg.folder] as const))('%s tarball', (name) => {
  const get = () => packed.find((pkg) => pkg.manifest.name === name)!;

  it('has every file its exports and bin point to, and nothing from src/ or tests', () => {
    const { files, manifest } = get();
    const needed = [
      ...exportTargets(manifest),
      ...Object.values(binsOf(manifest)).map((bin) => bin.replace(/^\.\//, '')),
    ];
    expect(files).toEqual(expect.arrayContaining([...new Set(needed), 'package.json']));
    const strays = files.filter((file) =>
      /^(src|test|tests|node_modules|\.turbo)\/|(^|\/)(tsconfig[^/]*\.json|tsup\.config\.ts|vitest\.config\.ts)$/.test(
        file,
      ),
    );
    expect(strays).toEqual([]);
  });

  it('has a README (the npm page)', () => {
    expect(get().files).toContain('README.md');
  });

  it('has no workspace: or catalog: ranges left, and peers on @eka/* are ^ of the current version', () => {
    const { packedManifest } = get();
    const text = JSON.stringify(packedManifest);
    expect(text).not.toMatch(/"(workspace|catalog):/);
    for (const [dependency, range] of Object.entries(packedManifest.peerDependencies ?? {})) {
      const local = packages.find((pkg) => pkg.manifest.name === dependency);
      if (local) expect(range, dependency).toBe(`^${local.manifest.version}`);
    }
  });

  it('runs no install scripts on the user’s machine', () => {
    const scripts = get().packedManifest.scripts ?? {};
    expect(Object.keys(scripts).filter((script) => /^(pre|post)?install$|^prepare$/.test(script))).toEqual(
      [],
    );
  });
});

describe('a scratch project outside the workspace', () => {
  let smoke: Promise<
    { specifier: string; esm?: string[]; cjs?: string[]; esmError?: string; cjsError?: string }[]
  >;
  const loadAll = () => {
    smoke ??= node([
      'smoke.mjs',
      JSON.stringify(packed.flatMap((pkg) => entrySpecifiers(pkg.manifest))),
    ]).then((output) => resultOf(output, 'EKA_SMOKE_RESULT'));
    return smoke;
  };
  /** The optional peer a failed entry needs (e.g. `msw` for @eka/auth-testing/msw), if that is why it failed. */
  const missingOptionalPeer = (specifier: string, error: string | undefined) => {
    const pkg = packed.find((candidate) => entrySpecifiers(candidate.manifest).includes(specifier))!;
    const optional = Object.entries(pkg.manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta.optional)
      .map(([peer]) => peer);
    return optional.find(
      (peer) => error?.includes(`'${peer}'`) && !existsSync(join(scratch.dir, 'node_modules', peer)),
    );
  };

  type Checks = Record<'node16' | 'bundler', CommandResult>;
  let checks: Promise<Checks & Partial<Record<keyof typeof TYPESCRIPTS, Checks>>> | undefined;
  /**
   * Two consumers, checked concurrently:
   * - node16: ESM (.ts) and CommonJS (.cts) files, lib without the DOM, and `skipLibCheck: false`, so
   *   our .d.ts/.d.cts files themselves are checked (a missing type is an error, not a silent `any`);
   * - bundler: ESM with the DOM lib (browser entries included), `skipLibCheck: true` (the declaration
   *   files are the same ones node16 checked).
   */
  const entriesFile = (specifiers: string[], cjs: boolean) =>
    `${specifiers
      .map((spec, i) =>
        cjs ? `import entry${i} = require('${spec}');` : `import type * as entry${i} from '${spec}';`,
      )
      .join('\n')}\nexport type Entries = [${specifiers.map((_, i) => `typeof entry${i}`).join(', ')}];\n`;
  const usageFiles = (suffix: string) =>
    packed.map((pkg) => `types/${pkg.folder}${suffix}`).filter((file) => existsSync(join(scratch.dir, file)));
  const tsc = (label: string, compilerOptions: Record<string, unknown>, files: string[], compiler = TSC) => {
    const config = `tsconfig.${label}.json`;
    const base = { strict: true, noEmit: true, target: 'es2022', types: ['node'] };
    writeFileSync(
      join(scratch.dir, config),
      JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, files }, null, 2),
    );
    return timed(`tsc ${label}`, () =>
      runCommand(process.execPath, [compiler, '-p', config, '--pretty', 'false'], {
        cwd: scratch.dir,
        timeoutMs: 300_000,
      }),
    );
  };
  const compilerOf = (key: keyof typeof TYPESCRIPTS) =>
    join(typescripts[key]!.dir, 'node_modules', 'typescript', 'bin', 'tsc');
  /** Started as soon as the entry points are known, so tsc runs while the other tests do. */
  const typecheck = () => {
    checks ??= runChecks();
    return checks;
  };
  const runChecks = async () => {
    const usable = (await loadAll())
      .filter((outcome) => !missingOptionalPeer(outcome.specifier, outcome.esmError))
      .map((outcome) => outcome.specifier);
    const serverSide = usable.filter((spec) => !BROWSER_ONLY_ENTRIES.includes(spec));
    writeFileSync(join(scratch.dir, 'types', 'entries.node16.ts'), entriesFile(serverSide, false));
    writeFileSync(
      join(scratch.dir, 'types', 'entries.node16.cts'),
      entriesFile(
        serverSide.filter((spec) => !ESM_ONLY_ENTRIES.includes(spec)),
        true,
      ),
    );
    writeFileSync(join(scratch.dir, 'types', 'entries.bundler.ts'), entriesFile(usable, false));
    const node16Options = {
      module: 'node16',
      moduleResolution: 'node16',
      lib: ['es2022'],
      skipLibCheck: false,
    };
    const node16Files = [...usageFiles('.ts'), 'types/entries.node16.ts', 'types/entries.node16.cts'];
    const bundlerOptions = {
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['es2022', 'dom', 'dom.iterable'],
      skipLibCheck: true,
    };
    const bundlerFiles = [...usageFiles('.ts'), ...usageFiles('.browser.ts'), 'types/entries.bundler.ts'];
    const both = async (suffix: string, compiler?: string): Promise<Checks> => {
      const [node16, bundler] = await Promise.all([
        tsc(`node16${suffix}`, node16Options, node16Files, compiler),
        tsc(`bundler${suffix}`, bundlerOptions, bundlerFiles, compiler),
      ]);
      return { node16, bundler };
    };
    const others = Object.keys(typescripts) as (keyof typeof TYPESCRIPTS)[];
    const [workspace, ...rest] = await Promise.all([
      both(''),
      ...others.map((key) => both(`.ts-${TYPESCRIPTS[key]}`, compilerOf(key))),
    ]);
    return { ...workspace!, ...Object.fromEntries(others.map((key, i) => [key, rest[i]])) };
  };

  it('npm installs the tarballs and the host libraries', () => {
    expect(scratch.install.code, scratch.install.transcript).toBe(0);
    for (const pkg of packed)
      expect(existsSync(join(scratch.dir, 'node_modules', pkg.manifest.name, 'package.json'))).toBe(true);
  });

  it('import() and require() load every entry point, with the same exports', async () => {
    const outcomes = await timed('ESM + CJS load', loadAll);
    void typecheck(); // in the background from here on; the TypeScript tests await it
    for (const outcome of outcomes) {
      const peer = missingOptionalPeer(outcome.specifier, outcome.esmError);
      if (peer) {
        // An entry that exists for an optional peer (msw, vitest): both formats must fail the same way.
        expect(outcome.cjsError, outcome.specifier).toContain(`'${peer}'`);
        console.log(
          `[consumers] ${outcome.specifier}: needs the optional peer ${peer} (not installed), as documented`,
        );
        continue;
      }
      expect(outcome.esmError, `${outcome.specifier} (import)`).toBeUndefined();
      if (ESM_ONLY_ENTRIES.includes(outcome.specifier)) {
        // ESM-only: require() either loads it (Node >= 20.19 supports require(esm)) or refuses cleanly.
        if (outcome.cjsError) {
          expect(outcome.cjsError, outcome.specifier).toMatch(
            /ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_REQUIRE_ESM|No "exports" main/,
          );
        } else expect(outcome.cjs, outcome.specifier).toEqual(outcome.esm);
        continue;
      }
      expect(outcome.cjsError, `${outcome.specifier} (require)`).toBeUndefined();
      expect(outcome.esm!.length, outcome.specifier).toBeGreaterThan(0);
      expect(outcome.cjs, `${outcome.specifier}: CommonJS exports = ESM exports`).toEqual(outcome.esm);
    }
  });

  it('installs working bins', async () => {
    for (const pkg of packed) {
      for (const bin of Object.keys(binsOf(pkg.manifest))) {
        const output = await runCommand(join(scratch.dir, 'node_modules', '.bin', bin), ['--help'], {
          cwd: scratch.dir,
        });
        expect(output.code, output.transcript).toBe(0);
      }
    }
  });

  it('a real call (ESM): every adapter, one shared EkaAuth, the packed emulator; a revoke costs one refresh each', async () => {
    const adapters = DRIVEN_ADAPTERS.filter((name) => packed.some((pkg) => pkg.manifest.name === name));
    const output = await timed('real calls (ESM)', () => node(['scenario.mjs', JSON.stringify(adapters)]));
    const { results, stats } = resultOf(output, 'EKA_CONSUMER_RESULT');
    expect(results.error, output.transcript).toBeUndefined();
    for (const adapter of adapters) {
      expect(results[adapter], adapter).toEqual({
        first: { status: 200, clientId: 'demo-client' },
        afterRevoke: { status: 200, clientId: 'demo-client' },
      });
    }
    expect(stats).toEqual({
      logins: { ok: 1, rejected: 0 },
      refreshes: { ok: adapters.length, rejected: 0, reused: 0 },
      unauthorized: adapters.length,
      tokenLeaks: 0,
      protocolViolations: [],
    });
    console.log(`[consumers] real calls through ${adapters.join(', ')}: passed`);
  });

  it('a real call (CommonJS): require() of the emulator, core and fetch adapter', async () => {
    const withAxios = packed.some((pkg) => pkg.manifest.name === '@eka/auth-axios');
    const output = await timed('real calls (CJS)', () =>
      node(['scenario.cjs', ...(withAxios ? ['--axios'] : [])]),
    );
    const { results, stats } = resultOf(output, 'EKA_CONSUMER_RESULT');
    expect(results.error, output.transcript).toBeUndefined();
    expect(results.fetch).toEqual([200, 200]);
    if (withAxios) expect(results.axios).toEqual([200]);
    expect(stats).toEqual({
      logins: { ok: 1, rejected: 0 },
      refreshes: { ok: 1, rejected: 0, reused: 0 },
      tokenLeaks: 0,
    });
  });

  describe('TypeScript (tsc from the workspace)', () => {
    it('moduleResolution node16: ESM and CommonJS consumers, lib without the DOM, declarations checked', async () => {
      const { node16 } = await typecheck();
      expect(node16.code, node16.transcript).toBe(0);
    });

    it('moduleResolution bundler: ESM consumer with the DOM lib, browser entries included', async () => {
      const { bundler } = await typecheck();
      expect(bundler.code, bundler.transcript).toBe(0);
    });
  });

  describe.skipIf(IN_NODE_MATRIX)(`TypeScript ${TYPESCRIPTS.native} (native compiler, from npm)`, () => {
    it('moduleResolution node16 and bundler: both consumers check clean', async () => {
      const { native } = await typecheck();
      expect(native!.node16.code, native!.node16.transcript).toBe(0);
      expect(native!.bundler.code, native!.bundler.transcript).toBe(0);
    });
  });

  describe.skipIf(IN_NODE_MATRIX)(
    `TypeScript ${TYPESCRIPTS.oldest} (the oldest 5.x we support, from npm)`,
    () => {
      it('moduleResolution bundler: the consumer checks clean', async () => {
        const { oldest } = await typecheck();
        expect(oldest!.bundler.code, oldest!.bundler.transcript).toBe(0);
      });

      it('moduleResolution node16 with skipLibCheck false: no error in our declarations or the fixtures', async () => {
        // The host clients' own declarations need a newer TypeScript when checked (got 14's use the generic
        // Buffer of @types/node, TypeScript >= 5.7; openapi-fetch 0.17's need >= 5.4): only their files may
        // report errors here. A consumer on TypeScript 5.0 keeps the default skipLibCheck: true.
        const { oldest } = await typecheck();
        const errors = `${oldest!.node16.stdout}${oldest!.node16.stderr}`
          .split('\n')
          .filter((line) => /error TS\d+/.test(line));
        const ours = errors.filter(
          (line) => !/^node_modules\//.test(line) || /^node_modules\/@eka\//.test(line),
        );
        expect(ours, oldest!.node16.transcript).toEqual([]);
        // The run really checked: the fixtures resolved, and no configuration error stopped tsc.
        expect(
          errors.every((line) => /^node_modules\//.test(line)),
          oldest!.node16.transcript,
        ).toBe(true);
      });
    },
  );
});
