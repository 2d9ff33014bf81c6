import { EkaAuthError, toAuthError } from './errors';
import type { CyclerConfig } from './tokenCyclerTypes';
import type { TokenSet } from './types';

/** One attempt of a flight, as the cycler describes it. */
export interface AttemptPlan {
  /** The flight's signal (logout/dispose); the attempt adds its own timeout. */
  signal: AbortSignal;
  attempt: number;
  /** The access token held when the flight started: a different one in storage is newer. */
  stale: string | undefined;
  /** The held token got a 401: a newer stored one is taken even if it looks expired. */
  force: boolean;
  forceLogin: boolean;
  /** The tokens held now (read when the lock is entered). */
  held: () => TokenSet | null;
  /** False once the session was reset: nothing is stored then. */
  current: () => boolean;
}

/**
 * One call for tokens within `timeoutMs`, under the storage lock when there is one: check → lock →
 * re-check, so a token another tab/process stored meanwhile is adopted instead of obtaining one again.
 * New tokens are saved before the lock is released. Throws an `EkaAuthError`.
 */
export async function obtainTokens(
  { source, store, reporter, clock, timeoutMs }: CyclerConfig,
  plan: AttemptPlan,
): Promise<[TokenSet, 'login' | 'refresh' | 'storage']> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  const timeout = setTimeout(stop, timeoutMs);
  (timeout as any).unref?.();
  plan.signal.addEventListener('abort', stop);
  /** The session in shared storage when the lock was entered (`null` without a lock). */
  let stored: TokenSet | null = null;
  const obtain = async (base: TokenSet | null): Promise<[TokenSet, 'login' | 'refresh']> => {
    const [next, via] = await source.obtain(base, {
      signal: abort.signal,
      attempt: plan.attempt,
      forceLogin: plan.forceLogin,
      emit: reporter.emit,
      warn: reporter.warn,
    });
    // Logged out elsewhere meanwhile (the session we started from is gone from a shared storage, which
    // may not tell us by `subscribe`): the result is discarded, never written back over the logout.
    if (stored && !(await store.read())) throw new EkaAuthError('LOGGED_OUT', 'logged out elsewhere');
    if (plan.current()) await store.write(next);
    return [next, via];
  };
  try {
    return await store.locked(async (shared): Promise<[TokenSet, 'login' | 'refresh' | 'storage']> => {
      stored = shared ? await store.read() : null;
      if (stored && stored.accessToken !== plan.stale) {
        if (plan.force || !(stored.expiresAt! <= clock())) return [stored, 'storage'];
        // Newer than ours but expired on our clock (clocks differ): refresh with ITS refresh token —
        // ours was already used by whoever stored it.
        return obtain(stored);
      }
      return obtain(plan.held());
    }, abort.signal);
  } catch (cause) {
    throw toAuthError(cause, abort.signal);
  } finally {
    clearTimeout(timeout);
    plan.signal.removeEventListener('abort', stop);
  }
}
