import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN_FILE, parseCli } from '../src/cli';
import { main } from '../src/run';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = join(packageDir, 'dist', 'main.js');

/** The test runs the built CLI; build it when dist is missing or older than the sources. */
function ensureBuilt() {
  const built = existsSync(cli) ? statSync(cli).mtimeMs : 0;
  const sources = readdirSync(join(packageDir, 'src')).map(
    (f) => statSync(join(packageDir, 'src', f)).mtimeMs,
  );
  if (built >= Math.max(...sources)) return;
  const result = spawnSync('pnpm', ['run', 'build'], { cwd: packageDir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a child process, like a user would. */
function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      // Only what the CLI needs: no EKA_* variables leak in from the test's own environment.
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cli-file-storage example (the built CLI as child processes)', () => {
  let gateway: EkaGateway;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => ensureBuilt(), 60_000);
  beforeEach(async () => {
    gateway = await startEkaGateway();
    dir = await mkdtemp(join(tmpdir(), 'eka-cli-test-'));
    env = {
      EKA_CLIENT_ID: gateway.credentials.clientId,
      EKA_CLIENT_SECRET: gateway.credentials.clientSecret,
      EKA_BASE_URL: gateway.url,
    };
  });
  afterEach(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the second run reuses the token from the file: one login in total; the file is 0600', async () => {
    const store = join(dir, 'nested', 'tokens.json');

    const first = await runCli(['--store', store, 'get', '/api/echo'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      status: 200,
      body: { path: '/api/echo', generation: 1 },
    });
    expect(first.stderr).toContain('eka: token #1 from login');
    expect(gateway.stats.logins.ok).toBe(1);

    const second = await runCli(['--store', store, 'get', '/api/echo?run=2'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      status: 200,
      body: { generation: 1, query: { run: '2' } },
    });
    expect(second.stderr).toContain('eka: token #1 from storage');
    expect(gateway.stats.logins.ok).toBe(1); // no second login
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 1: 2 });

    expect((await stat(store)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    const file = await readFile(store, 'utf8');
    expect(file).not.toContain(gateway.credentials.clientSecret); // tokens only, never the secret
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(
      gateway.credentials.clientSecret,
    );
  });

  it('EKA_TOKEN_FILE works like --store; logout empties the file so the next run logs in again', async () => {
    const store = join(dir, 'tokens.json');
    const withFile = { ...env, EKA_TOKEN_FILE: store };
    const firstRun = await runCli([], withFile); // default command: get /api/echo
    expect(firstRun.code, firstRun.stderr).toBe(0);
    const secondRun = await runCli([], withFile);
    expect(secondRun.code, secondRun.stderr).toBe(0);
    expect(gateway.stats.logins.ok).toBe(1);

    const logout = await runCli(['logout'], withFile);
    expect(logout.code, logout.stderr).toBe(0);
    expect(JSON.parse(await readFile(store, 'utf8'))).toEqual({});

    const again = await runCli([], withFile);
    expect(again.stderr).toContain('from login');
    expect(gateway.stats.logins.ok).toBe(2);
  });

  it('a token revoked between runs is refreshed with the stored refresh token, not a new login', async () => {
    const store = join(dir, 'tokens.json');
    await runCli(['--store', store], env);
    gateway.control.revokeAllAccessTokens();
    const run = await runCli(['--store', store], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).body.generation).toBe(2);
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 0 });
  });

  it('--base-url beats EKA_BASE_URL; bad usage exits 2', async () => {
    const store = join(dir, 'tokens.json');
    const run = await runCli(['--store', store, '--base-url', gateway.url], {
      ...env,
      EKA_BASE_URL: 'http://127.0.0.1:9',
    });
    expect(run.code, run.stderr).toBe(0);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
    expect((await runCli(['--store'], env)).code).toBe(2);
  });
});

describe('cli-file-storage example (in process)', () => {
  it('parseCli: --store, then EKA_TOKEN_FILE, then a file under os.tmpdir()', () => {
    expect(parseCli(['--store', '/x/t.json'], { EKA_TOKEN_FILE: '/y/t.json' })).toMatchObject({
      store: '/x/t.json',
    });
    expect(parseCli([], { EKA_TOKEN_FILE: '/y/t.json' })).toMatchObject({ store: '/y/t.json' });
    expect(parseCli([], {})).toMatchObject({ store: DEFAULT_TOKEN_FILE, command: 'get', path: '/api/echo' });
    expect(DEFAULT_TOKEN_FILE.startsWith(tmpdir())).toBe(true);
  });

  it('main() with no EKA_* variables runs twice on the embedded emulator: one login', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([], {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(0);
    expect(out.map((l) => JSON.parse(l).status)).toEqual([200, 200]);
    expect(err).toContain('eka: token #1 from storage');
    expect(err.join('\n')).toContain('run 2: exit 0, 1 login(s) at the gateway so far');
    expect(err.join('\n')).toMatch(/mode 0600/);
  });
});
