/** Per-key mutexes inside one process (a FIFO chain of promises per key). */
export interface LocalLocks {
  /** Run `task` once every earlier holder of `key` in this process is done; `signal` aborts the wait only. */
  run<T>(key: string, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T>;
}

/** The reason an aborted signal carries, as something throwable. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Wait for `promise`, or reject as soon as `signal` aborts (the promise itself goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Create a set of in-process per-key mutexes. */
export function createLocalLocks(): LocalLocks {
  const tails = new Map<string, Promise<void>>();
  return {
    async run(key, signal, task) {
      const previous = tails.get(key) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((resolve) => (done = resolve));
      // The next holder waits for us *and* everyone before us, even if we stop waiting early.
      const tail = previous.then(() => mine);
      tails.set(key, tail);
      try {
        await abortable(previous, signal);
        return await task();
      } finally {
        done();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
