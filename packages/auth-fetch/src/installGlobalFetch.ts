import { ConfigError, type EkaAuth, UNWRAPPED } from '@eka/auth-core';
import { type AuthFetchOptions, createAuthFetch } from './createAuthFetch';

const INSTALLED = Symbol.for('@eka/auth-fetch.installed');

interface Installed {
  auth: EkaAuth;
  uninstall: () => void;
}

/**
 * Wrap `globalThis.fetch` once, at process/app start, so every fetch-based SDK is authenticated for
 * Eka origins (and untouched elsewhere). Returns `uninstall()`, which restores the original exactly.
 *
 * Idempotent: installing again with the same `auth` returns the same `uninstall`; installing with a
 * different `auth` throws `ConfigError` (one global fetch cannot serve two credentials — use
 * `createAuthFetch` per credential instead). If something wrapped fetch after us, `uninstall()`
 * leaves their wrapper in place and turns ours into a pass-through.
 *
 * @throws {ConfigError} when another `EkaAuth` is already installed, or no global fetch exists.
 */
export function installGlobalFetch(auth: EkaAuth, options: Omit<AuthFetchOptions, 'fetch'> = {}): () => void {
  const current = globalThis.fetch as typeof fetch & { [INSTALLED]?: Installed };
  if (typeof current !== 'function')
    throw new ConfigError('CONFIG_INVALID', 'there is no global fetch to wrap');
  const existing = current[INSTALLED];
  if (existing) {
    if (existing.auth === auth) return existing.uninstall;
    throw new ConfigError(
      'CONFIG_INVALID',
      'installGlobalFetch: another EkaAuth is already installed; uninstall it first',
    );
  }
  const original = current;
  const authed = createAuthFetch(auth, { ...options, fetch: original });
  let active = true;
  const wrapper = ((input: RequestInfo | URL, init?: RequestInit) =>
    active ? authed(input, init) : original(input, init)) as typeof fetch & Record<symbol, unknown>;
  const uninstall = () => {
    if (!active) return;
    active = false;
    if (globalThis.fetch === wrapper) globalThis.fetch = original;
  };
  wrapper[UNWRAPPED] = original;
  wrapper[INSTALLED] = { auth, uninstall } satisfies Installed;
  globalThis.fetch = wrapper;
  return uninstall;
}
