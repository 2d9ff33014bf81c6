import { createGate } from './createGate';
import { abortError, EkaAuthError, TransientError } from './errors';
import { obtainTokens } from './obtainTokens';
import type { CyclerConfig, Flight, TokenCycler } from './tokenCyclerTypes';
import { type MachineEvent, transition } from './transition';
import type { AuthSnapshot, AuthState, TokenSet } from './types';
import { sleep, waitFor } from './waitFor';
import { backoffDelay, refreshWindows, retryDelay } from './windows';

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
export type { CyclerConfig, TokenCycler } from './tokenCyclerTypes';

/** Create the {@link TokenCycler} of one `EkaAuth`. */
export function createTokenCycler(config: CyclerConfig): TokenCycler {
  const { source, store, reporter, timing, clock, random } = config;
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
  /** Requests waiting out a back-off with no usable token; opens at `retryAt`, on a token or a reset. */
  const gate = createGate(clock);

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
    gate.open();
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
    gate.open();
    const fly = async () => {
      let outcome: EkaAuthError | undefined;
      try {
        for (let n = 1; ; n++) {
          try {
            const [next, via] = await obtainTokens(config, {
              signal: abort.signal,
              attempt: n,
              stale,
              force,
              forceLogin,
              held: () => tokens,
              current: () => epoch === myEpoch,
            });
            if (epoch === myEpoch) adopt(next, via);
            return;
          } catch (cause) {
            const failure = cause as EkaAuthError;
            const delayMs = retryDelay(failure, n, timing, random);
            if (epoch !== myEpoch) return;
            if (failure.code === 'LOGGED_OUT') return cycler.reset(failure);
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
          const reason = await waitFor(gate.wait(retryAt!), signal);
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
      gate.open(reason);
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
