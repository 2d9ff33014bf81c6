import { startEkaGateway } from '@eka/auth-testing';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { type RedisStorageWarning, type RedisTokenStorage, redisStorage } from '../src/index';
import { CLUSTER_KINDS, recordEscapes, sleep, until } from './clients';
import { refreshesOf, startFleet, timeline } from './fleet/startFleet';
import { type RedisCluster, startRedisCluster } from './redisCluster';

let cluster: RedisCluster;
/** Looks at the cluster directly: a Cluster client for keys, one plain connection per node. */
let raw: Cluster;
let perNode: Redis[];
beforeAll(async () => {
  cluster = await startRedisCluster(3);
  raw = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
  perNode = cluster.nodes.map((node) => new Redis(node.port, node.host));
}, 60_000);
afterAll(async () => {
  raw?.disconnect();
  for (const node of perNode ?? []) node.disconnect();
  await cluster?.stop();
});

const session = (accessToken = 'access-token-value') => ({
  v: 1 as const,
  accessToken,
  refreshToken: `refresh-of-${accessToken}`,
  expiresAt: Date.now() + 60_000,
  refreshExpiresAt: Date.now() + 3_600_000,
  obtainedAt: Date.now(),
});
/** Which node (index in `cluster.nodes`) holds `key` (KEYS only looks at the node it is sent to). */
const ownerOf = async (key: string) => {
  const found = await Promise.all(perNode.map((node) => node.keys(key)));
  return found.findIndex((keys) => keys.length > 0);
};
let run = 0;

describe.each(CLUSTER_KINDS)('redisStorage on a 3-node Redis Cluster with $name', (kind) => {
  const opened: unknown[] = [];
  const storages: RedisTokenStorage[] = [];
  const warnings: RedisStorageWarning[] = [];
  /** A storage on its own cluster connection: as far as Redis can tell, another process. */
  const open = async (options: Parameters<typeof redisStorage>[1] = {}) => {
    const client = await kind.create(cluster.nodes);
    opened.push(client);
    const storage = redisStorage(client, { onWarning: (w) => warnings.push(w), ...options });
    storages.push(storage);
    return storage;
  };
  afterEach(async () => {
    await Promise.all(storages.splice(0).map((s) => s.close()));
    await Promise.all(opened.splice(0).map((c) => kind.close(c)));
    expect(warnings.splice(0)).toEqual([]);
  });
  const tag = kind.name.replace(/\W/g, '');

  it('stores, reads and deletes keys on every node, under the same names as on a single Redis', async () => {
    const storage = await open();
    const keys = Array.from({ length: 30 }, (_, i) => `cluster:${tag}:${++run}:${i}`);
    for (const [i, key] of keys.entries()) await storage.set(key, session(`token-${i}`));
    const owners = await Promise.all(keys.map((key) => ownerOf(`eka-auth:${key}`)));
    expect(new Set(owners)).toEqual(new Set([0, 1, 2])); // spread over all three masters
    for (const [i, key] of keys.entries()) {
      expect(await storage.get(key)).toMatchObject({ accessToken: `token-${i}` });
      expect(await raw.pttl(`eka-auth:${key}`)).toBeGreaterThan(3_600_000 - 10_000);
    }
    for (const key of keys) await storage.delete(key);
    for (const key of keys) expect(await storage.get(key)).toBeNull();
    expect(storage.mode).toBe('redis');
  });

  it('delivers every set and delete to subscribers on other connections, whichever node they listen on', async () => {
    const [a, b, c] = [await open(), await open(), await open()];
    const keys = Array.from({ length: 6 }, (_, i) => `cluster-pubsub:${tag}:${++run}:${i}`);
    const seen = new Map<string, [unknown[], unknown[]]>();
    for (const key of keys) {
      const lists: [unknown[], unknown[]] = [[], []];
      seen.set(key, lists);
      b.subscribe(key, (v) => lists[0].push(v));
      c.subscribe(key, (v) => lists[1].push(v));
    }
    await sleep(300); // SUBSCRIBE is asynchronous
    for (const [i, key] of keys.entries()) {
      await a.set(key, session(`pub-${i}`));
      await a.delete(key);
    }
    const all = () => [...seen.values()].flat();
    await until(() => all().every((values) => values.length === 2), 5_000, 'every message');
    for (const [i, key] of keys.entries()) {
      for (const values of seen.get(key)!) {
        expect(values).toEqual([expect.objectContaining({ accessToken: `pub-${i}` }), null]);
      }
    }
  });

  it('lock: one holder at a time across connections, woken by the release message', async () => {
    const storages = [
      await open({ pollIntervalMs: 5_000 }),
      await open({ pollIntervalMs: 5_000 }),
      await open(),
    ];
    const key = `cluster-lock:${tag}:${++run}`;
    for (const storage of storages) storage.subscribe(key, () => {}); // as the core does
    await sleep(300);
    let inside = 0;
    let most = 0;
    let runs = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
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
    expect(runs).toBe(9);
    // With 5 s polls, 9 hand-overs are only this quick when each release message wakes the next.
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(await raw.exists(`eka-auth:${key}:lock`)).toBe(0);
  });
});

