// A `TokenStorage` (see @eka/auth-core's types.ts) shared by several `EkaAuth` instances in one
// process, standing in for Redis: values live in one Map, and `lock(key, fn, { signal })` is a
// promise-chain mutex per key. Optional small async delays make every call take a turn of the
// event loop or a few milliseconds, as a networked store would.

/** Sleep `ms` (0 = one macrotask); the timer is unref'd. */
const pause = (ms) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
  });

/** Rejects with the signal's reason when it aborts, else settles like `promise`. */
function untilAborted(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * In-memory token storage with an exclusive per-key lock, for several `EkaAuth` instances that must
 * behave like processes sharing one store.
 *
 * - `lock` runs holders strictly one at a time, in arrival order. A waiter whose signal aborts leaves
 *   the queue at once (rejecting with the signal's reason) without letting anyone skip the holder
 *   ahead of it. The lock is released however `fn` settles.
 * - `stats` counts lock acquisitions, aborted waits and the longest queue seen.
 */
export class LockingMemoryStorage {
  /** @type {Map<string, unknown>} */
  #values = new Map();
  /** Tail of each key's lock queue: resolves when the last holder (or waiter) has left. */
  #tails = new Map();
  /** @type {() => number} */
  #delayMs;

  /** Counters: `locks` granted, `abortedWaits`, `maxQueue` (longest queue seen), `queued` (holder + waiters now). */
  stats = { locks: 0, abortedWaits: 0, maxQueue: 0, queued: 0 };

  /**
   * @param options.delayMs returns the delay of each storage call in ms (default: 0, one macrotask).
   */
  constructor({ delayMs = () => 0 } = {}) {
    this.#delayMs = delayMs;
  }

  /** The stored value of `key` (a structured copy, as a real store would hand back). */
  async get(key) {
    await pause(this.#delayMs());
    const value = this.#values.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  /** Store `value` under `key`. */
  async set(key, value) {
    await pause(this.#delayMs());
    this.#values.set(key, structuredClone(value));
  }

  /** Forget `key`. */
  async delete(key) {
    await pause(this.#delayMs());
    this.#values.delete(key);
  }

  /** Run `fn` while holding the exclusive lock of `key`; a waiter's `signal` takes it out of the queue. */
  async lock(key, fn, { signal } = {}) {
    signal?.throwIfAborted();
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release;
    const mine = new Promise((resolve) => {
      release = resolve;
    });
    // The next waiter starts after the holder ahead of us AND our own turn, whether we ran or left.
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    this.stats.queued++;
    this.stats.maxQueue = Math.max(this.stats.maxQueue, this.stats.queued);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    try {
      try {
        await untilAborted(previous, signal);
      } catch (reason) {
        this.stats.abortedWaits++;
        throw reason;
      }
      this.stats.locks++;
      return await fn();
    } finally {
      this.stats.queued--;
      release();
    }
  }
}
