import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const PRECHECK = new URL('../../../tooling/precheck.mjs', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];

/** A directory that is the whole PATH of the precheck, with `programs` (name → shell script body) in it. */
function fakeBin(programs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'eka-precheck-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(programs))
    writeFileSync(join(dir, name), body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

/** Runs tooling/precheck.mjs with only `bin` on the PATH. */
function precheck(bin: string, env: Record<string, string | undefined> = {}) {
  const run = spawnSync(process.execPath, [PRECHECK], {
    env: { PATH: bin, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const REDIS = 'echo "Redis server v=7.0.0"';

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('precheck', () => {
  it('passes silently when redis-server runs and CHROMIUM_PATH is a file', () => {
    const bin = fakeBin({ 'redis-server': REDIS, chromium: 'exit 0' });
    const run = precheck(bin, { CHROMIUM_PATH: join(bin, 'chromium') });
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits at once with one line naming the apt-get command when it may not install', () => {
    const bin = fakeBin({ chromium: 'exit 0' });
    const run = precheck(bin, { CHROMIUM_PATH: join(bin, 'chromium'), EKA_PRECHECK_INSTALL: '0' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /needs redis-server, missing here: run `(sudo )?apt-get install -y redis-server`/,
    );
  });

  it('names CHROMIUM_PATH when it points nowhere', () => {
    const bin = fakeBin({ 'redis-server': REDIS });
    const run = precheck(bin, { CHROMIUM_PATH: join(bin, 'no-such-chromium') });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`CHROMIUM_PATH=${join(bin, 'no-such-chromium')} is not a file`);
  });

  it.runIf(isRoot)('as root with apt-get: installs what is missing, says so, and checks again', () => {
    // A fake apt-get that logs its arguments and "installs" redis-server into the fake PATH.
    const bin = fakeBin({ chromium: 'exit 0' });
    writeFileSync(
      join(bin, 'apt-get'),
      `#!${process.execPath}
const { appendFileSync, writeFileSync } = require('node:fs');
appendFileSync(${JSON.stringify(join(bin, 'apt.log'))}, process.argv.slice(2).join(' ') + '\\n');
if (process.argv[2] === 'install')
  writeFileSync(${JSON.stringify(join(bin, 'redis-server'))}, '#!/bin/sh\\n${REDIS.replaceAll('"', '\\"')}\\n', { mode: 0o755 });
`,
      { mode: 0o755 },
    );
    const run = precheck(bin, { CHROMIUM_PATH: join(bin, 'chromium') });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('installing redis-server (apt-get install -y redis-server, as root)');
    expect(run.stdout).toContain('installed redis-server.');
    const calls = readFileSync(join(bin, 'apt.log'), 'utf8')
      .split('\n')
      .filter((line) => line !== '--version');
    expect(calls).toEqual(['update -qq', 'install -y -qq redis-server', '']);
  });

  it.runIf(isRoot)('as root: an apt-get that fails ends in one line naming the command', () => {
    const apt =
      '[ "$1" = --version ] && exit 0; echo "E: Unable to locate package redis-server" >&2; exit 100';
    const bin = fakeBin({ chromium: 'exit 0', 'apt-get': apt });
    const run = precheck(bin, { CHROMIUM_PATH: join(bin, 'chromium') });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('installing redis-server');
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      'pnpm test: could not install redis-server: run `apt-get install -y redis-server` and see why.',
    );
    expect(run.stderr).toContain('E: Unable to locate package redis-server');
  });
});