describe('a fleet of 6 processes sharing one session through a 3-node Redis Cluster', () => {
  it('one login, one refresh per expiry, no refresh token reused, no request failed', async () => {
    const TTL_MS = 3_000;
    const gateway = await startEkaGateway({ accessTokenTtlSec: TTL_MS / 1000 });
    onTestFinished(() => gateway.close());
    const prefix = `cluster-fleet-${Date.now()}:`;
    const fleet = await startFleet({
      size: 6,
      clusterNodes: cluster.nodes,
      // The newest majors of both libraries, and the catalog's.
      clients: ['ioredis-6', 'redis-6', 'ioredis', 'redis'],
      gateway,
      prefix,
      concurrency: 2,
      pauseMs: 10,
    });
    onTestFinished(() => fleet.destroy());
    onTestFailed(() => console.error(timeline(fleet.events, gateway.stats)));
    fleet.run();
    await fleet.waitFor((e) => e.type === 'token' && e.source === 'login', 10_000);
    // The lock and the session live on the masters of their slots; say which, for the record.
    const [session] = (await Promise.all(perNode.map((node) => node.keys(`${prefix}*`)))).flat();
    expect(session).toMatch(new RegExp(`^${prefix}eka-auth:`));
    await sleep(9_000); // three expiries
    const results = await fleet.stop();

    expect(results.size).toBe(6);
    for (const result of results.values()) {
      expect(result.failed, result.errors.join(', ')).toBe(0);
      expect(result.ok).toBeGreaterThan(10);
    }
    const { stats } = gateway;
    expect(stats.logins).toEqual({ ok: 1, rejected: 0 });
    expect(stats.refreshes).toEqual({ ok: stats.refreshes.ok, rejected: 0, reused: 0 });
    const refreshes = refreshesOf(fleet.events);
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes.length).toBeLessThanOrEqual(4); // one per expiry, never 6 × that
    for (let i = 1; i < refreshes.length; i++) {
      expect(refreshes[i]!.at - refreshes[i - 1]!.at).toBeGreaterThan(TTL_MS * 0.6);
    }
    // Every refresh was adopted by the five other members (through the pub/sub of the cluster).
    const adopted = fleet.events.filter((e) => e.type === 'token' && e.source === 'storage');
    expect(adopted.length).toBeGreaterThanOrEqual(5 * refreshes.length);
    expect(fleet.events.filter((e) => e.type === 'warning' || e.type === 'core-warning')).toEqual([]);
  });
});

describe.each([CLUSTER_KINDS[1]!, CLUSTER_KINDS[4]!])(
  'a cluster node killed mid-lock, with $name',
  (kind) => {
    it('the storage goes on in memory, and nothing escapes as an unhandled rejection or exception', async () => {
      const escapes = recordEscapes();
      const own = await startRedisCluster(3);
      onTestFinished(() => own.stop());
      const nodes = own.nodes.map((node) => new Redis(node.port, node.host));
      onTestFinished(() => {
        for (const node of nodes) node.disconnect();
      });
      const [ca, cb] = [await kind.create(own.nodes), await kind.create(own.nodes)];
      onTestFinished(async () => {
        await kind.close(ca);
        await kind.close(cb);
      });
      const warnings: RedisStorageWarning[] = [];
      const options = {
        lockTtlMs: 300,
        commandTimeoutMs: 300,
        retryIntervalMs: 100,
        onWarning: (w: RedisStorageWarning) => warnings.push(w),
      };
      const [a, b] = [redisStorage(ca, options), redisStorage(cb, options)];
      onTestFinished(async () => {
        await a.close();
        await b.close();
      });
      const key = 'mid-lock';
      a.subscribe(key, () => {});
      b.subscribe(key, () => {});
      await sleep(300);
      const signal = new AbortController().signal;
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const holder = a.lock(
        key,
        async () => {
          entered();
          await sleep(800);
          return 'held';
        },
        { signal },
      );
      await inside;
      const waiter = b.lock(key, async () => 'waited', { signal });
      // Kill the master that holds the lock key: renewals, the waiter's SET NX and the release fail.
      const found = await Promise.all(nodes.map((node) => node.keys('eka-auth:mid-lock:lock')));
      const owner = found.findIndex((keys) => keys.length > 0);
      expect(owner).toBeGreaterThanOrEqual(0);
      nodes[owner]!.disconnect();
      await own.kill(owner);
      expect(await Promise.all([holder, waiter])).toEqual(['held', 'waited']);
      // Whichever node the value's slot is on (dead or alive), it is served and never rejects.
      expect(await b.get(key)).toBeNull();
      await b.set(key, session('after-the-kill'));
      expect(await b.get(key)).toMatchObject({ accessToken: 'after-the-kill' });
      expect(warnings.map((w) => w.code)).toContain('REDIS_UNAVAILABLE');
      await a.close();
      await b.close();
      await escapes.stop();
      expect(escapes.rejections).toEqual([]);
      expect(escapes.exceptions).toEqual([]);
    });
  },
);
