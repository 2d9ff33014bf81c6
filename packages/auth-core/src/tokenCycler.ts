import { abortError, EkaAuthError, TransientError, toAuthError } from './errors';
import type { Reporter } from './reporter';
import type { SessionStore } from './sessionStore';
import type { TokenSource } from './tokenSource';
import { type MachineEvent, transition } from './transition';
import type { AuthSnapshot, AuthState, TokenSet, WaitOptions } from './types';
import { sleep, waitFor } from './waitFor';
import { backoffDelay, refreshWindows, retryDelay, type Timing } from './windows';

/** One login/refresh under way; every waiter awaits `promise` (it never rejects). */
interface Flight {
  promise: Promise<EkaAuthError | undefined>;
  /** Started because the current token got a 401: nobody should use that token meanwhile. */
  forced: boolean;
}

/** What {@link createTokenCycler} needs. */
export interface CyclerConfig {
  source: TokenSource;
  store: SessionStore;
  reporter: Reporter;
  timing: Timing;
  timeoutMs: number;
  maxWaitMs: number;
  autoRefresh: boolean;
  clock: () => number;
  random: () => number;
}

/** The lifecycle engine of one `EkaAuth`: knows *when* to get a token, never *how*. */
export interface TokenCycler {
  readonly state: AuthState;
  readonly tokens: TokenSet | null;
  readonly generation: number;
  readonly flight: Flight | null;
  /** The token held now was stored by another tab/process (it may predate a revocation we just saw). */
  readonly adoptedFromStorage: boolean;
  /** True when the token held can be used as is, with nothing to start or wait for (the hot path). */
  fresh(): boolean;
  snapshot(): AuthSnapshot;
  /**
   * Make sure a usable token is held, waiting within the caller's patience. With `forceGeneration`
   * equal to the generation held, that token is not usable (it got a 401): a new one is obtained;
   * `-1` means the generation held once the stored session has loaded (`forceRefresh`).
   */
  ensure(options?: WaitOptions, forceGeneration?: number): Promise<void>;
  /** Log in now (also leaves `failed`). */
  login(options?: WaitOptions): Promise<void>;
  /** Forget everything local: cancel the flight and timers, settle every waiter with `reason`. */
  reset(reason: EkaAuthError): void;
  dispose(): void;
}

/*
 * Rules of the token cycle (DESIGN.md "The core"):
 * 1. Single flight: at most one login/refresh per instance; everybody awaits `flight`. With a storage
 *    lock, one per credential across tabs/processes: check → lock → re-check, and a token another
 *    holder stored meanwhile is adopted instead of obtaining one again.
 * 2. Each attempt has its own timeout (aborting its HTTP call); the flight is never bound to a caller.
 * 3. A transient failure (network, timeout, 5xx, 408, 429, malformed answer) is retried inside the
 *    flight, `timing.attempts` calls in all, with short jittered pauses honouring `Retry-After` up to a
 *    cap. Rejections are never retried (the token source already fell back from refresh to login).
 * 4. A flight that gives up transiently keeps a still-usable token (`valid`), else `failed`; either way
 *    no new flight before `retryAt` (exponential back-off, jitter, Retry-After). Requests with no usable
 *    token wait for that next attempt when it is due within their patience (`maxWaitMs`, their
 *    signal), else fail with the transient error; all of them share the one flight at `retryAt`.
 * 5. Rejected for good → `failed` until `login()`; neither a request nor a 401 logs in again.
 * 6. `reset()` (logout, dispose, logout elsewhere) bumps `epoch`: a flight that settles afterwards is
 *    discarded, and every waiter is settled with the reason.
 */
