import { ConfigError } from '@eka/auth-core';

/** A pub/sub connection (a duplicate of the user's client, in subscriber mode). */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/** The few things the storage needs from a Redis client, whichever library it comes from. */
export interface RedisDriver {
  readonly kind: 'ioredis' | 'node-redis';
  /** Send one command (`['SET', key, value, 'NX']`) and resolve with its reply. */
  command(args: string[]): Promise<unknown>;
  /** True when the client says its connection is up (a hint: commands may still fail). */
  isReady(): boolean;
  /** Add an 'error' listener to the client (not replacing any of its own); returns its removal. */
  onError(listener: (error: unknown) => void): () => void;
  /** A new connection for pub/sub; `onMessage` gets every message of its channels. */
  subscriber(
    onMessage: (channel: string, message: string) => void,
    onError: (error: unknown) => void,
  ): RedisSubscriber;
}

/**
 * Recognise an ioredis (`Redis` or `Cluster`, v5+) or node-redis (`createClient()` or
 * `createCluster()`, `redis`/`@redis/client` v4+) client by duck typing, so neither library is
 * imported (both are optional peers). An ioredis `Cluster` routes `call()` by key itself.
 *
 * @throws {ConfigError} when `client` is neither.
 */
export function toRedisDriver(client: unknown): RedisDriver {
  const c = client as any;
  if (c && typeof c.sendCommand === 'function' && 'isOpen' in c && typeof c.duplicate === 'function') {
    // A cluster (`createCluster()`) routes each command by its first key; a client takes the args only.
    return typeof c.getSlotRandomNode === 'function' ? nodeRedisClusterDriver(c) : nodeRedisDriver(c);
  }
  if (
    c &&
    typeof c.call === 'function' &&
    typeof c.status === 'string' &&
    typeof c.duplicate === 'function'
  ) {
    return ioredisDriver(c);
  }
  throw new ConfigError(
    'CONFIG_INVALID',
    'redisStorage(client): expected an ioredis client (new Redis()) or a node-redis client (createClient())',
  );
}

function ioredisDriver(client: any): RedisDriver {
  return {
    kind: 'ioredis',
    command: ([name, ...args]) => client.call(name, ...args),
    isReady: () => client.status === 'ready',
    onError: (listener) => listen(client, listener),
    subscriber(onMessage, onError) {
      const connection = client.duplicate();
      connection.on('message', onMessage);
      connection.on('error', onError);
      return {
        subscribe: async (channel) => void (await connection.subscribe(channel)),
        unsubscribe: async (channel) => void (await connection.unsubscribe(channel)),
        close: async () => connection.disconnect(),
      };
    },
  };
}

function nodeRedisDriver(client: any): RedisDriver {
  return {
    kind: 'node-redis',
    command: (args) => client.sendCommand(args),
    isReady: () => client.isReady === true,
    onError: (listener) => listen(client, listener),
    subscriber: (onMessage, onError) => nodeRedisSubscriber(client, onMessage, onError),
  };
}

/**
 * node-redis `createCluster()`: `sendCommand(firstKey, isReadonly, args)` sends to the master of the
 * first key's slot (a random node for keyless commands such as PING). `isReady` exists from v6 on;
 * before that only `isOpen` tells anything.
 */
function nodeRedisClusterDriver(cluster: any): RedisDriver {
  return {
    kind: 'node-redis',
    command: (args) => cluster.sendCommand(firstKey(args), false, args),
    isReady: () => ('isReady' in cluster ? cluster.isReady : cluster.isOpen) === true,
    onError: (listener) => listen(cluster, listener),
    // Classic SUBSCRIBE on one node of the duplicate: a classic PUBLISH reaches every node.
    subscriber: (onMessage, onError) => nodeRedisSubscriber(cluster, onMessage, onError),
  };
}

/** One 'error' listener per client, however many storages use it (no MaxListenersExceededWarning). */
const errorWatches = new WeakMap<object, { users: number; listener: (error: unknown) => void }>();

/** `emitter.on('error', listener)`, shared by the storages of one client, undone when the last one stops. */
function listen(emitter: any, listener: (error: unknown) => void): () => void {
  if (typeof emitter?.on !== 'function') return () => {};
  let watch = errorWatches.get(emitter);
  if (!watch) {
    watch = { users: 0, listener };
    errorWatches.set(emitter, watch);
    emitter.on('error', listener);
  }
  watch.users++;
  let stopped = false;
  return () => {
    if (stopped || !watch) return;
    stopped = true;
    if (--watch.users > 0) return;
    errorWatches.delete(emitter);
    emitter.off?.('error', watch.listener);
  };
}

/** The key a command touches, for cluster routing (the storage only sends these commands). */
function firstKey(args: string[]): string | undefined {
  const name = args[0]?.toUpperCase();
  if (name === 'EVAL' || name === 'EVALSHA') return Number(args[2]) > 0 ? args[3] : undefined;
  if (name === 'PING') return undefined;
  return args[1]; // GET, SET, DEL, PEXPIRE…: the key; PUBLISH: the channel (any node would do)
}

/** A duplicate connection (client or cluster) in subscriber mode. */
function nodeRedisSubscriber(
  client: any,
  onMessage: (channel: string, message: string) => void,
  onError: (error: unknown) => void,
): RedisSubscriber {
  const connection = client.duplicate();
  connection.on('error', onError);
  // node-redis needs an explicit connect(); it reconnects and re-subscribes by itself afterwards.
  const connected: Promise<void> = connection.connect().then(() => undefined);
  connected.catch(onError);
  return {
    async subscribe(channel) {
      await connected;
      await connection.subscribe(channel, (message: string) => onMessage(channel, message));
    },
    async unsubscribe(channel) {
      await connected;
      await connection.unsubscribe(channel);
    },
    async close() {
      // Also ends a connect() still retrying while Redis is down.
      if (connection.isOpen) await (connection.destroy ?? connection.disconnect).call(connection);
    },
  };
}
