import { createEkaAuth, type EkaAuthEvent } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { startEkaGateway } from '@eka/auth-testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisStorageWarning, redisStorage } from '../src/index';
import { CLIENT_KINDS, rawRedis, sleep, until } from './clients';
import { type RedisServer, startRedisServer } from './redisServer';

const value = (accessToken: string) => ({
  v: 1 as const,
  accessToken,
  refreshToken: `refresh-of-${accessToken}`,
  expiresAt: Date.now() + 60_000,
  refreshExpiresAt: Date.now() + 600_000,
  obtainedAt: Date.now(),
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const serverForThisTest = async (): Promise<RedisServer> => {
  const server = await startRedisServer();
  cleanups.push(() => server.stop());
  return server;
};

describe.each(CLIENT_KINDS)('Redis down or slow, with $name', (kind) => {
  it('never rejects, warns once, serves from memory, then writes back and resumes when Redis returns', async () => {
    const server = await serverForThisTest();
    const client = await kind.create(server.url);
    cleanups.push(() => kind.close(client));
    const warnings: RedisStorageWarning[] = [];
    const options = {
      commandTimeoutMs: 200,
      retryIntervalMs: 100,
      onWarning: (w: RedisStorageWarning) => warnings.push(w),
    };
    const storage = redisStorage(client, options);
    cleanups.push(() => storage.close());
    const seen: unknown[] = [];
    storage.subscribe('k', (v) => seen.push(v));
    const first = value('first-token');
    await storage.set('k', first);

    await server.kill();
    let started = performance.now();
    expect(await storage.get('k')).toEqual(first); // the last value seen
    // Bounded by commandTimeoutMs (200 ms), not by the client's own reconnect logic (generous for noisy CI).
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(storage.mode).toBe('memory');
    started = performance.now();
    await storage.set('k', value('second-token'));
    expect(await storage.get('k')).toMatchObject({ accessToken: 'second-token' });
    const signal = new AbortController().signal;
    expect(await storage.lock('k', async () => 'locked in-process', { signal })).toBe('locked in-process');
    expect(performance.now() - started).toBeLessThan(1_000); // no more waiting on a dead Redis
    expect(codes(warnings)).toEqual(['REDIS_UNAVAILABLE']);

    await server.restart();
    await until(() => storage.mode === 'redis', 8_000, 'the storage to return to Redis');
    expect(codes(warnings)).toEqual(['REDIS_UNAVAILABLE', 'REDIS_RECOVERED']);
    const raw = rawRedis(server.url);
    cleanups.push(() => raw.disconnect());
    // Redis restarted empty: the value set during the outage was written back.
    expect(JSON.parse((await raw.get('eka-auth:k'))!)).toMatchObject({ accessToken: 'second-token' });
    // Pub/sub works again: a change made by another process arrives.
    const other = await kind.create(server.url);
    cleanups.push(() => kind.close(other));
    await until(
      async () => {
        await redisStorage(other).set('k', value('third-token'));
        return seen.some((v) => (v as { accessToken?: string })?.accessToken === 'third-token');
      },
      8_000,
      'the subscription to come back',
    );
    expect(JSON.stringify(warnings)).not.toMatch(/first-token|second-token|refresh-of/);
  });

  it('treats a Redis that answers too slowly as unavailable', async () => {
    const server = await serverForThisTest();
    const client = await kind.create(server.url);
    cleanups.push(() => kind.close(client));
    const warnings: RedisStorageWarning[] = [];
    const storage = redisStorage(client, {
      commandTimeoutMs: 150,
      retryIntervalMs: 100,
      onWarning: (w) => warnings.push(w),
    });
    cleanups.push(() => storage.close());
    await storage.set('k', value('kept'));
    const raw = rawRedis(server.url);
    cleanups.push(() => raw.disconnect());
    await raw.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const started = performance.now();
    expect(await storage.get('k')).toMatchObject({ accessToken: 'kept' });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(storage.mode).toBe('memory');
    await until(() => storage.mode === 'redis', 5_000, 'recovery after the pause');
    expect(codes(warnings)).toEqual(['REDIS_UNAVAILABLE', 'REDIS_RECOVERED']);
  });
});

/** Warning codes, without SUBSCRIBE_FAILED: the pub/sub connection may notice an outage first, or not. */
function codes(warnings: RedisStorageWarning[]) {
  return warnings.map((w) => w.code).filter((code) => code !== 'SUBSCRIBE_FAILED');
}

describe('the core over a Redis that goes away', () => {
  it('keeps serving requests and is never degraded to memory by the core', async () => {
    const server = await serverForThisTest();
    const gateway = await startEkaGateway({ accessTokenTtlSec: 2 });
    cleanups.push(() => gateway.close());
    const kind = CLIENT_KINDS[0]!;
    const client = await kind.create(server.url);
    cleanups.push(() => kind.close(client));
    const storage = redisStorage(client, {
      commandTimeoutMs: 200,
      retryIntervalMs: 100,
      onWarning: () => {},
    });
    cleanups.push(() => storage.close());
    const events: EkaAuthEvent[] = [];
    const auth = createEkaAuth({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      storage,
      onEvent: (e) => events.push(e),
    });
    cleanups.push(() => auth.dispose());
    const authFetch = createAuthFetch(auth);
    const call = async () => (await authFetch(`${gateway.url}/api/echo`)).status;

    expect(await call()).toBe(200);
    await server.kill();
    for (let i = 0; i < 30; i++) {
      expect(await call()).toBe(200); // through an expiry (2 s) while Redis is down
      await sleep(100);
    }
    await server.restart();
    await until(() => storage.mode === 'redis', 8_000, 'Redis to come back');
    expect(await call()).toBe(200);
    expect(gateway.stats.refreshes.ok).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
  });
});
