import type { StoredSession, TokenStorage } from './types';

/** The part of the Web Locks API (`navigator.locks`) this storage uses. */
export interface WebLockManager {
  request<T>(
    name: string,
    options: { signal?: AbortSignal; ifAvailable?: boolean },
    fn: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** Where `storage` (and `pagehide`) events arrive: the window. */
export type WebEventTarget = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;

/** Options for {@link webStorage}. */
export interface WebStorageOptions {
  /** `'local'` (default: shared by tabs, survives reloads), `'session'` (this tab only) or a `Storage`. */
  area?: 'local' | 'session' | Storage;
  /**
   * The cross-tab lock. Default `navigator.locks` (Web Locks API) where present; `null`, or a browser
   * without Web Locks (Safari before 15.4, pages served over plain http), uses a lease in the storage area.
   */
  locks?: WebLockManager | null;
  /** Where `storage` events arrive. Default `globalThis` (the window); mainly for tests. */
  events?: WebEventTarget;
  /**
   * Fallback lease only: how long a tab may hold it without renewing. A tab that crashes mid-refresh
   * blocks the others at most this long (a tab that closes releases it at once). Default 15 000 ms.
   */
  leaseMs?: number;
}

/** A fallback lease as stored under `<key>:lease`. */
interface Lease {
  id: string;
  until: number;
}

/** How long a lease write gets to reach the other tabs before the writer checks that it won. */
const SETTLE_MS = 40;
/** Lifetime of a claim that is not yet confirmed: a tie between two tabs costs at most this. */
const CLAIM_MS = 4 * SETTLE_MS;
/** Longest wait between two looks at a held lease when no `storage` event arrives. */
const POLL_MS = 250;

/**
 * Token storage on `localStorage`/`sessionStorage` for browser apps, coordinating tabs:
 * - One tab refreshes, the others adopt its result: the core runs every refresh under `lock`, which
 *   is the Web Locks API (`navigator.locks`) where present, else a lease kept in the storage area
 *   (write, let it settle, check it is still ours; renewed while held, released on `pagehide`). The
 *   lease avoids two tabs presenting the same rotating refresh token in all but near-simultaneous
 *   races, where the gateway's reuse detection and the core's fall-back to login take over.
 * - `storage` events tell every other tab about a new token (adopted without a refresh) or a logout
 *   (the stored session removed: those tabs log out too).
 * - Where web storage is missing (server rendering) or throws (quota, privacy mode), every call
 *   throws and the core degrades to memory with a warning — importing this never crashes.
 *
 * Only store tokens in web storage for apps whose backend logs in (the `login` option): a client
 * secret never belongs in browser code.
 */
export function webStorage(options: WebStorageOptions = {}): TokenStorage {
  const area = (): Storage => {
    const { area: chosen = 'local' } = options;
    const store = typeof chosen === 'object' ? chosen : (globalThis as any)[`${chosen}Storage`];
    if (!store) throw new Error(`${String(chosen)}Storage is not available here`);
    return store;
  };
  const events: WebEventTarget | undefined =
    options.events ??
    (typeof (globalThis as any).addEventListener === 'function' ? (globalThis as any) : undefined);
  const locks = options.locks === undefined ? (globalThis as any).navigator?.locks : options.locks;
  const storage: TokenStorage = {
    get: (key) => area().getItem(key),
    set: (key, value: StoredSession) => area().setItem(key, JSON.stringify(value)),
    delete: (key) => area().removeItem(key),
    subscribe(key, listener) {
      if (!events) return () => {};
      const store = area();
      const onStorage = (event: Event) => {
        const { key: changed, newValue, storageArea } = event as StorageEvent;
        // `key === null`: the whole area was cleared, which logs this session out too.
        if (storageArea === store && (changed === key || changed === null)) {
          listener(changed === null ? null : newValue);
        }
      };
      events.addEventListener('storage', onStorage);
      return () => events.removeEventListener('storage', onStorage);
    },
  };
  storage.lock =
    typeof locks?.request === 'function'
      ? webLocksLock(locks, events)
      : leaseLock(area, events, options.leaseMs ?? 15_000);
  return storage;
}

/**
 * The Web Locks lock. A tab that had to wait for another holder gives that holder's last write a
 * moment to reach this tab's copy of the storage (it travels apart from the lock grant) before the
 * core re-checks it, so it adopts the new token instead of refreshing with a spent refresh token.
 */
function webLocksLock(locks: WebLockManager, events: WebEventTarget | undefined) {
  const WAITED = Symbol('waited');
  return async <T>(key: string, fn: () => Promise<T>, { signal }: { signal: AbortSignal }): Promise<T> => {
    const free = await locks.request(key, { ifAvailable: true }, async (lock) => (lock ? fn() : WAITED));
    if (free !== WAITED) return free as T;
    let changed = false;
    const onStorage = (event: Event) => {
      if ((event as StorageEvent).key === key || (event as StorageEvent).key === null) changed = true;
    };
    events?.addEventListener('storage', onStorage);
    try {
      return await locks.request(key, { signal }, async () => {
        if (!changed) await changeOrTimeout(events, key, SETTLE_MS, signal);
        return fn();
      });
    } finally {
      events?.removeEventListener('storage', onStorage);
    }
  };
}

/**
 * The fallback lock: a lease in the storage area under `<key>:lease`, queued per key inside this tab
 * (a tab never sees its own `storage` events).
 */
function leaseLock(area: () => Storage, events: WebEventTarget | undefined, leaseMs: number) {
  const queues = new Map<string, Promise<void>>();
  return async <T>(key: string, fn: () => Promise<T>, { signal }: { signal: AbortSignal }): Promise<T> => {
    const store = area();
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    const before = queues.get(key) ?? Promise.resolve();
    const tail = before.then(() => turn);
    queues.set(key, tail);
    try {
      await untilAborted(before, signal);
      const release = await acquireLease(store, `${key}:lease`, events, leaseMs, signal);
      try {
        return await fn();
      } finally {
        release();
      }
    } finally {
      done();
      // `tail` never rejects (its parts only resolve); the handler is there all the same.
      tail.then(() => queues.get(key) === tail && queues.delete(key), ignore);
    }
  };
}

/** Take the lease under `leaseKey`: returns its release function. */
async function acquireLease(
  store: Storage,
  leaseKey: string,
  events: WebEventTarget | undefined,
  leaseMs: number,
  signal: AbortSignal,
): Promise<() => void> {
  const id = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
  const write = (ms: number) => store.setItem(leaseKey, JSON.stringify({ id, until: Date.now() + ms }));
  const mine = () => readLease(store.getItem(leaseKey))?.id === id;
  let contended = false;
  for (;;) {
    if (signal.aborted) throw abortReason(signal);
    const held = readLease(store.getItem(leaseKey));
    if (held && held.until > Date.now()) {
      await changeOrTimeout(events, leaseKey, Math.min(POLL_MS, held.until - Date.now() + 1), signal);
      continue;
    }
    if (contended) {
      // Lost a tie last time: a random pause lets one tab write first and the other see it.
      contended = false;
      await changeOrTimeout(events, leaseKey, Math.random() * CLAIM_MS, signal);
      continue;
    }
    // Claim briefly, give concurrent claims time to arrive, and go ahead only if ours is the one
    // still there. Two tabs that each see the other's claim back off until it lapses (CLAIM_MS).
    write(CLAIM_MS);
    await changeOrTimeout(undefined, undefined, SETTLE_MS, signal);
    if (mine()) break;
    contended = true;
  }
  write(leaseMs);
  const renew = setInterval(
    () => {
      try {
        if (mine()) write(leaseMs);
      } catch {
        // A lease that cannot be renewed expires; the refresh under it goes on.
      }
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  (renew as any).unref?.();
  const release = () => {
    clearInterval(renew);
    events?.removeEventListener('pagehide', release);
    try {
      if (mine()) store.removeItem(leaseKey);
    } catch {
      // The lease expires on its own.
    }
  };
  // A tab closed mid-refresh lets the others go on at once instead of waiting for the lease to expire.
  events?.addEventListener('pagehide', release);
  return release;
}

/** Resolve on a `storage` event for `key`, after `ms`, or reject when `signal` aborts. */
function changeOrTimeout(
  events: WebEventTarget | undefined,
  key: string | undefined,
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      events?.removeEventListener('storage', onStorage);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onStorage = (event: Event) => {
      if ((event as StorageEvent).key === key || (event as StorageEvent).key === null) finish();
    };
    const onAbort = () => finish(abortReason(signal));
    const timer = setTimeout(() => finish(), Math.max(0, ms));
    if (key !== undefined) events?.addEventListener('storage', onStorage);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Await `promise` (which never rejects) unless `signal` aborts first. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, reject);
  });
}

function readLease(raw: string | null): Lease | undefined {
  if (!raw) return undefined;
  try {
    const lease = JSON.parse(raw);
    return typeof lease?.id === 'string' && Number.isFinite(lease.until) ? lease : undefined;
  } catch {
    return undefined;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

const ignore = () => {};
