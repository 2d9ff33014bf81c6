import type { StoredSession, TokenStorage } from './types';

/** Options for {@link webStorage}. */
export interface WebStorageOptions {
  /** `'local'` (default: shared by tabs, survives reloads), `'session'` (this tab only) or a `Storage`. */
  area?: 'local' | 'session' | Storage;
}

type LockManager = {
  request<T>(name: string, options: { signal?: AbortSignal }, fn: () => Promise<T>): Promise<T>;
};

/**
 * Token storage on `localStorage`/`sessionStorage` for browser apps.
 * - Cross-tab single flight with the Web Locks API (`navigator.locks`) where present: one tab
 *   refreshes, the others wait for the lock and adopt the stored result.
 * - `storage` events tell this tab about another tab's new token or logout.
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
  const locks: LockManager | undefined = (globalThis as any).navigator?.locks;
  const storage: TokenStorage = {
    get: (key) => area().getItem(key),
    set: (key, value: StoredSession) => area().setItem(key, JSON.stringify(value)),
    delete: (key) => area().removeItem(key),
    subscribe(key, listener) {
      const target = globalThis as any;
      if (typeof target.addEventListener !== 'function') return () => {};
      const store = area();
      const onStorage = (event: StorageEvent) => {
        if (event.storageArea === store && (event.key === key || event.key === null)) {
          listener(event.key === null ? null : event.newValue);
        }
      };
      target.addEventListener('storage', onStorage);
      return () => target.removeEventListener('storage', onStorage);
    },
  };
  if (locks) storage.lock = (key, fn, { signal }) => locks.request(key, { signal }, fn);
  return storage;
}
