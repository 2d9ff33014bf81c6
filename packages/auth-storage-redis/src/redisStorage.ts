import { ConfigError, StorageError, type StoredSession } from '@eka/auth-core';
import { abortReason, createLocalLocks } from './createLocalLocks';
import { type RedisSubscriber, toRedisDriver } from './toRedisDriver';
import type {
  RedisStorageOptions,
  RedisStorageWarning,
  RedisStorageWarningCode,
  RedisTokenStorage,
} from './types';

/** Deletes the lock only for its holder, and tells the waiters. KEYS[1] lock; ARGV token, channel. */
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) " +
  "redis.call('publish', ARGV[2], '1') return 1 end return 0";
/**
 * Stores a value and publishes it. KEYS[1] value; ARGV json, channel, SET options (PX ms, NX). One
 * script, so every message about a key leaves from the node that holds the key: in a cluster,
 * messages sent from different nodes may overtake each other (a logout before the login).
 */
const SET_AND_PUBLISH =
  "if redis.call('set',KEYS[1],ARGV[1],unpack(ARGV,3)) then redis.call('publish',ARGV[2],ARGV[1]) return 1 end return 0";
/** Deletes a value and publishes `null`. KEYS[1] value; ARGV channel. */
const DELETE_AND_PUBLISH = "redis.call('del',KEYS[1]) redis.call('publish',ARGV[1],'null') return 1";
/** Extends the lock only for its holder. KEYS[1] lock; ARGV token, ttl. */
const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";

const noop = () => {};
/** A callback of the user's may be async: a promise it returns must not end up rejected and unhandled. */
const settle = (result: unknown) => {
  if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    (result as PromiseLike<unknown>).then(undefined, noop);
  }
};

/**
 * Token storage on Redis for a fleet of processes sharing one Eka session, built on the client you
 * already have (ioredis or node-redis; never imported, recognised by shape).
 *
 * - **Values**: the core's versioned JSON under `prefix + key`, with a TTL at the refresh token's
 *   expiry (the access token's when that is unknown). Keys carry no secret: the core's storage key
 *   holds the client id and a hash of the sharing key only.
 * - **Lock** (cross-process single flight): `SET <key>:lock <random> NX PX lockTtlMs`, renewed while
 *   the holder runs, released by a script that deletes it only for the holder and publishes on
 *   `<key>:unlocked`, which wakes the waiters; they then re-read and adopt the stored token.
 * - **Changes**: every `set` publishes the value and every `delete` publishes `null` on
 *   `<key>:changed` (from the script that writes the key, so that in a cluster all messages about a key
 *   leave from its master, in order), read by a duplicate connection in subscriber mode, so a logout
 *   anywhere is seen everywhere.
 * - **Cluster**: an ioredis `Cluster` or a node-redis `createCluster()` works as is: every command
 *   touches one key (no hash tags needed), and classic pub/sub reaches every node.
 * - **Redis down or slow**: no method ever rejects into the core (which would drop to memory for
 *   good). Commands are bounded by `commandTimeoutMs`; on a failure the storage warns once, serves
 *   from memory with an in-process lock, checks every `retryIntervalMs`, and when Redis is back it
 *   writes back what changed meanwhile and resumes.
 *
 * @throws {ConfigError} when `client` is not an ioredis/node-redis client or an option is invalid.
 */
