import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envFor, gateway } from './helpers';

// The package as a user gets it: `pnpm pack` (workspace: ranges rewritten, like `pnpm publish`) of the
// CLI and the core, `npm install` of both tarballs into a project outside the workspace, then `npx`.
// The timeouts only bound a hang (a cold npm cache); nothing here measures time.

const PACKAGES = ['auth-core', 'auth-cli'].map((name) =>
  fileURLToPath(new URL(`../../${name}`, import.meta.url)),
);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The caller's environment minus what pnpm and vitest set for scripts (`NODE_PATH` would find workspace
 * packages; `npm_*` carry the workspace's settings), keeping where the registry, cache and proxies are.
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|cafile|strict_ssl|proxy|https_proxy|noproxy)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    if (/^(NODE_PATH|NODE_OPTIONS|VITEST.*|EKA_.*)$/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

function exec(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return new Promise<Result>((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv(env), timeout: 150_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

let tarballs: string;
let project: string;

beforeAll(async () => {
  tarballs = mkdtempSync(join(tmpdir(), 'eka-auth-cli-tarballs-'));
  project = mkdtempSync(join(tmpdir(), 'eka-auth-cli-project-'));
  const files: string[] = [];
  for (const dir of PACKAGES) {
    const packed = await exec('pnpm', ['pack', '--pack-destination', tarballs, '--json'], dir);
    if (packed.code !== 0) throw new Error(`pnpm pack failed in ${dir}:\n${packed.stderr}`);
    files.push(JSON.parse(packed.stdout.slice(packed.stdout.indexOf('{'))).filename);
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }),
  );
  const install = await exec(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-package-lock',
      '--loglevel=error',
      ...files,
    ],
    project,
  );
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.stdout}${install.stderr}`);
}, 240_000);

afterAll(() => {
  for (const dir of [tarballs, project]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('@eka/auth-cli as a packed tarball', () => {
  it('installs an executable eka-auth bin that prints its version', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGES[1]!, 'package.json'), 'utf8'));
    expect(
      statSync(join(project, 'node_modules', '@eka', 'auth-cli', 'dist', 'cli.js')).mode & 0o111,
    ).not.toBe(0);
    const result = await exec('npx', ['eka-auth', '--version'], project);
    expect([result.code, result.stdout.trim()]).toEqual([0, version]);
  }, 120_000);

  it('npx eka-auth doctor --json checks the emulator: login and refresh work, exit 0', async () => {
    const gw = await gateway();
    const result = await exec(
      'npx',
      ['eka-auth', 'doctor', '--json'],
      project,
      envFor(gw) as Record<string, string>,
    );
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: true,
      login: { ok: true, status: 200 },
      refresh: { ok: true },
      diagnoses: [],
    });
    expect(`${result.stdout}${result.stderr}`).not.toContain(gw.credentials.clientSecret);
    expect(gw.stats).toMatchObject({ logins: { ok: 1 }, refreshes: { ok: 1 } });
  }, 120_000);

  it('npx eka-auth token prints a token, cached between runs', async () => {
    const gw = await gateway();
    const env = { ...(envFor(gw) as Record<string, string>), XDG_CACHE_HOME: join(project, 'cache') };
    const first = await exec('npx', ['eka-auth', 'token'], project, env);
    const second = await exec('npx', ['eka-auth', 'token'], project, env);
    expect([first.code, second.code], first.stderr).toEqual([0, 0]);
    expect(first.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(second.stdout).toBe(first.stdout);
    expect(gw.stats.tokenEndpointCalls).toBe(1);
  }, 120_000);
});
