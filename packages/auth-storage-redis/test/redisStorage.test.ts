import { ConfigError } from '@eka/auth-core';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RedisStorageWarning, type RedisTokenStorage, redisStorage } from '../src/index';
import { CLIENT_KINDS, rawRedis, sleep } from './clients';

const url = inject('redisUrl');
let raw: Redis;
beforeAll(() => {
  raw = rawRedis(url);
});
afterAll(() => raw.disconnect());

let run = 0;
const session = (overrides: object = {}) => ({
  v: 1 as const,
  accessToken: 'access-token-value',
  refreshToken: 'refresh-token-value',
  expiresAt: Date.now() + 60_000,
  refreshExpiresAt: Date.now() + 3_600_000,
  obtainedAt: Date.now(),
  ...overrides,
});

describe.each(CLIENT_KINDS)('redisStorage with $name', (kind) => {
  const opened: unknown[] = [];
  const storages: RedisTokenStorage[] = [];
  const warnings: RedisStorageWarning[] = [];
  /** A storage on its own connection: as far as Redis can tell, another process. */
  const open = async (options: Parameters<typeof redisStorage>[1] = {}) => {
    const client = await kind.create(url);
    opened.push(client);
    const storage = redisStorage(client, { onWarning: (w) => warnings.push(w), ...options });
    storages.push(storage);
    return storage;
  };
  let key = '';
  afterEach(async () => {
    await Promise.all(storages.splice(0).map((s) => s.close()));
    await Promise.all(opened.splice(0).map((c) => kind.close(c)));
    expect(warnings.splice(0)).toEqual([]);
  });
  const next = () => (key = `test:${kind.name.replace(/\W/g, '')}:${++run}`);

  it('stores versioned JSON under prefix + key with a TTL at the refresh expiry, and reads it back', async () => {
    const storage = await open();
    next();
    const value = session();
    await storage.set(key, value);
    expect(JSON.parse((await raw.get(`eka-auth:${key}`))!)).toEqual(value);
    expect(await raw.pttl(`eka-auth:${key}`)).toBeGreaterThan(3_600_000 - 5_000);
    expect(await storage.get(key)).toEqual(value);
    await storage.delete(key);
    expect(await storage.get(key)).toBeNull();
    expect(await raw.exists(`eka-auth:${key}`)).toBe(0);
  });

  it('uses the access expiry as TTL when the refresh expiry is unknown, and the prefix option', async () => {
    const storage = await open({ prefix: 'app:' });
    next();
    await storage.set(key, session({ refreshExpiresAt: undefined, expiresAt: Date.now() + 30_000 }));
    const ttl = await raw.pttl(`app:${key}`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('hands a corrupt value over as text, for the core to ignore with a warning', async () => {
    const storage = await open();
    next();
    await raw.set(`eka-auth:${key}`, 'not json {');
    expect(await storage.get(key)).toBe('not json {');
  });

  it('publishes every set and delete to subscribers in other processes and in this one', async () => {
    const [a, b] = [await open(), await open()];
    next();
    const seenByA: unknown[] = [];
    const seenByB: unknown[] = [];
    const offA = a.subscribe(key, (v) => seenByA.push(v));
    b.subscribe(key, (v) => seenByB.push(v));
    await sleep(100); // SUBSCRIBE is asynchronous
    const value = session();
    await a.set(key, value);
    await b.delete(key);
    await sleep(100);
    expect(seenByB).toEqual([value, null]);
    expect(seenByA).toEqual([value, null]);
    offA();
    await a.set(key, session({ accessToken: 'other' }));
    await sleep(100);
    expect(seenByA).toHaveLength(2);
    expect(seenByB).toHaveLength(3);
  });

  it('lock: one holder at a time across processes; the lock key is gone afterwards', async () => {
    const storages = [await open(), await open(), await open()];
    next();
    let inside = 0;
    let most = 0;
    let runs = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        storages[i % 3]!.lock(
          key,
          async () => {
            most = Math.max(most, ++inside);
            await sleep(5);
            inside--;
            runs++;
          },
          { signal: new AbortController().signal },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(runs).toBe(12);
    expect(await raw.exists(`eka-auth:${key}:lock`)).toBe(0);
  });

  it('lock: a crashed holder blocks the others for at most its TTL', async () => {
    const storage = await open();
    next();
    await raw.set(`eka-auth:${key}:lock`, 'crashed-holder', 'PX', 500);
    const started = performance.now();
    await storage.lock(key, async () => {}, { signal: new AbortController().signal });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(400);
    expect(waited).toBeLessThan(1_000);
  });

  it('lock: release deletes only its own lock (token-checked)', async () => {
    const storage = await open({ lockTtlMs: 60_000 });
    next();
    await storage.lock(
      key,
      async () => {
        expect(await raw.pttl(`eka-auth:${key}:lock`)).toBeGreaterThan(55_000);
        await raw.set(`eka-auth:${key}:lock`, 'someone-else'); // ours expired, another took it
      },
      { signal: new AbortController().signal },
    );
    expect(await raw.get(`eka-auth:${key}:lock`)).toBe('someone-else');
    await raw.del(`eka-auth:${key}:lock`);
  });

  it('lock: the lease is renewed while the holder runs longer than the TTL', async () => {
    const [a, b] = [await open({ lockTtlMs: 300 }), await open({ lockTtlMs: 300 })];
    next();
    const signal = new AbortController().signal;
    const order: string[] = [];
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = a.lock(
      key,
      async () => {
        entered();
        order.push('a-in');
        await sleep(1_000);
        order.push('a-out');
      },
      { signal },
    );
    await inside;
    await b.lock(key, async () => void order.push('b'), { signal });
    await first;
    expect(order).toEqual(['a-in', 'a-out', 'b']);
  });

  it('lock: waiters wake on the release message, not on the next poll', async () => {
    const [a, b] = [await open(), await open({ pollIntervalMs: 5_000 })];
    next();
    b.subscribe(key, () => {}); // as the core does: keeps the channels subscribed
    await sleep(100);
    const signal = new AbortController().signal;
    let releasedAt = 0;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const first = a.lock(
      key,
      async () => {
        holding();
        await sleep(200);
        releasedAt = performance.now();
      },
      { signal },
    );
    await held;
    let wokeAt = 0;
    await b.lock(key, async () => void (wokeAt = performance.now()), { signal });
    await first;
    expect(wokeAt - releasedAt).toBeLessThan(100);
  });

  it('lock: an aborted wait rejects that caller only, without a warning', async () => {
    const storage = await open();
    next();
    await raw.set(`eka-auth:${key}:lock`, 'busy', 'PX', 5_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('refresh timed out')), 100);
    let ran = false;
    await expect(
      storage.lock(key, async () => void (ran = true), { signal: controller.signal }),
    ).rejects.toThrow('refresh timed out');
    expect(ran).toBe(false);
    expect(storage.mode).toBe('redis');
    await raw.del(`eka-auth:${key}:lock`);
  });

  it('lock: after lockWaitMs the waiter goes ahead without the lock, with a warning', async () => {
    const storage = await open({ lockWaitMs: 200 });
    next();
    await raw.set(`eka-auth:${key}:lock`, 'stuck', 'PX', 5_000);
    const started = performance.now();
    expect(await storage.lock(key, async () => 'ran', { signal: new AbortController().signal })).toBe('ran');
    expect(performance.now() - started).toBeGreaterThan(180);
    expect(warnings.splice(0).map((w) => w.code)).toEqual(['LOCK_WAIT_EXCEEDED']);
    await raw.del(`eka-auth:${key}:lock`);
  });
});

describe('redisStorage options', () => {
  it('rejects what is not a Redis client, and invalid options, with ConfigError', () => {
    expect(() => redisStorage({})).toThrow(ConfigError);
    expect(() => redisStorage(null)).toThrow(/ioredis client .* node-redis client/);
    const client = rawRedis(url);
    try {
      expect(() => redisStorage(client, { lockTtlMs: 0 })).toThrow(ConfigError);
      expect(() => redisStorage(client, { lockWake: 'smoke' as 'poll' })).toThrow(ConfigError);
      expect(redisStorage(client).mode).toBe('redis');
    } finally {
      client.disconnect();
    }
  });

  it('warns SUBSCRIBE_FAILED once when Redis refuses SUBSCRIBE (ACL), and keeps storing and locking', async () => {
    await raw.call(
      'ACL',
      'SETUSER',
      'nosub',
      'on',
      '>nosub-pw',
      '~*',
      '&*',
      '+@all',
      '-subscribe',
      '-psubscribe',
    );
    const { Redis } = await import('ioredis');
    const client = new Redis(url, { username: 'nosub', password: 'nosub-pw' });
    const warnings: RedisStorageWarning[] = [];
    const storage = redisStorage(client, { onWarning: (w) => warnings.push(w), retryIntervalMs: 100 });
    try {
      storage.subscribe('acl-key', () => {});
      storage.subscribe('acl-other', () => {});
      await sleep(400);
      await storage.set('acl-key', session());
      expect(await storage.get('acl-key')).toMatchObject({ v: 1 });
      expect(
        await storage.lock('acl-key', async () => 'locked', { signal: new AbortController().signal }),
      ).toBe('locked');
      expect(storage.mode).toBe('redis');
      expect(warnings.map((w) => [w.code, w.error?.message])).toEqual([
        ['SUBSCRIBE_FAILED', 'Redis answered NOPERM'],
      ]);
    } finally {
      await storage.close();
      client.disconnect();
      await raw.call('ACL', 'DELUSER', 'nosub');
    }
  });
});
