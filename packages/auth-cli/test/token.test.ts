import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, gateway, run, SHARING_KEY, tempDir } from './helpers';

/** Calls the emulator's echo API with `headers`; resolves the status and the caller it saw. */
async function echo(url: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/api/echo`, { headers });
  const body = (await response.json()) as { clientId?: string; workspace?: string | null };
  return { status: response.status, clientId: body.clientId, workspace: body.workspace };
}

/** `Name: value` lines as a headers object. */
const headerLines = (text: string) =>
  Object.fromEntries(
    text
      .trimEnd()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
  );

describe('eka-auth token', () => {
  it('prints only a working access token on stdout', async () => {
    const gw = await gateway();
    const result = await run(['token', '--no-cache'], envFor(gw));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^[\w.-]+\n$/);
    expect(await echo(gw.url, { authorization: `Bearer ${result.stdout.trim()}` })).toMatchObject({
      status: 200,
      clientId: 'demo-client',
    });
    expect(result.leaks).toEqual([]);
  });

  it('reuses the cached session between runs: no token call while it is valid', async () => {
    const gw = await gateway();
    const cache = join(tempDir(), 'nested', 'sessions.json');
    const first = await run(['token', '--cache', cache], envFor(gw));
    const second = await run(['token'], envFor(gw, { EKA_AUTH_CACHE: cache }));
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.stdout).toBe(first.stdout);
    expect(gw.stats.tokenEndpointCalls).toBe(1);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(statSync(join(cache, '..')).mode & 0o777).toBe(0o700);
    const stored = readFileSync(cache, 'utf8');
    expect(stored).not.toContain(gw.credentials.clientSecret);
  });

  it('defaults to $XDG_CACHE_HOME/eka-auth/sessions.json', async () => {
    const gw = await gateway();
    const xdg = tempDir();
    expect((await run(['token'], envFor(gw, { XDG_CACHE_HOME: xdg }))).code).toBe(0);
    expect(statSync(join(xdg, 'eka-auth', 'sessions.json')).mode & 0o777).toBe(0o600);
  });

  it('refreshes an expired cached token with refresh v2 (no second login)', async () => {
    const gw = await gateway({ accessTokenTtlSec: 1 });
    const env = envFor(gw, { EKA_AUTH_CACHE: join(tempDir(), 's.json') });
    const first = await run(['token'], env);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await run(['token'], env);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.stdout).not.toBe(first.stdout);
    expect(gw.stats).toMatchObject({ logins: { ok: 1 }, refreshes: { ok: 1, reused: 0 } });
    expect(second.leaks).toEqual([]);
  });

  it('renews a cached token of unknown lifetime (opaque, no expires_in) on every run', async () => {
    const gw = await gateway({ minimalLoginResponse: true });
    let issued = 0;
    // The gateway's JWT replaced by an opaque token: no exp, no expires_in, so no known expiry.
    const opaque = async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/login') || !response.ok) return response;
      return Response.json({ access_token: `opaque-token-${++issued}` });
    };
    const env = envFor(gw, { EKA_AUTH_CACHE: join(tempDir(), 's.json') });
    const first = await run(['token'], env, { fetch: opaque });
    const second = await run(['token'], env, { fetch: opaque });
    expect([first.stdout, second.stdout]).toEqual(['opaque-token-1\n', 'opaque-token-2\n']);
    expect(gw.stats.logins.ok).toBe(2);
  });

  it('--force-refresh refreshes a valid cached token; the next run uses the new one', async () => {
    const gw = await gateway();
    const env = envFor(gw, { EKA_AUTH_CACHE: join(tempDir(), 's.json') });
    const first = await run(['token'], env);
    const forced = await run(['token', '--force-refresh'], env);
    const third = await run(['token'], env);
    expect(forced.stdout).not.toBe(first.stdout);
    expect(third.stdout).toBe(forced.stdout);
    expect(gw.stats).toMatchObject({ logins: { ok: 1 }, refreshes: { ok: 1 } });
  });

  it('logs in again when the cached refresh token is rejected', async () => {
    const gw = await gateway({ accessTokenTtlSec: 1 });
    const env = envFor(gw, { EKA_AUTH_CACHE: join(tempDir(), 's.json') });
    expect((await run(['token'], env)).code).toBe(0);
    gw.control.revokeRefreshTokens();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const again = await run(['token'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(gw.stats).toMatchObject({ logins: { ok: 2 }, refreshes: { rejected: 1 } });
  });

  it('keeps sessions apart per gateway and per sharing key in one cache file', async () => {
    const [a, b] = [await gateway(), await gateway()];
    const cache = join(tempDir(), 's.json');
    const onA = await run(['token'], envFor(a, { EKA_AUTH_CACHE: cache }));
    const onB = await run(['token'], envFor(b, { EKA_AUTH_CACHE: cache }));
    const shared = await run(['token'], envFor(a, { EKA_AUTH_CACHE: cache, EKA_SHARING_KEY: SHARING_KEY }));
    expect(new Set([onA.stdout, onB.stdout, shared.stdout]).size).toBe(3);
    expect((await echo(b.url, { auth: onB.stdout.trim() })).status).toBe(200);
    expect(await echo(a.url, { auth: shared.stdout.trim() })).toMatchObject({
      status: 200,
      workspace: 'ws-shared',
    });
    expect(readFileSync(cache, 'utf8')).not.toContain(SHARING_KEY);
    expect(shared.leaks).toEqual([]);
  });

  it.each([
    ['auth', ['auth']],
    ['authorization', ['Authorization']],
    ['both', ['auth', 'Authorization']],
  ])('--header --header-mode %s prints header lines the gateway accepts', async (mode, names) => {
    const gw = await gateway({ acceptHeader: mode === 'authorization' ? 'authorization' : 'auth' });
    const result = await run(['token', '--no-cache', '--header', '--header-mode', mode], envFor(gw));
    expect(result.code).toBe(0);
    const headers = headerLines(result.stdout);
    expect(Object.keys(headers)).toEqual(names);
    const token = result.stdout.match(/[\w-]+\.[\w-]+\.[\w-]+/)![0];
    expect(headers.Authorization ?? `Bearer ${token}`).toBe(`Bearer ${token}`);
    expect((await echo(gw.url, headers)).status).toBe(200);
  });

  it('--header defaults to Authorization: Bearer (EKA_HEADER_MODE overrides)', async () => {
    const gw = await gateway();
    expect((await run(['token', '--no-cache', '--header'], envFor(gw))).stdout).toMatch(
      /^Authorization: Bearer \S+\n$/,
    );
    const auth = await run(['token', '--no-cache', '--header'], envFor(gw, { EKA_HEADER_MODE: 'auth' }));
    expect(auth.stdout).toMatch(/^auth: \S+\n$/);
  });

  it('fails with exit 1, nothing on stdout and a diagnosis on stderr', async () => {
    const gw = await gateway();
    const result = await run(
      ['token', '--no-cache'],
      envFor(gw, { EKA_CLIENT_SECRET: 'wrong-secret-value' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('credentials-rejected');
    expect(result.stderr).toContain('next step:');
    expect(result.leaks).toEqual([]);
  });

  it.each([
    ['a hanging login', 'timeout', { status: 0 }],
    ['a 503', 'gateway-error', { status: 503 }],
  ] as const)('reports %s as %s', async (_name, id, failure) => {
    const gw = await gateway();
    gw.control.failNext('login', 10, failure.status ? { status: failure.status } : 'hang');
    const result = await run(['token', '--no-cache', '--timeout-ms', '200'], envFor(gw));
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toContain(`${id}: `);
  });

  it('ignores a corrupt cache file with a warning on stderr, and overwrites it', async () => {
    const gw = await gateway();
    const cache = join(tempDir(), 's.json');
    writeFileSync(cache, '{ not json', { mode: 0o600 });
    const result = await run(['token', '--cache', cache], envFor(gw));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(result.stderr).toContain('warning');
    expect(JSON.parse(readFileSync(cache, 'utf8'))).toBeTypeOf('object');
  });

  it('refuses an http base URL before any call', async () => {
    const result = await run(['token', '--no-cache'], {
      EKA_CLIENT_ID: 'c',
      EKA_CLIENT_SECRET: 'secret-value-2',
      EKA_BASE_URL: 'http://api.eka.care',
    });
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toContain('insecure-url');
    expect(result.leaks).toEqual([]);
  });
});

describe('eka-auth token run concurrently', () => {
  it('several runs at once with no session make one login between them', async () => {
    const gw = await gateway();
    const env = envFor(gw, { EKA_AUTH_CACHE: join(tempDir(), 's.json') });
    const runs = await Promise.all(Array.from({ length: 6 }, () => run(['token'], env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect(gw.stats).toMatchObject({ logins: { ok: 1 }, tokenEndpointCalls: 1 });
  });

  it('several runs at once with an expired session make one refresh and never reuse a refresh token', async () => {
    const gw = await gateway({ accessTokenTtlSec: 1 });
    const env = envFor(gw, { EKA_AUTH_CACHE: join(tempDir(), 's.json') });
    expect((await run(['token'], env)).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const runs = await Promise.all(Array.from({ length: 6 }, () => run(['token'], env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect(gw.stats).toMatchObject({ logins: { ok: 1 }, refreshes: { ok: 1, rejected: 0, reused: 0 } });
  });

  it('takes over a lock left by a process that died', async () => {
    const gw = await gateway();
    const cache = join(tempDir(), 's.json');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(`${cache}.lock`, `${dead}\n`);
    const result = await run(['token'], envFor(gw, { EKA_AUTH_CACHE: cache }));
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(`${cache}.lock`)).toBe(false);
  });

  it('gives up with cache-locked when a live process holds the lock past the timeout', async () => {
    const gw = await gateway();
    const cache = join(tempDir(), 's.json');
    writeFileSync(`${cache}.lock`, `${process.pid}\n`);
    const result = await run(['token', '--timeout-ms', '300'], envFor(gw, { EKA_AUTH_CACHE: cache }));
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toContain('cache-locked');
    expect(result.stderr).toContain(`${cache}.lock`);
    expect(gw.stats.tokenEndpointCalls).toBe(0);
  });
});
