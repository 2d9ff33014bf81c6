import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { checkChangesets, packagesInChangeset } from '../../../tooling/check-changesets.mjs';
import { git } from '../src/git';
import { ROOT } from '../src/workspaceCopy';

const SCRIPT = join(ROOT, 'tooling', 'check-changesets.mjs');
let repo: string;

const write = (path: string, text: string) => {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
};
const manifest = (name: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ name, version: '1.0.0', ...extra }, null, 2)}\n`;
const commit = (message: string) => {
  git(['add', '--all'], repo);
  git(['commit', '--quiet', '--no-verify', '--message', message], repo);
  return git(['rev-parse', 'HEAD'], repo).trim();
};
const changeset = (file: string, releases: Record<string, string>) =>
  write(
    `.changeset/${file}`,
    `---\n${Object.entries(releases)
      .map(([name, type]) => `"${name}": ${type}`)
      .join('\n')}\n---\n\nSomething users notice.\n`,
  );
const check = (base?: string) => checkChangesets({ cwd: repo, base });
const cli = (args: string[] = []) => {
  try {
    return {
      code: 0,
      stdout: execFileSync(process.execPath, [SCRIPT, ...args], {
        cwd: repo,
        encoding: 'utf8',
        stdio: 'pipe',
      }),
    };
  } catch (error: any) {
    return { code: error.status as number, stdout: `${error.stdout}${error.stderr}` };
  }
};

/** A small pnpm workspace: two published packages, a private one, an example; one commit. */
beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'eka-changeset-check-'));
  git(['init', '--quiet', '--initial-branch=main'], repo);
  write('package.json', manifest('root', { private: true }));
  write('pnpm-workspace.yaml', "packages:\n  - packages/*\n  - 'examples/*'\n");
  write('.changeset/README.md', '# Changesets\n');
  write('.changeset/config.json', '{}\n');
  write('packages/a/package.json', manifest('@x/a'));
  write('packages/a/src/index.ts', 'export const a = 1;\n');
  write('packages/b/package.json', manifest('@x/b'));
  write('packages/b/src/index.ts', 'export const b = 1;\n');
  write('packages/internal/package.json', manifest('@x/internal', { private: true }));
  write('packages/internal/src/index.ts', 'export const i = 1;\n');
  write('examples/demo/package.json', manifest('@x/demo', { private: true }));
  write('examples/demo/src/main.ts', 'console.log(1);\n');
  commit('initial');
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe('tooling/check-changesets.mjs', () => {
  it('passes when nothing changed (the base defaults to the first commit without origin/main)', () => {
    const result = check();
    expect(result.ok).toBe(true);
    expect(result.base).toBe(git(['rev-list', '--max-parents=0', 'HEAD'], repo).trim());
  });

  it('fails for a committed change to a published src/ without a changeset, naming the package', () => {
    write('packages/a/src/index.ts', 'export const a = 2;\n');
    commit('change a');
    const result = check();
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toMatch(/✗ @x\/a: src\/ changed \(packages\/a\/src\/index.ts\)/);
    expect(result.lines.join('\n')).not.toContain('@x/b');
  });

  it('sees staged, unstaged and untracked changes too', () => {
    write('packages/b/src/new.ts', 'export const n = 1;\n'); // untracked
    expect(check().lines.join('\n')).toContain('✗ @x/b');
    write('packages/a/src/index.ts', 'export const a = 3;\n'); // unstaged
    expect(check().lines.join('\n')).toContain('✗ @x/a');
  });

  it('passes once a changeset names the package (any bump), also for a new package', () => {
    write('packages/a/src/index.ts', 'export const a = 2;\n');
    write('packages/c/package.json', manifest('@x/c'));
    write('packages/c/src/index.ts', 'export const c = 1;\n');
    changeset('brave-dogs.md', { '@x/a': 'patch', '@x/c': 'minor' });
    const result = check();
    expect(result.ok, result.lines.join('\n')).toBe(true);
    expect(result.lines.join('\n')).toContain('✓ @x/a: 1 changed file(s) in src/, covered by brave-dogs.md');
  });

  it('a changeset for another package does not count', () => {
    write('packages/a/src/index.ts', 'export const a = 2;\n');
    changeset('other.md', { '@x/b': 'patch' });
    expect(check().ok).toBe(false);
  });

  it('ignores private packages, examples, files outside src/, and tests inside src/', () => {
    write('packages/internal/src/index.ts', 'export const i = 2;\n');
    write('examples/demo/src/main.ts', 'console.log(2);\n');
    write('packages/a/README.md', '# a\n');
    write('packages/a/test/a.test.ts', 'test\n');
    write('packages/b/src/index.test.ts', 'test\n');
    write('packages/b/src/__tests__/x.ts', 'test\n');
    const result = check();
    expect(result.ok, result.lines.join('\n')).toBe(true);
  });

  it('rejects a changeset naming a private or unknown package', () => {
    changeset('wrong.md', { '@x/internal': 'patch', '@x/nope': 'minor' });
    const result = check();
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toContain('names @x/internal, which is private');
    expect(result.lines.join('\n')).toContain('names @x/nope, which is not a workspace package');
  });

  it('compares with the merge base of origin/main when it exists, or with the ref given', () => {
    write('packages/a/src/index.ts', 'export const a = 2;\n');
    const second = commit('change a');
    git(['update-ref', 'refs/remotes/origin/main', second], repo);
    expect(check().base).toBe('origin/main');
    expect(check().ok).toBe(true); // nothing changed since origin/main
    write('packages/b/src/index.ts', 'export const b = 2;\n');
    commit('change b');
    expect(check().lines.join('\n')).toContain('✗ @x/b');
    expect(check('HEAD').ok).toBe(true);
  });

  it('CLI: exit 0 when fine, 1 with the packages and how to fix it, 2 for a bad base ref', () => {
    expect(cli().code).toBe(0);
    write('packages/a/src/index.ts', 'export const a = 2;\n');
    const failing = cli();
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('✗ @x/a');
    expect(failing.stdout).toContain('pnpm changeset');
    expect(cli(['no-such-ref']).code).toBe(2);
  });

  it('reads changeset front matter as changesets does', () => {
    expect(packagesInChangeset('---\n"@x/a": patch\n\'@x/b\': minor\n@x/c: major\n---\n\ntext\n')).toEqual([
      '@x/a',
      '@x/b',
      '@x/c',
    ]);
    expect(packagesInChangeset('---\n---\n\nempty changeset\n')).toEqual([]);
  });
});
