import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  files?: string[];
  bin?: string | Record<string, string>;
  exports?: Record<string, unknown>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Folder name under packages/, e.g. `auth-core`. */
  folder: string;
  dir: string;
  manifest: Manifest;
}

/** Every package under packages/ that is published (not `private`), sorted by name. */
export function publishedPackages(): WorkspacePackage[] {
  const packagesDir = join(ROOT, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(packagesDir, entry.name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      return { folder: entry.name, dir, manifest };
    })
    .filter((pkg) => !pkg.manifest.private)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** Every file an `exports` map points to (conditions flattened), relative to the package. */
export function exportTargets(manifest: Manifest): string[] {
  const targets = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === 'string') targets.add(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') for (const nested of Object.values(value)) visit(nested);
  };
  visit(manifest.exports ?? {});
  return [...targets].sort();
}

/** The importable subpaths of a package (`@eka/auth-core`, `@eka/auth-core/web`, …), `package.json` excluded. */
export function entrySpecifiers(manifest: Manifest): string[] {
  return Object.keys(manifest.exports ?? { '.': null })
    .filter((subpath) => subpath !== './package.json' && !subpath.includes('*'))
    .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`));
}

/** The bins of a package as `{ name: path }`. */
export function binsOf(manifest: Manifest): Record<string, string> {
  if (typeof manifest.bin === 'string') return { [manifest.name.split('/').pop()!]: manifest.bin };
  return manifest.bin ?? {};
}

/**
 * Builds the packages whose `exports` point at files that do not exist (a fresh clone, or a package
 * added since the last build). Normally the build already ran (`pnpm test`, or turbo's `^build`), and
 * this does nothing.
 */
export async function ensureBuilt(packages: WorkspacePackage[]): Promise<string[]> {
  const stale = packages.filter((pkg) =>
    exportTargets(pkg.manifest).some((target) => !existsSync(join(pkg.dir, target))),
  );
  if (stale.length === 0) return [];
  const filters = stale.flatMap((pkg) => [`--filter=${pkg.manifest.name}`]);
  await run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stale.map((pkg) => pkg.manifest.name);
}

export interface PackedPackage extends WorkspacePackage {
  /** Absolute path of the tarball. */
  tarball: string;
  /** Paths inside the tarball (without the `package/` prefix). */
  files: string[];
  /** The package.json as packed (workspace: and catalog: ranges replaced). */
  packedManifest: Manifest;
}

/** `pnpm pack` (which rewrites `workspace:` and `catalog:` ranges, like `pnpm publish`) into `destination`. */
export async function pack(pkg: WorkspacePackage, destination: string): Promise<PackedPackage> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], {
    cwd: pkg.dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    filename: string;
    files: { path: string }[];
  };
  const { stdout: packedJson } = await run('tar', ['-xzOf', report.filename, 'package/package.json']);
  return {
    ...pkg,
    tarball: report.filename,
    files: report.files.map((file) => file.path).sort(),
    packedManifest: JSON.parse(packedJson) as Manifest,
  };
}

/**
 * What a consumer installs next to our tarballs: every required (non-optional) peer dependency that
 * is not one of ours, at the version the workspace develops against (else the peer range itself).
 */
export function hostDependencies(packages: WorkspacePackage[]): Record<string, string> {
  const ours = new Set(packages.map((pkg) => pkg.manifest.name));
  const hosts: Record<string, string> = {};
  for (const pkg of packages) {
    const { peerDependencies = {}, peerDependenciesMeta = {} } = pkg.manifest;
    for (const [name, range] of Object.entries(peerDependencies)) {
      if (ours.has(name) || peerDependenciesMeta[name]?.optional) continue;
      hosts[name] = installedVersion(pkg.dir, name) ?? range;
    }
  }
  return Object.fromEntries(Object.entries(hosts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The version of `name` linked into `dir`'s node_modules (or the repository's), if any. */
export function installedVersion(dir: string, name: string): string | undefined {
  for (const base of [dir, join(ROOT, 'tests', 'consumers'), ROOT]) {
    const manifest = join(base, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).version;
  }
  return undefined;
}