export function createTokenCycler(config: CyclerConfig): TokenCycler {
  const { source, store, reporter, timing, timeoutMs, clock, random } = config;
  let state: AuthState = 'unauthenticated';
  let tokens: TokenSet | null = null;
  let generation = 0;
  let flight: (Flight & { abort: AbortController; settle(error?: EkaAuthError): void }) | null = null;
  let failures = 0;
  let retryAt: number | undefined;
  let error: EkaAuthError | undefined;
  let shouldAt = Number.POSITIVE_INFINITY;
  let mustAt = Number.POSITIVE_INFINITY;
  let epoch = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  let adoptedFromStorage = false;
  /** Opens when the back-off ends, a token arrives or the session is reset: wakes the waiters. */
  let gate: { promise: Promise<EkaAuthError | undefined>; open(reason?: EkaAuthError): void } | null = null;

  const snapshot = (): AuthSnapshot => ({ state, generation, expiresAt: tokens?.expiresAt, error, retryAt });
  const notify = () => reporter.notify(snapshot());
  const move = (event: MachineEvent) => {
    const to = transition(state, event);
    if (to === undefined) throw new Error(`@eka/auth-core bug: illegal transition ${state} --${event}`);
    const from = state;
    state = to;
    if (from !== to) reporter.emit({ type: 'state', from, to });
  };
  const alive = (now: number) => !!tokens && !(tokens.expiresAt! <= now);
  const openGate = (reason?: EkaAuthError) => gate?.open(reason);
  const gateOpens = () => {
    if (!gate) {
      let open!: (reason?: EkaAuthError) => void;
      const promise = new Promise<EkaAuthError | undefined>((resolve) => (open = resolve));
      // Not unref'd: somebody is waiting on it.
      const wake = setTimeout(() => openGate(), Math.max(0, retryAt! - clock()));
      gate = {
        promise,
        open(reason) {
          clearTimeout(wake);
          gate = null;
          open(reason);
        },
      };
    }
    return gate.promise;
  };

  /** With `autoRefresh`, refresh in the background after `delayMs` (an unref'd timer). */
  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    if (!config.autoRefresh || !Number.isFinite(delayMs) || disposed) return;
    timer = setTimeout(() => flight ?? start(false, false), Math.max(0, delayMs));
    (timer as any).unref?.();
  };

  /** Adopt a new token set: new generation, new windows, back-off over. Callers notify. */
  const adopt = (next: TokenSet, via: 'login' | 'refresh' | 'storage') => {
    tokens = next;
    adoptedFromStorage = via === 'storage';
    generation++;
    failures = 0;
    retryAt = error = undefined;
    ({ shouldAt, mustAt } = refreshWindows(next, clock(), timing, random));
    reporter.emit({ type: 'token', generation, source: via, expiresAt: next.expiresAt });
    move('TOKEN');
    schedule(shouldAt - clock());
    openGate();
  };

  const fail = (cause: EkaAuthError): EkaAuthError => {
    const now = clock();
    if (cause.transient) {
      const waitMs = backoffDelay(cause, ++failures, timing, random);
      (cause as { retryAfterMs?: number }).retryAfterMs = waitMs;
      retryAt = now + waitMs;
      if (alive(now)) {
        move('TRANSIENT_KEEP_TOKEN');
        schedule(waitMs);
      } else {
        tokens = null;
        move('TRANSIENT_NO_TOKEN');
      }
    } else {
      retryAt = undefined;
      tokens = null;
      store.write(null).catch(ignore);
      move('REJECTED');
    }
    error = cause;
    reporter.emit({ type: 'failure', error: cause });
    return cause;
  };

  /** One call for tokens, under the storage lock when there is one. Throws an EkaAuthError. */
  const attempt = async (
    signal: AbortSignal,
    n: number,
    stale: string | undefined,
    force: boolean,
    forceLogin: boolean,
    myEpoch: number,
  ): Promise<[TokenSet, 'login' | 'refresh' | 'storage']> => {
    const abort = new AbortController();
    const stop = () => abort.abort();
    const timeout = setTimeout(stop, timeoutMs);
    (timeout as any).unref?.();
    signal.addEventListener('abort', stop);
    const obtain = async (base: TokenSet | null): Promise<[TokenSet, 'login' | 'refresh']> => {
      const [next, via] = await source.obtain(base, {
        signal: abort.signal,
        attempt: n,
        forceLogin,
        emit: reporter.emit,
        warn: reporter.warn,
      });
      // Saved before the lock is released, so the next holder's re-check sees it.
      if (epoch === myEpoch) await store.write(next);
      return [next, via];
    };
    try {
      return await store.locked(async (shared): Promise<[TokenSet, 'login' | 'refresh' | 'storage']> => {
        const stored = shared ? await store.read() : null;
        if (stored && stored.accessToken !== stale) {
          if (force || !(stored.expiresAt! <= clock())) return [stored, 'storage'];
          // Newer than ours but expired on our clock (clocks differ): refresh with ITS refresh token —
          // ours was already used by whoever stored it.
          return obtain(stored);
        }
        return obtain(tokens);
      }, abort.signal);
    } catch (cause) {
      throw toAuthError(cause, abort.signal);
    } finally {
      clearTimeout(timeout);
      signal.removeEventListener('abort', stop);
    }
  };

  const start = (force: boolean, forceLogin: boolean): Flight => {
    const myEpoch = epoch;
    const stale = tokens?.accessToken;
    const abort = new AbortController();
    let settle!: (error?: EkaAuthError) => void;
    const promise = new Promise<EkaAuthError | undefined>((resolve) => (settle = resolve));
    const current = { promise, settle, abort, forced: force };
    flight = current;
    move('START');
    notify();
    openGate();
    const fly = async () => {
      let outcome: EkaAuthError | undefined;
      try {
        for (let n = 1; ; n++) {
          try {
            const [next, via] = await attempt(abort.signal, n, stale, force, forceLogin, myEpoch);
            if (epoch === myEpoch) adopt(next, via);
            return;
          } catch (cause) {
            const failure = cause as EkaAuthError;
            const delayMs = retryDelay(failure, n, timing, random);
            if (epoch !== myEpoch) return;
            if (delayMs === undefined) {
              outcome = fail(failure);
              return;
            }
            await sleep(delayMs, abort.signal);
            if (epoch !== myEpoch) return;
          }
        }
      } finally {
        if (epoch === myEpoch) {
          flight = null;
          notify();
          settle(outcome);
        }
      }
    };
    fly().catch((cause) => reporter.warn('@eka/auth-core bug in a login/refresh', cause));
    return current;
  };

  let loading: Promise<void> | null = null;
  if (source.initial) adopt(source.initial, 'login');
  else {
    loading = store
      .read()
      .then((stored) => {
        loading = null;
        if (stored && !tokens && !disposed) {
          adopt(stored, 'storage');
          notify();
        }
      })
      .catch(ignore);
    // Another tab/process changed the stored session: adopt its token, or follow its logout.
    store.subscribe((stored) => {
      if (!stored) {
        if (tokens || flight) cycler.reset(new EkaAuthError('LOGGED_OUT', 'logged out elsewhere'));
      } else if (stored.accessToken !== tokens?.accessToken && !flight) {
        adopt(stored, 'storage');
        notify();
      }
    });
  }

  /** Wait for a flight (bounded by its own timeouts), then throw its rejection; return a transient one. */
  const join = async (current: Flight, signal: AbortSignal | null | undefined) => {
    const outcome = await waitFor(current.promise, signal);
    if (outcome && !outcome.transient) throw outcome;
    return outcome;
  };

  const cycler: TokenCycler = {
    get state() {
      return state;
    },
    get tokens() {
      return tokens;
    },
    get generation() {
      return generation;
    },
    get flight() {
      return flight;
    },
    get adoptedFromStorage() {
      return adoptedFromStorage;
    },
    fresh: () => !loading && !!tokens && !flight && clock() < shouldAt,
    snapshot,
    async ensure(options = {}, forceGeneration) {
      const { signal } = options;
      const deadline = clock() + Math.min(config.maxWaitMs, options.maxWaitMs ?? Number.POSITIVE_INFINITY);
      for (;;) {
        if (disposed) throw new EkaAuthError('DISPOSED', 'this EkaAuth was disposed');
        if (signal?.aborted) throw abortError(signal);
        if (loading) await waitFor(loading, signal);
        // "Force the token held now": decided once the stored session has loaded.
        if (forceGeneration! < 0) forceGeneration = generation;
        const now = clock();
        const force = forceGeneration === generation;
        if (!force && tokens && now < mustAt && !flight?.forced) {
          if (now >= shouldAt && !flight && !(retryAt! > now)) start(false, false);
          return;
        }
        if (!flight && retryAt! > now) {
          // Backing off after a transient failure: a still-valid token is kept; without one, wait for
          // the next attempt if it is due in time (everybody then shares one flight).
          if (!force && alive(now)) return;
          if (retryAt! > deadline) {
            (error as { retryAfterMs?: number }).retryAfterMs = retryAt! - now;
            throw error;
          }
          const reason = await waitFor(gateOpens(), signal);
          if (reason) throw reason;
          continue;
        }
        // Rejected credentials stay failed until login(): neither a request nor a 401 logs in again.
        if (!flight && error && !error.transient) throw error;
        const outcome = await join(flight ?? start(force, false), signal);
        if (!outcome) {
          if (tokens) return;
          throw error ?? new TransientError('TRANSIENT', 'no token available');
        }
        // Failed transiently: wait for the next attempt (or fail past our patience) — but never loop
        // without a back-off to wait for.
        if (!(retryAt! > clock())) throw outcome;
      }
    },
    async login(options = {}) {
      if (disposed) throw new EkaAuthError('DISPOSED', 'this EkaAuth was disposed');
      if (loading) await waitFor(loading, options.signal);
      if (flight) await waitFor(flight.promise, options.signal);
      failures = 0;
      retryAt = undefined;
      const outcome = await waitFor(start(true, true).promise, options.signal);
      if (outcome || !tokens) throw outcome ?? error;
    },
    reset(reason) {
      epoch++;
      clearTimeout(timer);
      const current = flight;
      flight = null;
      tokens = null;
      error = retryAt = undefined;
      failures = 0;
      shouldAt = mustAt = Number.POSITIVE_INFINITY;
      move('LOGOUT');
      if (current) {
        current.abort.abort();
        current.settle(reason);
      }
      openGate(reason);
      notify();
    },
    dispose() {
      if (disposed) return;
      cycler.reset(new EkaAuthError('DISPOSED', 'this EkaAuth was disposed'));
      disposed = true;
      store.dispose();
    },
  };
  return cycler;
}

const ignore = () => {};
