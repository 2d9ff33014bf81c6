import type { StorageError, StoredSession, TokenStorage } from '@eka/auth-core';

/** What a {@link RedisStorageWarning} is about. */
export type RedisStorageWarningCode =
  /** A Redis command failed or timed out: tokens stay in memory, locks in-process, until Redis is back. */
  | 'REDIS_UNAVAILABLE'
  /** Redis answers again: shared storage, cross-process lock and pub/sub resume. */
  | 'REDIS_RECOVERED'
  /** A refresh waited `lockWaitMs` for another process's lock and went ahead without it. */
  | 'LOCK_WAIT_EXCEEDED'
  /** The lock expired (or Redis lost it) while this process still held it. */
  | 'LOCK_LOST'
  /** Subscribing to a channel failed: changes made elsewhere are not seen until Redis recovers. */
  | 'SUBSCRIBE_FAILED';

/** A warning from the storage. It never contains a token, a refresh token or a stored value. */
export interface RedisStorageWarning {
  code: RedisStorageWarningCode;
  /** A sentence for logs. */
  message: string;
  /** The (sanitised) failure behind it, when there is one. */
  error?: StorageError;
}

/** Options of {@link redisStorage}. */
export interface RedisStorageOptions {
  /** Prepended to every key and channel (the core's storage key follows it). Default `'eka-auth:'`. */
  prefix?: string;
  /**
   * Lease of the refresh lock in milliseconds. The holder renews it every third of this while it
   * runs, so a crashed holder blocks the others for at most this long. Default 8000 (shorter than the
   * core's default 10 s refresh timeout, so waiters get the lock before their own refresh times out).
   */
  lockTtlMs?: number;
  /**
   * Longest a refresh waits for another process's lock before going ahead without it (with a
   * `LOCK_WAIT_EXCEEDED` warning). The core's own `timeoutMs` (10 s by default) usually ends the wait
   * first, with a transient error that is retried after back-off. Default 15 000.
   */
  lockWaitMs?: number;
  /**
   * How a waiter learns that the lock was released: `'pubsub'` (default: the holder's release
   * publishes a message, with polling as a fallback) or `'poll'` (polling only, for deployments
   * where pub/sub is not available for locks).
   */
  lockWake?: 'pubsub' | 'poll';
  /**
   * Poll interval while waiting for the lock. Default 250 with `'pubsub'` (only a fallback, e.g. for a
   * crashed holder's lock expiring), 50 with `'poll'`.
   */
  pollIntervalMs?: number;
  /**
   * Bound of one Redis command in milliseconds. A slower or failed command switches the storage to
   * memory (see {@link RedisStorageWarningCode}) instead of failing or hanging a request. Default 1000.
   */
  commandTimeoutMs?: number;
  /** While Redis is unavailable, how often to check (PING) whether it is back. Default 1000. */
  retryIntervalMs?: number;
  /** Clock used to turn stored expiries into key TTLs; give it the clock you gave the core. Default `Date.now`. */
  clock?: () => number;
  /** Called with each warning. Default: `console.warn`. A throwing handler is ignored. */
  onWarning?: (warning: RedisStorageWarning) => void;
}

/** A {@link TokenStorage} on Redis, shared by every process that uses the same Redis and prefix. */
export interface RedisTokenStorage extends TokenStorage {
  /** The stored session (parsed JSON), `null` when absent. Never rejects. */
  get(key: string): Promise<unknown>;
  /** Store with a TTL at the refresh token's expiry and publish the value. Never rejects. */
  set(key: string, value: StoredSession): Promise<void>;
  /** Delete and publish `null` (logout everywhere). Never rejects. */
  delete(key: string): Promise<void>;
  /** Run `fn` holding the cross-process lock of `key`. Rejects only when `signal` aborts the wait. */
  lock<T>(key: string, fn: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Be told about values set or deleted by any process (this one included). Returns unsubscribe. */
  subscribe(key: string, listener: (value: unknown) => void): () => void;
  /** `'redis'`, or `'memory'` while Redis is unavailable. */
  readonly mode: 'redis' | 'memory';
  /** Close the pub/sub connection and stop timers. Your client is left open: it is yours to close. */
  close(): Promise<void>;
}
