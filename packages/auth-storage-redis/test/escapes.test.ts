import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RedisStorageOptions, type RedisStorageWarning, redisStorage } from '../src/index';
import { CLIENT_KINDS, type EscapeRecorder, rawRedis, recordEscapes, sleep, until } from './clients';
import { type RedisServer, startRedisServer } from './redisServer';

/*
 * RELIABILITY.md: no promise is ever left rejected and unhandled, and no 'error' event is emitted
 * without a listener (either kills a Node process). Each test makes Redis fail at a moment where the
 * storage has something in flight that nobody awaits, with a recorder on the process-level handlers.
 */

const value = (accessToken: string) => ({
  v: 1 as const,
  accessToken,
  refreshToken: `refresh-of-${accessToken}`,
  expiresAt: Date.now() + 60_000,
  refreshExpiresAt: Date.now() + 600_000,
  obtainedAt: Date.now(),
});
const noop = () => {};

describe.each(CLIENT_KINDS)('nothing escapes as an unhandled rejection or exception, with $name', (kind) => {
  let escapes: EscapeRecorder;
  const cleanups: (() => unknown)[] = [];
  beforeEach(() => {
    escapes = recordEscapes();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await escapes.stop();
    expect(escapes.rejections).toEqual([]);
    expect(escapes.exceptions).toEqual([]);
  });
  const server = async (): Promise<RedisServer> => {
    const started = await startRedisServer();
    cleanups.push(() => started.stop());
    return started;
  };
  const connect = async (url: string) => {
    const client = await kind.create(url);
    cleanups.push(() => kind.close(client));
    return client;
  };
  const open = (client: unknown, options: RedisStorageOptions = {}) => {
    const storage = redisStorage(client, {
      commandTimeoutMs: 200,
      retryIntervalMs: 100,
      onWarning: noop,
      ...options,
    });
    cleanups.push(() => storage.close());
    return storage;
  };
  const signal = () => new AbortController().signal;

  it('Redis killed while a lock is held, renewed, waited for and released', async () => {
    const redis = await server();
    const [a, b] = [
      open(await connect(redis.url), { lockTtlMs: 300 }),
      open(await connect(redis.url), { lockTtlMs: 300 }),
    ];
    a.subscribe('k', noop);
    b.subscribe('k', noop);
    await sleep(200);
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holder = a.lock(
      'k',
      async () => {
        entered();
        await sleep(700); // renewals every 100 ms fail from the kill on
        return 'held';
      },
      { signal: signal() },
    );
    await inside;
    const waiter = b.lock('k', async () => 'waited', { signal: signal() });
    await sleep(100);
    await redis.kill();
    expect(await Promise.all([holder, waiter])).toEqual(['held', 'waited']);
    expect([a.mode, b.mode]).toEqual(['memory', 'memory']);
    await redis.restart();
    await until(() => a.mode === 'redis' && b.mode === 'redis', 8_000, 'both storages to return to Redis');
    expect(await a.lock('k', async () => 'again', { signal: signal() })).toBe('again');
  });

  it('the pub/sub connection killed, then Redis gone while subscribing, unsubscribing and closing', async () => {
    const redis = await server();
    const storage = open(await connect(redis.url));
    const seen: unknown[] = [];
    const off1 = storage.subscribe('k1', (v) => seen.push(v));
    await sleep(200);
    const raw = rawRedis(redis.url);
    cleanups.push(() => raw.disconnect());
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const other = open(await connect(redis.url));
    await until(
      async () => {
        await other.set('k1', value('after-kill'));
        return seen.length > 0;
      },
      8_000,
      'the subscription to come back after CLIENT KILL',
    );
    await redis.kill();
    const off2 = storage.subscribe('k2', noop);
    await storage.set('k2', value('while-down'));
    off1();
    off2(); // the last channel: the pub/sub connection is closed while Redis is down
    storage.subscribe('k3', noop); // and a new one opened
    expect(await storage.get('k2')).toMatchObject({ accessToken: 'while-down' });
    await storage.delete('k2');
    await sleep(300); // reconnect attempts fail meanwhile
    await storage.close(); // while Redis is down and the subscriber may still be connecting
  });

  it('an async onWarning or listener that rejects is not left unhandled', async () => {
    const redis = await server();
    const warnings: RedisStorageWarning[] = [];
    const storage = open(await connect(redis.url), {
      onWarning: async (warning) => {
        warnings.push(warning);
        throw new Error('the log shipper is down');
      },
    });
    storage.subscribe('k', async () => {
      throw new Error('a listener that fails');
    });
    await sleep(200);
    await storage.set('k', value('one')); // delivered to the listener through pub/sub
    await sleep(100);
    await redis.kill();
    await storage.set('k', value('two')); // warns REDIS_UNAVAILABLE; delivered in-process
    expect(warnings.map((w) => w.code)).toContain('REDIS_UNAVAILABLE');
  });

  it('your client without an error listener: losing Redis is a warning, not a crash', async () => {
    const redis = await server();
    const client = (await connect(redis.url)) as NodeJS.EventEmitter;
    client.removeAllListeners('error');
    const warnings: RedisStorageWarning[] = [];
    const storage = open(client, { onWarning: (w) => warnings.push(w) });
    storage.subscribe('k', noop);
    await storage.set('k', value('one'));
    await redis.kill();
    await sleep(500); // the client notices and reconnects, emitting 'error' each time
    expect(await storage.get('k')).toMatchObject({ accessToken: 'one' });
    await redis.restart();
    await until(() => storage.mode === 'redis', 8_000, 'the storage to return to Redis');
    expect(warnings.map((w) => w.code)).toEqual(['REDIS_UNAVAILABLE', 'REDIS_RECOVERED']);
    // One listener however many storages share the client; it goes with the last one.
    const second = redisStorage(client, { onWarning: noop });
    expect(client.listenerCount('error')).toBe(1);
    await storage.close();
    expect(client.listenerCount('error')).toBe(1);
    await second.close();
    await second.close();
    expect(client.listenerCount('error')).toBe(0); // the client is left as it was given
    client.on('error', noop);
  });
});
