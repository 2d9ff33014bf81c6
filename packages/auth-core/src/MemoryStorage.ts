import type { StoredSession, TokenStorage } from './types';

/** The default storage: a Map owned by one `EkaAuth` (no module state, nothing shared). */
export class MemoryStorage implements TokenStorage {
  readonly #values = new Map<string, StoredSession>();

  get(key: string): StoredSession | undefined {
    return this.#values.get(key);
  }

  set(key: string, value: StoredSession): void {
    this.#values.set(key, value);
  }

  delete(key: string): void {
    this.#values.delete(key);
  }
}
