#!/usr/bin/env node
// Every change to a published package's src/ needs a changeset naming that package.
//
//   node tooling/check-changesets.mjs [base-ref]
//
// Compares the working tree (commits, staged and unstaged edits, untracked files) with the merge base of
// HEAD and `base-ref` (default: origin/main when it exists, else the repository's first commit). Fails
// when a published workspace package (one without "private": true) has changed files under src/ —
// tests next to the sources (*.test.*, *.spec.*, __tests__/) excepted — and no .changeset/*.md names it.
// Also fails when a changeset names a package that does not exist or is private (`changeset version`
// would reject it). Exit codes: 0 ok, 1 missing/invalid changesets, 2 usage or git error.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const git = (args, cwd) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryGit = (args, cwd) => {
  try {
    return git(args, cwd).trim();
  } catch {
    return undefined;
  }
};

/** The workspace globs of pnpm-workspace.yaml (`packages:` list); only `dir` and `dir/*` forms. */
function workspaceGlobs(root) {
  const file = join(root, 'pnpm-workspace.yaml');
  if (!existsSync(file)) return ['packages/*'];
  const globs = [];
  let inPackages = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\S/.test(line)) inPackages = /^packages:\s*$/.test(line);
    else if (inPackages) {
      const item = /^\s+-\s+['"]?([^'"#]+?)['"]?\s*(#.*)?$/.exec(line);
      if (item) globs.push(item[1]);
    }
  }
  return globs;
}

/** Every workspace package: `{ name, dir (relative to root), private }`. */
export function workspacePackages(root) {
  const dirs = [];
  for (const glob of workspaceGlobs(root)) {
    if (glob.startsWith('!')) continue;
    if (glob.endsWith('/*')) {
      const parent = glob.slice(0, -2);
      if (!existsSync(join(root, parent))) continue;
      for (const entry of readdirSync(join(root, parent), { withFileTypes: true }))
        if (entry.isDirectory()) dirs.push(`${parent}/${entry.name}`);
    } else if (!glob.includes('*')) dirs.push(glob.replace(/\/$/, ''));
  }
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      return { name: manifest.name, dir, private: manifest.private === true };
    })
    .filter((pkg) => pkg.name);
}

/** Package names in a changeset's front matter (`"@scope/name": minor`). */
export function packagesInChangeset(text) {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!match) return [];
  return match[1]
    .split(/\r?\n/)
    .map((line) => /^\s*(['"]?)([^'":]+)\1\s*:\s*(major|minor|patch|none)\s*$/.exec(line)?.[2])
    .filter(Boolean);
}

/** The ref to compare with: the argument, else origin/main, else the first commit. */
export function resolveBase(root, requested) {
  if (requested) {
    if (!tryGit(['rev-parse', '--verify', '--quiet', `${requested}^{commit}`], root))
      throw new Error(`base ref "${requested}" does not exist`);
    return requested;
  }
  if (tryGit(['rev-parse', '--verify', '--quiet', 'origin/main^{commit}'], root)) return 'origin/main';
  const roots = tryGit(['rev-list', '--max-parents=0', 'HEAD'], root);
  if (!roots) throw new Error('no commits yet: nothing to compare with');
  return roots.split('\n').pop();
}

const isTestFile = (path) => /(^|\/)__tests__\/|\.(test|spec)\.[cm]?[jt]sx?$/.test(path);

/**
 * Runs the check in the repository containing `cwd`.
 * @returns {{ base: string, ok: boolean, lines: string[] }}
 */
export function checkChangesets({ cwd = process.cwd(), base: requested } = {}) {
  const root = git(['rev-parse', '--show-toplevel'], cwd).trim();
  const base = resolveBase(root, requested);
  const mergeBase = tryGit(['merge-base', base, 'HEAD'], root) ?? base;
  const changed = new Set(
    [
      ...git(['diff', '--name-only', '--no-renames', mergeBase, '--'], root).split('\n'),
      ...git(['ls-files', '--others', '--exclude-standard'], root).split('\n'),
    ].filter(Boolean),
  );

  const packages = workspacePackages(root);
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const changesetDir = join(root, '.changeset');
  const changesets = existsSync(changesetDir)
    ? readdirSync(changesetDir)
        .filter((file) => file.endsWith('.md') && file.toLowerCase() !== 'readme.md')
        .map((file) => ({ file, names: packagesInChangeset(readFileSync(join(changesetDir, file), 'utf8')) }))
    : [];

  const lines = [];
  let ok = true;
  for (const { file, names } of changesets) {
    for (const name of names) {
      const pkg = byName.get(name);
      if (!pkg) {
        ok = false;
        lines.push(`✗ .changeset/${file} names ${name}, which is not a workspace package`);
      } else if (pkg.private) {
        ok = false;
        lines.push(`✗ .changeset/${file} names ${name}, which is private (never versioned or published)`);
      }
    }
  }
  for (const pkg of packages.filter((candidate) => !candidate.private)) {
    const sources = [...changed].filter((path) => path.startsWith(`${pkg.dir}/src/`) && !isTestFile(path));
    if (sources.length === 0) continue;
    const covering = changesets.filter((changeset) => changeset.names.includes(pkg.name)).map((c) => c.file);
    if (covering.length > 0) {
      lines.push(
        `✓ ${pkg.name}: ${sources.length} changed file(s) in src/, covered by ${covering.join(', ')}`,
      );
    } else {
      ok = false;
      const shown =
        sources.slice(0, 5).join(', ') + (sources.length > 5 ? `, … (${sources.length} in all)` : '');
      lines.push(`✗ ${pkg.name}: src/ changed (${shown}) but no .changeset/*.md names it`);
    }
  }
  if (lines.length === 0) lines.push('no published package has changes in src/');
  return { base, mergeBase, ok, lines };
}

const invokedDirectly =
  process.argv[1] && relative(process.argv[1], new URL(import.meta.url).pathname) === '';
if (invokedDirectly) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.length > 1) {
    console.log(
      'usage: node tooling/check-changesets.mjs [base-ref]   (default: origin/main, else the first commit)',
    );
    process.exit(args.includes('--help') ? 0 : 2);
  }
  try {
    const result = checkChangesets({ base: args[0] });
    const base = /^[0-9a-f]{40}$/.test(result.base)
      ? `${result.base.slice(0, 12)} (first commit)`
      : result.base;
    console.log(`changesets vs ${base}, merge base ${result.mergeBase.slice(0, 12)}:`);
    for (const line of result.lines) console.log(`  ${line}`);
    if (!result.ok)
      console.log(
        '\nAdd one with `pnpm changeset` (pick the packages, describe the change for their users), then commit it.',
      );
    process.exit(result.ok ? 0 : 1);
  } catch (error) {
    console.error(`check-changesets: ${error.message}`);
    process.exit(2);
  }
}
