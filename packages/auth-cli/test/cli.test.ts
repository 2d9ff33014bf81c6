import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from '../src/parseCliArgs';
import { envFor, gateway, run, tempDir } from './helpers';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Spawns the built bin with `env` only (no inherited EKA_* variables). */
function spawnCli(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm --filter @eka/auth-cli build\` first`);
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('eka-auth bin', () => {
  it('--help prints usage on stdout and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await spawnCli([flag]);
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain('Usage: eka-auth <command>');
      expect(result.stdout).toContain('Exit codes');
    }
  });

  it('--version prints the package version', async () => {
    const result = await spawnCli(['--version']);
    expect([result.code, result.stdout]).toEqual([0, `${version}\n`]);
  });

  it.each([
    [['doctor', '--nope']],
    [['token', '--json']],
    [['doctor', '--header']],
    [['frobnicate']],
    [[]],
    [['token', '--header-mode', 'cookie']],
    [['token', '--timeout-ms', '0']],
    [['doctor', 'extra']],
  ])('exits 2 with usage on stderr for %j', async (args) => {
    const result = await spawnCli(args, { EKA_CLIENT_ID: 'c', EKA_CLIENT_SECRET: 'secret-value-3' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: eka-auth');
    expect(result.stderr).not.toContain('secret-value-3');
  });

  it('exits 2 naming the missing credentials', async () => {
    const result = await spawnCli(['doctor']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'missing credentials: set EKA_CLIENT_ID (--client-id) and EKA_CLIENT_SECRET',
    );
  });

  it('never echoes a mistyped argument that could be a secret', async () => {
    const result = await spawnCli(['token', 'Zx9#secret-pasted-here'], {
      EKA_CLIENT_ID: 'c',
      EKA_CLIENT_SECRET: 's',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('Zx9#secret-pasted-here');
  });

  it('doctor --json and token work from the built bin against the emulator', async () => {
    const gw = await gateway();
    const env = { ...envFor(gw), EKA_AUTH_CACHE: '/dev/null/unused' } as Record<string, string>;
    const doctor = await spawnCli(['doctor', '--json'], env);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ ok: true, login: { ok: true }, refresh: { ok: true } });
    const token = await spawnCli(['token', '--no-cache'], env);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(`${doctor.stdout}${doctor.stderr}${token.stderr}`).not.toContain(gw.credentials.clientSecret);
  });

  it('token runs in parallel processes share one login through the cache lock', async () => {
    const gw = await gateway();
    const env = { ...envFor(gw), EKA_AUTH_CACHE: join(tempDir(), 's.json') } as Record<string, string>;
    const runs = await Promise.all(Array.from({ length: 4 }, () => spawnCli(['token'], env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect(gw.stats.tokenEndpointCalls).toBe(1);
  });

  it('doctor exits 1 when login fails', async () => {
    const gw = await gateway();
    const result = await spawnCli(['doctor'], { ...envFor(gw), EKA_CLIENT_SECRET: 'wrong-secret' } as Record<
      string,
      string
    >);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('credentials-rejected');
    expect(result.stdout).not.toContain('wrong-secret');
  });
});

describe('parseCliArgs', () => {
  const env = { EKA_CLIENT_ID: 'env-id', EKA_CLIENT_SECRET: 'env-secret', HOME: '/home/u' };

  it('reads the EKA_* environment, with flags taking precedence', () => {
    expect(
      parseCliArgs(['doctor'], { ...env, EKA_SHARING_KEY: 'k', EKA_BASE_URL: 'https://api.dev.eka.care' }),
    ).toEqual({
      command: 'doctor',
      clientId: 'env-id',
      clientSecret: 'env-secret',
      sharingKey: 'k',
      baseUrl: 'https://api.dev.eka.care',
      timeoutMs: 10_000,
      json: false,
    });
    const flags = ['--client-id', 'f-id', '--client-secret', 'f-secret', '--sharing-key', 'f-key'];
    const parsed = parseCliArgs(
      ['doctor', ...flags, '--base-url', 'https://x.test', '--timeout-ms', '500', '--json'],
      env,
    );
    expect(parsed).toMatchObject({
      clientId: 'f-id',
      clientSecret: 'f-secret',
      sharingKey: 'f-key',
      baseUrl: 'https://x.test',
      timeoutMs: 500,
      json: true,
    });
  });

  it('defaults token to the production gateway, Authorization and the XDG cache', () => {
    expect(parseCliArgs(['token'], env)).toEqual({
      command: 'token',
      clientId: 'env-id',
      clientSecret: 'env-secret',
      sharingKey: undefined,
      baseUrl: 'https://api.eka.care',
      timeoutMs: 10_000,
      header: false,
      headerMode: 'authorization',
      cachePath: '/home/u/.cache/eka-auth/sessions.json',
      forceRefresh: false,
    });
    expect(parseCliArgs(['token'], { ...env, XDG_CACHE_HOME: '/xdg' })).toMatchObject({
      cachePath: '/xdg/eka-auth/sessions.json',
    });
    expect(parseCliArgs(['token', '--no-cache'], { ...env, EKA_AUTH_CACHE: '/c' })).toMatchObject({
      cachePath: null,
    });
  });

  it('treats empty variables as unset', () => {
    expect(() => parseCliArgs(['doctor'], { ...env, EKA_CLIENT_SECRET: '' })).toThrow(UsageError);
    expect(parseCliArgs(['doctor'], { ...env, EKA_SHARING_KEY: '' })).toMatchObject({
      sharingKey: undefined,
    });
  });

  it.each([
    [['token', '--cache', 'a', '--no-cache']],
    [['doctor', '--timeout-ms', '1.5']],
    [['doctor', '--client-secret']],
  ])('refuses %j', (args) => {
    expect(() => parseCliArgs(args, env)).toThrow(UsageError);
  });

  it('runCli prints usage errors on stderr only', async () => {
    const result = await run(['doctor', '--bogus'], env);
    expect([result.code, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(/^eka-auth: .*--bogus/);
  });
});
