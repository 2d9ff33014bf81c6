import { StorageError } from './errors';
import { MemoryStorage } from './MemoryStorage';
import { parseStoredSession, toStoredSession } from './session';
import type { TokenSet, TokenStorage } from './types';
import { waitFor } from './waitFor';

/** The session in storage, as the cycler sees it: never throws, never hands back garbage. */
export interface SessionStore {
  /** The stored session, `null` when absent, corrupt (warned) or unreadable (degraded). */
  read(): Promise<TokenSet | null>;
  /** Save tokens (`null` deletes). */
  write(tokens: TokenSet | null): Promise<void>;
  /** Run `fn` under the storage's cross-process lock (`shared`), or directly when it has none / it fails. */
  locked<T>(fn: (shared: boolean) => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Be told of changes made elsewhere: a parsed session, or `null` for a deletion. */
  subscribe(listener: (tokens: TokenSet | null) => void): void;
  /** Stop listening for changes. */
  dispose(): void;
}

/**
 * Storage sync for one key: read/parse/write, corrupt values ignored with a warning, and any storage
 * failure degrades this session to memory with one warning (never a crash, never a rejection).
 */
export function createSessionStore(
  given: TokenStorage,
  key: string,
  warn: (message: string, cause?: unknown) => void,
  timeoutMs: number,
): SessionStore {
  /** A storage call that does not settle within `timeoutMs` fails (and so degrades): nothing waits on it forever. */
  const bounded = <T>(call: () => T | Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([Promise.resolve().then(call), late]).finally(() => clearTimeout(timer));
  };
  let storage = given;
  let unsubscribe = () => {};
  let degraded = false;
  const degrade = (cause: unknown) => {
    if (degraded) return;
    degraded = true;
    storage = new MemoryStorage();
    unsubscribe();
    // Only the failure's name and code: its message or `cause` may quote the value (the tokens) it
    // was given, and error trackers and `util.inspect` print a `cause` however it is attached.
    const { name, code } = (cause ?? {}) as { name?: unknown; code?: unknown };
    const kind = [name, code].filter((part) => typeof part === 'string' && part).join(' ');
    warn(
      'token storage failed; using memory for this session',
      new StorageError('STORAGE_FAILURE', `storage failed${kind ? ` (${kind})` : ''}`),
    );
  };
  return {
    async read() {
      let raw: unknown;
      try {
        raw = await bounded(() => storage.get(key));
      } catch (cause) {
        degrade(cause);
        return null;
      }
      const parsed = parseStoredSession(raw);
      if (raw != null && !parsed) warn('ignored a corrupt value in token storage');
      return parsed;
    },
    async write(tokens) {
      try {
        await bounded(() => (tokens ? storage.set(key, toStoredSession(tokens)) : storage.delete(key)));
      } catch (cause) {
        degrade(cause);
      }
    },
    async locked(fn, signal) {
      if (!storage.lock) return fn(false);
      let entered = false;
      try {
        // A lock that ignores the signal still ends the wait when it fires; should it call back later,
        // nothing runs (the attempt is over).
        return await waitFor(
          storage.lock(
            key,
            () => {
              if (signal.aborted) return Promise.reject(signal.reason);
              entered = true;
              return fn(true);
            },
            { signal },
          ),
          signal,
        );
      } catch (cause) {
        // A failure inside `fn` is the caller's; a lock that cannot be taken degrades to memory.
        if (entered || signal.aborted) throw cause;
        degrade(cause);
        return fn(false);
      }
    },
    subscribe(listener) {
      try {
        unsubscribe =
          storage.subscribe?.(key, (raw) => {
            const tokens = parseStoredSession(raw);
            // A corrupt value written elsewhere is ignored; an absent one is a logout.
            if (tokens || raw == null) listener(tokens);
          }) ?? unsubscribe;
      } catch (cause) {
        degrade(cause);
      }
    },
    dispose: () => unsubscribe(),
  };
}
