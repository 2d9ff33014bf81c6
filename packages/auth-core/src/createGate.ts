import type { EkaAuthError } from './errors';

/** Where requests wait out a back-off together. */
export interface Gate {
  /** Resolves when the gate opens: `undefined` to try again, or the reason the session was reset. */
  wait(untilMs: number): Promise<EkaAuthError | undefined>;
  /** Wake every waiter now (a token arrived, a login started, or the session was reset). */
  open(reason?: EkaAuthError): void;
}

/**
 * One shared wait per back-off: the first waiter arms a timer for `untilMs` (not unref'd — somebody
 * is waiting on it); everybody who comes later shares it; `open()` wakes them all early.
 */
export function createGate(clock: () => number): Gate {
  let current: { promise: Promise<EkaAuthError | undefined>; open(reason?: EkaAuthError): void } | null =
    null;
  return {
    wait(untilMs) {
      if (!current) {
        let resolve!: (reason?: EkaAuthError) => void;
        const promise = new Promise<EkaAuthError | undefined>((r) => (resolve = r));
        const wake = setTimeout(() => this.open(), Math.max(0, untilMs - clock()));
        current = {
          promise,
          open(reason) {
            clearTimeout(wake);
            current = null;
            resolve(reason);
          },
        };
      }
      return current.promise;
    },
    open: (reason) => current?.open(reason),
  };
}
