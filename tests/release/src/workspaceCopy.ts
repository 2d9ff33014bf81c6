import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without declarations
import { workspacePackages as listPackages } from '../../../tooling/check-changesets.mjs';
import { git } from './git';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const CHANGESET_BIN = join(dirname(require.resolve('@changesets/cli/package.json')), 'bin.js');

export interface WorkspacePackage {
  name: string;
  /** Relative to the repository root. */
  dir: string;
  private: boolean;
}

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const workspacePackages = (root: string): WorkspacePackage[] => listPackages(root);

export const readManifest = (root: string, pkg: WorkspacePackage): Manifest =>
  JSON.parse(readFileSync(join(root, pkg.dir, 'package.json'), 'utf8'));

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  transcript: string;
}

/** The caller's environment minus what pnpm sets for its scripts (NODE_PATH, npm_* settings). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_PATH' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' };
}

export function runCommand(command: string, args: string[], cwd: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 150_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({
          code,
          stdout,
          stderr,
          transcript: `$ ${[command, ...args].join(' ')} (exit ${code})\n${stdout}${stderr}`,
        });
      },
    );
  });
}

export interface WorkspaceCopy {
  dir: string;
  packages: WorkspacePackage[];
  /** `changeset <args>` with the workspace's @changesets/cli. */
  changeset(args: string[]): Promise<CommandResult>;
  pnpm(args: string[]): Promise<CommandResult>;
  /** The committed snapshot again (node_modules links kept). */
  reset(): void;
  /** Pending changesets (file names), README excluded. */
  pendingChangesets(): string[];
  versions(): Record<string, string>;
  remove(): void;
}

/**
 * A throwaway copy of the workspace as it is now — tracked and new files (what `git ls-files -co
 * --exclude-standard` lists, so uncommitted work is included and ignored files are not), plus the built
 * `dist/` of the published packages — committed as one snapshot in a fresh git repository.
 * node_modules is not installed: the root one is linked (for @changesets/cli and its changelog), and each
 * published package gets links to the workspace packages it depends on, the links `pnpm install` makes
 * and `pnpm publish` reads to replace `workspace:` ranges with real versions.
 */
export function copyWorkspace(): WorkspaceCopy {
  const dir = mkdtempSync(join(tmpdir(), 'eka-release-'));
  try {
    const files = git(['ls-files', '-co', '--exclude-standard', '-z'], ROOT).split('\0').filter(Boolean);
    for (const file of files) {
      if (!existsSync(join(ROOT, file))) continue; // deleted, not yet committed
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(dir, file));
    }
    const packages = workspacePackages(dir);
    for (const pkg of packages.filter((candidate) => !candidate.private)) {
      if (existsSync(join(ROOT, pkg.dir, 'dist')))
        cpSync(join(ROOT, pkg.dir, 'dist'), join(dir, pkg.dir, 'dist'), { recursive: true });
      linkWorkspaceDependencies(dir, pkg, packages);
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    git(['init', '--quiet', '--initial-branch=main'], dir);
    git(['add', '--all'], dir);
    git(['commit', '--quiet', '--no-verify', '--message', 'workspace snapshot'], dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const packages = workspacePackages(dir);
  const changesetDir = join(dir, '.changeset');
  return {
    dir,
    packages,
    changeset: (args) => runCommand(process.execPath, [CHANGESET_BIN, ...args], dir),
    pnpm: (args) => runCommand('pnpm', args, dir),
    reset() {
      git(['reset', '--hard', '--quiet'], dir);
      git(['clean', '-d', '--force', '--quiet'], dir); // ignored files (node_modules links, dist) stay
    },
    pendingChangesets: () =>
      readdirSync(changesetDir).filter((file) => file.endsWith('.md') && file.toLowerCase() !== 'readme.md'),
    versions: () => Object.fromEntries(packages.map((pkg) => [pkg.name, readManifest(dir, pkg).version])),
    remove() {
      if (!process.env.EKA_KEEP_SCRATCH) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a changeset in the copy, replacing every pending one. */
export function replaceChangesets(
  copy: WorkspaceCopy,
  releases: Record<string, 'major' | 'minor' | 'patch'>,
) {
  for (const file of copy.pendingChangesets()) unlinkSync(join(copy.dir, '.changeset', file));
  const front = Object.entries(releases)
    .map(([name, type]) => `"${name}": ${type}`)
    .join('\n');
  writeFileSync(join(copy.dir, '.changeset', 'release-check.md'), `---\n${front}\n---\n\nRelease check.\n`);
}

function linkWorkspaceDependencies(root: string, pkg: WorkspacePackage, packages: WorkspacePackage[]) {
  const manifest = readManifest(root, pkg);
  const ranges = {
    ...manifest.dependencies,
    ...manifest.devDependencies,
    ...manifest.optionalDependencies,
    ...manifest.peerDependencies,
  };
  for (const [name, range] of Object.entries(ranges)) {
    if (!range.startsWith('workspace:')) continue;
    const target = packages.find((candidate) => candidate.name === name);
    if (!target) continue;
    const link = join(root, pkg.dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(root, target.dir)), link, 'dir');
  }
}
