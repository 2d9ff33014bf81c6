import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config';
import type { FleetSummary } from '../src/runPrimary';

const FLEET = fileURLToPath(new URL('../dist/fleet.js', import.meta.url));
let redis: ChildProcess | undefined;
let redisUrl = '';

/** A throwaway redis-server; fails (never skips) with the install command when it is missing. */
beforeAll(async () => {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed; this example test needs one: apt-get install -y redis-server',
    );
  }
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  redis = child;
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (/Ready to accept connections/.test(output)) resolve();
    });
    child.once('exit', () => reject(new Error(`redis-server exited: ${output}`)));
  });
  redisUrl = `redis://127.0.0.1:${port}`;
});
afterAll(() => void redis?.kill('SIGKILL'));

describe('the redis-fleet example', () => {
  it('3 cluster workers share one session: one login, refreshes shared, no failure, logout seen by all', async () => {
    expect(existsSync(FLEET), 'build the example first: pnpm --filter @eka/example-redis-fleet build').toBe(
      true,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl,
      WORKERS: '3',
      DURATION_MS: '5000',
      EKA_DEMO_TTL_SEC: '2',
      FLEET_JSON: '1',
    };
    delete env.EKA_CLIENT_ID;
    delete env.EKA_CLIENT_SECRET;
    const { stdout } = await promisify(execFile)(process.execPath, [FLEET], { env, timeout: 50_000 });
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as FleetSummary;
    expect(summary).toMatchObject({
      ok: true,
      gateway: 'emulator',
      failed: 0,
      logins: 1,
      reusedRefreshTokens: 0,
      logoutSeenBy: 2,
    });
    expect(summary.refreshes).toBeGreaterThanOrEqual(1);
    expect(summary.tokens.storage).toBeGreaterThanOrEqual(
      2 * (summary.tokens.login + summary.tokens.refresh),
    );
    expect(summary.requests).toBeGreaterThan(50);
  });

  it('reads its settings from the environment and names what is wrong', () => {
    expect(readConfig({})).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379', workers: 4 });
    expect(readConfig({}).real).toBeUndefined();
    expect(() => readConfig({ EKA_CLIENT_ID: 'x' })).toThrow(/EKA_CLIENT_SECRET/);
    expect(() => readConfig({ WORKERS: 'many' })).toThrow(/WORKERS/);
    expect(readConfig({ EKA_CLIENT_ID: 'x', EKA_CLIENT_SECRET: 'y' }).real).toMatchObject({
      baseUrl: 'https://api.eka.care',
    });
  });
});