export function redisStorage(client: unknown, options: RedisStorageOptions = {}): RedisTokenStorage {
  const driver = toRedisDriver(client);
  const prefix = options.prefix ?? 'eka-auth:';
  if (typeof prefix !== 'string') throw new ConfigError('CONFIG_INVALID', 'prefix must be a string');
  const lockTtlMs = positive(options.lockTtlMs ?? 8_000, 'lockTtlMs');
  const lockWaitMs = positive(options.lockWaitMs ?? 15_000, 'lockWaitMs');
  const commandTimeoutMs = positive(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
  const retryIntervalMs = positive(options.retryIntervalMs ?? 1_000, 'retryIntervalMs');
  const wakeOnRelease = (options.lockWake ?? 'pubsub') === 'pubsub';
  // With release messages, polling is only the fallback (a crashed holder's lock expiring).
  const pollIntervalMs = positive(options.pollIntervalMs ?? (wakeOnRelease ? 250 : 50), 'pollIntervalMs');
  if (options.lockWake !== undefined && !['pubsub', 'poll'].includes(options.lockWake)) {
    throw new ConfigError('CONFIG_INVALID', "lockWake must be 'pubsub' or 'poll'");
  }
  const clock = options.clock ?? Date.now;
  const local = createLocalLocks();
  // A client emitting 'error' without a listener throws (node-redis 4) or logs each reconnect attempt
  // (ioredis): the outage is reported once, by the commands that fail, and this keeps it from crashing.
  const stopWatchingErrors = driver.onError(noop);

  /** Last JSON text seen per key (`null` = absent): what memory serves while Redis is down. */
  const known = new Map<string, string | null>();
  /** Keys changed while Redis was down, written back when it returns. */
  const dirty = new Set<string>();
  const listeners = new Map<string, Set<(value: unknown) => void>>();
  const wakers = new Map<string, Set<() => void>>();
  let up = true;
  let closed = false;
  let probe: ReturnType<typeof setTimeout> | undefined;

  const names = (key: string) => {
    const data = prefix + key;
    return { data, lock: `${data}:lock`, changed: `${data}:changed`, unlocked: `${data}:unlocked` };
  };

  // ---- reporting -------------------------------------------------------------------------------
  const warn = (code: RedisStorageWarningCode, message: string, cause?: unknown) => {
    const warning: RedisStorageWarning = { code, message };
    if (cause !== undefined) warning.error = new StorageError('STORAGE_FAILURE', describe(cause));
    try {
      settle((options.onWarning ?? ((w) => console.warn(`[@eka/auth-storage-redis] ${w.message}`)))(warning));
    } catch {
      // A throwing warning handler must not break the storage.
    }
  };

  // ---- commands, bounded; a failure switches to memory until Redis answers a PING again ----------
  const run = (args: string[]): Promise<unknown> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = Promise.resolve().then(() => driver.command(args));
    reply.catch(noop); // may settle after the timeout
    const timeout = new Promise<never>((_, reject) => {
      const fail = () => reject(new RedisTimeoutError(`${args[0]} took longer than ${commandTimeoutMs} ms`));
      // After a stalled event loop the timer runs before pending socket reads: let I/O go first.
      timer = setTimeout(
        () => (typeof setImmediate === 'function' ? setImmediate(fail) : fail()),
        commandTimeoutMs,
      );
      (timer as any).unref?.();
    });
    return Promise.race([reply, timeout]).finally(() => clearTimeout(timer));
  };
  const down = (cause: unknown) => {
    if (!up) return;
    up = false;
    warn(
      'REDIS_UNAVAILABLE',
      `Redis is unavailable (${describe(cause)}); tokens are kept in memory and refreshes locked in this process only until it is back`,
      cause,
    );
    schedule();
  };
  const schedule = () => {
    clearTimeout(probe);
    if (closed) return;
    probe = setTimeout(() => check().catch(noop), retryIntervalMs);
    (probe as any).unref?.();
  };
  let checking: Promise<void> | undefined;
  /** Is Redis back? Run by the timer, and before a refresh takes the lock (refreshes are rare). */
  const check = () =>
    (checking ??= (async () => {
      if (closed || up) return;
      try {
        if (!driver.isReady()) throw new Error('not connected');
        await run(['PING']);
      } catch {
        return schedule();
      }
      up = true;
      clearTimeout(probe);
      warn('REDIS_RECOVERED', 'Redis is reachable again; tokens and locks are shared again');
      await resync().catch((cause) => down(cause));
    })().finally(() => (checking = undefined)));
  /** After an outage: write back what changed here, re-subscribe if needed, adopt what changed there. */
  const resync = async () => {
    for (const key of [...dirty]) {
      dirty.delete(key);
      const text = known.get(key) ?? null;
      await (text === null ? remove(key) : store(key, text, 'NX'));
    }
    if (resubscribe) await bounded(reopenSubscriber());
    for (const key of listeners.keys()) {
      const text = (await run(['GET', names(key).data])) as string | null;
      // A Redis restarted empty is not a logout: only values are passed on.
      if (text !== null && text !== known.get(key)) received(key, text);
    }
  };

  /** `['PX', ms]` until the refresh token (else the access token) expires; nothing if unknown. */
  const expiry = (text: string): string[] => {
    const value = JSON.parse(text) as StoredSession;
    const until = value.refreshToken ? (value.refreshExpiresAt ?? value.expiresAt) : value.expiresAt;
    if (typeof until !== 'number' || !Number.isFinite(until)) return [];
    return ['PX', String(Math.max(1_000, Math.ceil(until - clock())))];
  };
  /** SET (with its TTL, and NX when asked) and publish the value on `<key>:changed`, in one script. */
  const store = (key: string, text: string, ...nx: ['NX'] | []) => {
    const n = names(key);
    return run(['EVAL', SET_AND_PUBLISH, '1', n.data, text, n.changed, ...expiry(text), ...nx]);
  };
  /** DEL and publish `null` on `<key>:changed`, in one script. */
  const remove = (key: string) => {
    const n = names(key);
    return run(['EVAL', DELETE_AND_PUBLISH, '1', n.data, n.changed]);
  };

  // ---- pub/sub -----------------------------------------------------------------------------------
  let subscriber: RedisSubscriber | undefined;
  let resubscribe = false;
  const channels = new Map<string, { refs: number; ready: Promise<boolean> }>();
  const channelKeys = new Map<string, { key: string; unlocked: boolean }>();
  const onMessage = (channel: string, message: string) => {
    const target = channelKeys.get(channel);
    if (!target) return;
    if (target.unlocked) {
      for (const wake of wakers.get(target.key) ?? []) wake();
    } else {
      received(target.key, message === 'null' ? null : message);
    }
  };
  const received = (key: string, text: string | null) => {
    known.set(key, text);
    const value = parse(text);
    for (const listener of [...(listeners.get(key) ?? [])]) {
      try {
        settle(listener(value));
      } catch {
        // The core's listener does not throw; a foreign one must not break delivery to the others.
      }
    }
  };
  let resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  let resubscribeDelayMs = retryIntervalMs;
  /** Try the subscriptions again on a fresh connection, backing off up to a minute until they hold. */
  const resubscribeSoon = () => {
    resubscribe = true;
    if (resubscribeTimer || closed) return;
    resubscribeTimer = setTimeout(() => {
      resubscribeTimer = undefined;
      resubscribeDelayMs = Math.min(resubscribeDelayMs * 2, 60_000);
      if (up && driver.isReady()) reopenSubscriber().catch(noop);
      else resubscribeSoon();
    }, resubscribeDelayMs);
    (resubscribeTimer as any).unref?.();
  };
  let warnedSubscribe = false;
  const subscribeChannel = (channel: string): Promise<boolean> => {
    const failed = (cause: unknown) => {
      // A refusal (ACL…) is worth a warning; a lost connection is the outage the commands report.
      if (isReplyError(cause) && !warnedSubscribe) {
        warnedSubscribe = true;
        warn('SUBSCRIBE_FAILED', `could not subscribe to ${channel}`, cause);
      }
      resubscribeSoon();
      return false;
    };
    if (closed) return Promise.resolve(false); // never a new connection after close()
    try {
      subscriber ??= driver.subscriber(onMessage, noop);
      return subscriber.subscribe(channel).then(() => true, failed);
    } catch (cause) {
      return Promise.resolve(failed(cause));
    }
  };
  const retain = (channel: string, key: string, unlocked: boolean): Promise<boolean> => {
    const entry = channels.get(channel);
    if (entry) {
      entry.refs++;
      return entry.ready;
    }
    channelKeys.set(channel, { key, unlocked });
    const ready = subscribeChannel(channel);
    channels.set(channel, { refs: 1, ready });
    return ready;
  };
  const releaseChannel = (channel: string) => {
    const entry = channels.get(channel);
    if (!entry || --entry.refs > 0) return;
    channels.delete(channel);
    channelKeys.delete(channel);
    const current = subscriber;
    if (channels.size === 0) {
      subscriber = undefined;
      current?.close().catch(noop);
    } else {
      current?.unsubscribe(channel).catch(noop);
    }
  };
  const reopenSubscriber = async () => {
    resubscribe = false;
    const old = subscriber;
    subscriber = undefined;
    old?.close().catch(noop);
    for (const [channel, entry] of channels) entry.ready = subscribeChannel(channel);
    const results = await Promise.all([...channels.values()].map((entry) => entry.ready));
    if (results.every(Boolean)) resubscribeDelayMs = retryIntervalMs;
  };
  /** Wait for `promise` at most one command timeout; never rejects. */
  const bounded = (promise: Promise<unknown>) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, commandTimeoutMs);
      (timer as any).unref?.();
      promise.then(noop, noop).finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  // ---- the lock ----------------------------------------------------------------------------------
  /** Sleep until the lock may be free: release message, poll interval, or abort. */
  const nap = (key: string, ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve) => {
      const set = wakers.get(key) ?? new Set();
      wakers.set(key, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && wakers.get(key) === set) wakers.delete(key);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });

  /** The lock's token once held; `undefined` = go ahead without it (Redis down, or waited too long). */
  const acquire = async (key: string, signal: AbortSignal | undefined): Promise<string | undefined> => {
    const n = names(key);
    const token = crypto.randomUUID();
    const deadline = performance.now() + lockWaitMs;
    let listening = false;
    try {
      for (;;) {
        if (signal?.aborted) throw abortReason(signal);
        if (!up) return undefined;
        let reply: unknown;
        try {
          reply = await run(['SET', n.lock, token, 'NX', 'PX', String(lockTtlMs)]);
        } catch (cause) {
          down(cause);
          // If the SET still lands later, this releases it right after (same connection, in order).
          run(['EVAL', RELEASE, '1', n.lock, token, n.unlocked]).catch(noop);
          return undefined;
        }
        if (reply === 'OK') return token;
        const left = deadline - performance.now();
        if (left <= 0) {
          warn(
            'LOCK_WAIT_EXCEEDED',
            `waited ${lockWaitMs} ms for another process's refresh lock; going ahead without it`,
          );
          return undefined;
        }
        if (wakeOnRelease && !listening) {
          // Listen first, then try once more: a release in between cannot be missed.
          listening = true;
          await bounded(retain(n.unlocked, key, true));
          continue;
        }
        await nap(key, Math.min(pollIntervalMs, left), signal);
      }
    } finally {
      if (listening) releaseChannel(n.unlocked);
    }
  };
  /** Renew the lease every third of its length while `fn` runs. */
  const keepAlive = (key: string, token: string) => {
    const n = names(key);
    const timer = setInterval(async () => {
      if (!up) return;
      try {
        if ((await run(['EVAL', RENEW, '1', n.lock, token, String(lockTtlMs)])) === 0) {
          clearInterval(timer);
          warn('LOCK_LOST', 'the refresh lock expired while this process held it (event loop stalled?)');
        }
      } catch (cause) {
        down(cause);
      }
    }, lockTtlMs / 3);
    (timer as any).unref?.();
    return timer;
  };
  const release = async (key: string, token: string) => {
    if (!up) return; // it expires by itself
    const n = names(key);
    try {
      await run(['EVAL', RELEASE, '1', n.lock, token, n.unlocked]);
    } catch (cause) {
      down(cause);
    }
  };

  // ---- the storage -------------------------------------------------------------------------------
  return {
    get mode() {
      return up ? 'redis' : 'memory';
    },
    async get(key) {
      if (up) {
        try {
          const text = (await run(['GET', names(key).data])) as string | null;
          known.set(key, text ?? null);
          return parse(text ?? null);
        } catch (cause) {
          down(cause);
        }
      }
      return parse(known.get(key) ?? null);
    },
    async set(key, value) {
      const text = JSON.stringify(value);
      known.set(key, text);
      if (up) {
        try {
          await store(key, text);
          return;
        } catch (cause) {
          down(cause);
        }
      }
      dirty.add(key);
      received(key, text); // other instances in this process
    },
    async delete(key) {
      known.set(key, null);
      if (up) {
        try {
          await remove(key);
          return;
        } catch (cause) {
          down(cause);
        }
      }
      dirty.add(key);
      received(key, null);
    },
    lock(key, fn, { signal } = {}) {
      return local.run(key, signal, async () => {
        // A refresh is about to happen: worth one PING to coordinate it across the fleet again.
        if (!up && driver.isReady()) await check();
        const token = up ? await acquire(key, signal) : undefined;
        if (token === undefined) return fn();
        const renewal = keepAlive(key, token);
        try {
          return await fn();
        } finally {
          clearInterval(renewal);
          await release(key, token);
        }
      });
    },
    subscribe(key, listener) {
      let set = listeners.get(key);
      if (!set) {
        listeners.set(key, (set = new Set()));
        const n = names(key);
        retain(n.changed, key, false).catch(noop);
        // Kept while someone listens, so lock waiters never pay for a SUBSCRIBE.
        if (wakeOnRelease) retain(n.unlocked, key, true).catch(noop);
      }
      const mine = (value: unknown) => listener(value);
      set.add(mine);
      return () => {
        if (!set.delete(mine) || set.size > 0) return;
        listeners.delete(key);
        const n = names(key);
        releaseChannel(n.changed);
        if (wakeOnRelease) releaseChannel(n.unlocked);
      };
    },
    async close() {
      closed = true;
      stopWatchingErrors();
      clearTimeout(probe);
      clearTimeout(resubscribeTimer);
      listeners.clear();
      channels.clear();
      channelKeys.clear();
      const current = subscriber;
      subscriber = undefined;
      await current?.close().catch(noop);
    },
  };
}

/** Parse stored JSON; text that is not JSON is handed over as is (the core rejects it with a warning). */
function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A failure in words without any command argument: Redis reply errors may quote arguments
 * ("…with args beginning with…"), so only their first word (`ERR`, `WRONGTYPE`, `NOAUTH`…) is kept.
 */
function describe(cause: unknown): string {
  try {
    const error = cause as { name?: string; message?: string; code?: string } | undefined;
    const message = typeof error?.message === 'string' ? error.message : String(cause);
    if (isReplyError(cause)) return `Redis answered ${message.split(/\s/, 1)[0]}`;
    return (error?.code ? `${error.code}: ` : '') + message.slice(0, 200);
  } catch {
    return 'an error that cannot be described'; // a getter or toString that throws
  }
}

/** An error answered by Redis itself (as opposed to a connection failure or a timeout). */
function isReplyError(cause: unknown): boolean {
  return /Reply|SimpleError|BlobError/.test((cause as { name?: string } | undefined)?.name ?? '');
}

/** A command that did not answer within `commandTimeoutMs`. */
class RedisTimeoutError extends Error {
  override name = 'RedisTimeoutError';
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError('CONFIG_INVALID', `${name} must be > 0`);
  return value;
}
