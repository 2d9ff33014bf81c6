import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis-6';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis-4';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis-6';
import type { RedisClusterNode } from './redisCluster';

/** A way to make a connected Redis client, as an app would, plus how to close it. */
export interface ClientKind {
  name: string;
  create(url: string): Promise<unknown>;
  close(client: unknown): Promise<void>;
}

const noop = () => {};

const ioredis = (name: string, Client: new (url: string, options: object) => Redis | Redis6): ClientKind => ({
  name,
  async create(url) {
    // Reconnect quickly in tests (ioredis backs off up to 2 s by default).
    const client = new Client(url, { retryStrategy: () => 100, maxRetriesPerRequest: 2 });
    client.on('error', noop);
    return client;
  },
  async close(client) {
    (client as Redis).disconnect();
  },
});

const nodeRedis = (name: string, createClient: (options: object) => any): ClientKind => ({
  name,
  async create(url) {
    const client = createClient({ url, socket: { reconnectStrategy: () => 100 } });
    client.on('error', noop); // node-redis requires an error listener
    await client.connect();
    return client;
  },
  async close(client: any) {
    if (client.isOpen) await (client.destroy ?? client.disconnect).call(client);
  },
});

/** Every client the storage is tested with. */
export const CLIENT_KINDS: readonly ClientKind[] = [
  ioredis('ioredis 5', Redis),
  ioredis('ioredis 6', Redis6),
  nodeRedis('node-redis 4', createClient4),
  nodeRedis('node-redis 5', createClient5),
  nodeRedis('node-redis 6', createClient6),
];

/** A way to make a connected Redis Cluster client from the cluster's nodes, plus how to close it. */
export interface ClusterKind {
  name: string;
  create(nodes: readonly RedisClusterNode[]): Promise<unknown>;
  close(client: unknown): Promise<void>;
}

const ioredisCluster = (name: string, Client: typeof Cluster | typeof Cluster6): ClusterKind => ({
  name,
  async create(nodes) {
    const client = new Client(
      nodes.map(({ host, port }) => ({ host, port })),
      {
        clusterRetryStrategy: () => 100,
        redisOptions: { maxRetriesPerRequest: 2 },
      },
    );
    client.on('error', noop);
    return client;
  },
  async close(client) {
    (client as Cluster).disconnect();
  },
});

const nodeRedisCluster = (name: string, createCluster: (options: any) => any): ClusterKind => ({
  name,
  async create(nodes) {
    const cluster = createCluster({
      rootNodes: nodes.map(({ url }) => ({ url })),
      defaults: { socket: { reconnectStrategy: () => 100 } },
    });
    cluster.on('error', noop);
    await cluster.connect();
    return cluster;
  },
  async close(cluster: any) {
    if (cluster.isOpen) await (cluster.destroy ?? cluster.disconnect).call(cluster);
  },
});

/** Every cluster client the storage is tested with: the same libraries and majors as {@link CLIENT_KINDS}. */
export const CLUSTER_KINDS: readonly ClusterKind[] = [
  ioredisCluster('ioredis 5 Cluster', Cluster),
  ioredisCluster('ioredis 6 Cluster', Cluster6),
  nodeRedisCluster('node-redis 4 createCluster', createCluster4),
  nodeRedisCluster('node-redis 5 createCluster', createCluster5),
  nodeRedisCluster('node-redis 6 createCluster', createCluster6),
];

/** A plain ioredis connection for looking at (and tampering with) Redis directly in tests. */
export function rawRedis(url: string): Redis {
  const client = new Redis(url, { retryStrategy: () => 100 });
  client.on('error', noop);
  return client;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it is truthy, or throws after `timeoutMs`. */
export async function until(check: () => unknown, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** What reached the process-level handlers: the things that kill a Node process without them. */
export interface EscapeRecorder {
  readonly rejections: unknown[];
  readonly exceptions: unknown[];
  /** Lets pending rejections surface (they are reported after the microtask queue drains), then stops recording. */
  stop(): Promise<void>;
}

/** Record every `unhandledRejection` and `uncaughtException` of this process from now on. */
export function recordEscapes(): EscapeRecorder {
  const rejections: unknown[] = [];
  const exceptions: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const onException = (error: unknown) => exceptions.push(error);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    rejections,
    exceptions,
    async stop() {
      await sleep(100);
      await new Promise((resolve) => setImmediate(resolve));
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
