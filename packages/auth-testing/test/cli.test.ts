import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../src/parseCliArgs';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Spawns the built bin; resolves its exit code and output. */
function runCli(args: string[], onStdout?: (text: string, kill: () => void) => void) {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run \`pnpm --filter @eka/auth-testing build\` first`);
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    onStdout?.(stdout, () => child.kill('SIGTERM'));
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('eka-gateway CLI', () => {
  it('starts, prints the URL and demo credentials, serves logins and exits 0 on SIGTERM', async () => {
    let loginStatus = 0;
    let asked = false;
    const result = await runCli(['--port', '0', '--access-ttl', '60', '--header', 'auth'], (out, kill) => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (!url || asked || !out.includes('Ctrl+C')) return;
      asked = true;
      void fetch(`${url}/connect-auth/v1/account/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'demo-client', client_secret: 'demo-secret' }),
      })
        .then(async (res) => {
          loginStatus = res.status;
          expect((await res.json()).expires_in).toBe(60);
        })
        .finally(kill);
    });
    expect(result.code).toBe(0);
    expect(loginStatus).toBe(200);
    for (const text of [
      'demo-client',
      'demo-secret',
      'demo-sharing-key',
      'demo-long-lived-token',
      'token header:      auth',
    ]) {
      expect(result.stdout).toContain(text);
    }
    expect(result.stdout).toContain('SIGTERM: stopping');
  });

  it('exits 2 with usage on a bad flag', async () => {
    const result = await runCli(['--header', 'cookie']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--header must be auth, authorization or both');
    expect(result.stderr).toContain('Usage: eka-gateway');
  });

  it('prints usage with --help', async () => {
    const result = await runCli(['--help']);
    expect([result.code, result.stdout]).toEqual([0, expect.stringContaining('Usage: eka-gateway')]);
  });
});

describe('parseCliArgs', () => {
  it('maps flags to gateway options', () => {
    const args = ['--port', '8787', '--access-ttl', '30', '--refresh-ttl', '90', '--header', 'authorization'];
    expect(parseCliArgs([...args, '--minimal-login', '--secret', 's'])).toEqual({
      help: false,
      options: {
        port: 8787,
        accessTokenTtlSec: 30,
        refreshTokenTtlSec: 90,
        acceptHeader: 'authorization',
        minimalLoginResponse: true,
        secret: 's',
      },
    });
  });

  it.each([
    ['--port', '-1'],
    ['--port', '70000'],
    ['--access-ttl', '0'],
    ['--access-ttl', '1.5'],
    ['--nope'],
  ])('refuses %s %s', (...args) => {
    expect(() => parseCliArgs(args)).toThrow(TypeError);
  });
});
