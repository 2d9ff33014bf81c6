import {
  AbortError,
  ConfigError,
  EkaAuthError,
  LongLivedTokenRejectedError,
  NonReplayableBodyError,
  StorageError,
  TimeoutError,
  TransientError,
  UnauthorizedError,
} from './errors';
import { MemoryStorage } from './MemoryStorage';
import { callTokenEndpoint, LOGIN_PATH, REFRESH_PATH } from './protocol';
import { parseStoredSession, storageKeyFor, toStoredSession } from './session';
import { type MachineEvent, transition } from './transition';
import type {
  AuthDecision,
  AuthSnapshot,
  AuthState,
  EkaAuth,
  EkaAuthEvent,
  EkaAuthOptions,
  TokenSet,
  TokenStorage,
  UnauthorizedOptions,
  UnauthorizedOutcome,
} from './types';
import { originMatcher, secureOrigin } from './url';

/** Unwrapped fetch marker: a wrapper sets `fn[UNWRAPPED] = original` so token calls never go through it. */
export const UNWRAPPED: unique symbol = Symbol.for('@eka/auth.unwrapped') as any;

const NO_AUTH: AuthDecision = Object.freeze({ headers: null, generation: 0, retry: false });
const NO_AUTH_PROMISE = Promise.resolve(NO_AUTH);
const PASS: UnauthorizedOutcome = Object.freeze({ action: 'pass' });

interface Flight {
  promise: Promise<EkaAuthError | undefined>;
  settle: (error: EkaAuthError | undefined) => void;
  abort: AbortController;
  /** Started because the current token got a 401: nobody should use that token meanwhile. */
  forced: boolean;
}

/**
 * Create the owner of one credential's token lifecycle. Share it between every adapter of an app;
 * create one per user/credential in a multi-tenant server (instances share nothing).
 *
 * @throws {ConfigError} on missing or conflicting credentials or an unknown header mode.
 * @throws {InsecureUrlError} on a non-URL `baseUrl`/origin, or plain http to a non-loopback host.
 */
export function createEkaAuth(options: EkaAuthOptions): EkaAuth {
  const o = options as EkaAuthOptions & {
    clientSecret?: string;
    sharingKey?: string;
    longLivedToken?: string;
  };
  const mode = validate(o);
  const baseUrl = secureOrigin(o.baseUrl ?? 'https://api.eka.care', 'baseUrl');
  const isAllowedUrl = originMatcher(
    (o.allowedOrigins ?? [baseUrl]).map((origin) => secureOrigin(origin, 'allowedOrigins entry')),
  );
  const clock = o.clock ?? Date.now;
  const random = o.random ?? Math.random;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const backoffBaseMs = o.backoff?.baseMs ?? 1_000;
  const backoffMaxMs = o.backoff?.maxMs ?? 60_000;
  const headerMode = o.header ?? 'authorization';
  const clientIdHeader = o.clientId && o.sendClientId !== false ? o.clientId : undefined;
  const tokenHeaders = Object.freeze(headerMode === 'both' ? ['auth', 'authorization'] : [headerMode]);
  const key = o.storageKey ?? storageKeyFor(o.clientId, o.sharingKey);
  let storage: TokenStorage = mode === 'longLived' ? new MemoryStorage() : (o.storage ?? new MemoryStorage());

  let state: AuthState = 'unauthenticated';
  let tokens: TokenSet | null = null;
  let generation = 0;
  let decision = NO_AUTH;
  let retryDecision = NO_AUTH;
  let settledDecision = NO_AUTH_PROMISE;
  let shouldAt = Number.POSITIVE_INFINITY;
  let mustAt = Number.POSITIVE_INFINITY;
  let error: EkaAuthError | undefined;
  let retryAt: number | undefined;
  let failures = 0;
  let epoch = 0;
  let flight: Flight | null = null;
  let strikes = 0;
  let struckGeneration = -1;
  let cooldownUntil = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  const listeners = new Set<(snapshot: AuthSnapshot) => void>();
  let degraded = false;
  /** The token held now was stored by another tab/process (it may predate a revocation we just saw). */
  let adoptedFromStorage = false;
  /** Non-final retry decisions already handed out: a request gets at most one (then one final retry). */
  const secondChances = new WeakSet<AuthDecision>();
  let unsubscribeStorage = () => {};

  // ---- reporting -------------------------------------------------------------------------------
  const eventListeners = new Set<(event: EkaAuthEvent) => void>();
  if (o.onEvent) eventListeners.add(o.onEvent);
  const emit = (event: EkaAuthEvent) => {
    for (const listener of [...eventListeners]) {
      try {
        listener(event);
      } catch {
        // A throwing event handler must never break the session.
      }
    }
  };
  const warn = (message: string, cause?: unknown) => {
    if (eventListeners.size) emit({ type: 'warning', message, error: cause });
    else console.warn(`[@eka/auth-core] ${message}`);
  };
  const snapshot = (): AuthSnapshot => ({ state, generation, expiresAt: tokens?.expiresAt, error, retryAt });
  const notify = () => {
    const view = snapshot();
    for (const listener of [...listeners]) {
      try {
        listener(view);
      } catch (cause) {
        warn('a subscribe() listener threw; the session is unaffected', cause);
      }
    }
  };
  const move = (event: MachineEvent) => {
    const to = transition(state, event);
    if (to === undefined) throw new Error(`@eka/auth-core bug: illegal transition ${state} --${event}`);
    const from = state;
    state = to;
    if (from !== to) emit({ type: 'state', from, to });
  };
  const clean = (text: string) => {
    for (const secret of [
      o.clientSecret,
      o.sharingKey,
      o.longLivedToken,
      tokens?.accessToken,
      tokens?.refreshToken,
    ]) {
      if (secret && text.includes(secret)) return '[redacted]';
    }
    return text;
  };

  // ---- storage (degrades to memory, never crashes) --------------------------------------------
  const degrade = (cause: unknown) => {
    if (degraded) return;
    degraded = true;
    storage = new MemoryStorage();
    unsubscribeStorage();
    warn(
      'token storage failed; using memory for this session',
      new StorageError('STORAGE_FAILURE', 'storage failed', { cause }),
    );
  };
  const store = async (value: TokenSet | null) => {
    try {
      await (value ? storage.set(key, toStoredSession(value)) : storage.delete(key));
    } catch (cause) {
      degrade(cause);
    }
  };
  const readStored = async (): Promise<TokenSet | null> => {
    let raw: unknown;
    try {
      raw = await storage.get(key);
    } catch (cause) {
      degrade(cause);
      return null;
    }
    const parsed = parseStoredSession(raw);
    if (raw != null && !parsed) warn('ignored a corrupt value in token storage');
    return parsed;
  };

  // ---- tokens ------------------------------------------------------------------------------------
  const headersFor = (accessToken: string) => {
    const headers: Record<string, string> = {};
    if (headerMode !== 'authorization') headers.auth = accessToken;
    if (headerMode !== 'auth') headers.authorization = `Bearer ${accessToken}`;
    if (clientIdHeader) headers['client-id'] = clientIdHeader;
    return Object.freeze(headers);
  };
  /** Adopt a new token set: new generation, new windows, new cached decisions. */
  const adopt = (next: TokenSet, source: 'login' | 'refresh' | 'storage') => {
    const now = clock();
    tokens = next;
    adoptedFromStorage = source === 'storage';
    generation++;
    const headers = headersFor(next.accessToken);
    decision = Object.freeze({ headers, generation, retry: false });
    retryDecision = Object.freeze({ headers, generation, retry: true });
    settledDecision = Promise.resolve(decision);
    shouldAt = mustAt = Number.POSITIVE_INFINITY;
    if (next.expiresAt !== undefined) {
      const lifetime = Math.max(0, next.expiresAt - (next.obtainedAt ?? now));
      // Windows scale with the lifetime so a short-lived token never causes a refresh storm.
      const window = Math.min(o.refreshWindowMs ?? 300_000, lifetime * 0.2);
      shouldAt = next.expiresAt - window * (1 - 0.25 * random());
      mustAt = next.expiresAt - Math.min(o.mustRefreshWindowMs ?? 30_000, lifetime * 0.05);
    }
    emit({ type: 'token', generation, source, expiresAt: next.expiresAt });
    schedule(shouldAt - now);
  };
  /** With `autoRefresh`, refresh in the background after `delayMs` (an unref'd timer). */
  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    if (!o.autoRefresh || !Number.isFinite(delayMs) || disposed) return;
    timer = setTimeout(() => flight ?? start(false, false), Math.max(0, delayMs));
    (timer as any).unref?.();
  };
  const alive = (now: number) => !!tokens && (tokens.expiresAt === undefined || now < tokens.expiresAt);

  // ---- the refresh -------------------------------------------------------------------------------
  /*
   * Rules of the refresh (DESIGN.md "The core"):
   * 1. Single flight: at most one login/refresh per instance; everybody awaits `flight`. With a
   *    storage `lock`, also one per credential across tabs/processes: check → lock → re-check, and a
   *    token another holder stored meanwhile is adopted instead of refreshing again.
   * 2. The flight has its own timeout (aborting its HTTP call) and is never bound to a caller's signal.
   * 3. Refresh v2 with the rotating refresh token; if it is rejected, log in once with the client
   *    credentials; if that is rejected too → `failed` (needs `login()`), failure emitted once.
   * 4. Transient failures (network, timeout, 5xx, 429) keep a still-usable token (`valid`), else
   *    `failed`; either way no new attempt before `retryAt` (exponential back-off, jitter, Retry-After).
   * 5. logout() bumps `epoch`; a flight that settles afterwards is discarded.
   */
  const start = (force: boolean, forceLogin: boolean): Flight => {
    const myEpoch = epoch;
    const stale = tokens?.accessToken;
    const abort = new AbortController();
    let settle!: Flight['settle'];
    const promise = new Promise<EkaAuthError | undefined>((resolve) => (settle = resolve));
    const current: Flight = { promise, settle, abort, forced: force };
    flight = current;
    move('START');
    notify();
    const timeout = setTimeout(() => abort.abort(), timeoutMs);
    (timeout as any).unref?.();
    void (async () => {
      let outcome: EkaAuthError | undefined;
      try {
        const [next, source] = await obtainShared(abort.signal, force, forceLogin, stale, myEpoch);
        if (epoch !== myEpoch) return;
        failures = 0;
        retryAt = error = undefined;
        adopt(next, source);
        move('TOKEN');
      } catch (cause) {
        if (epoch === myEpoch) outcome = fail(toAuthError(cause, abort.signal));
      } finally {
        clearTimeout(timeout);
        if (epoch === myEpoch) {
          flight = null;
          notify();
          settle(outcome);
        }
      }
    })();
    return current;
  };

  const fail = (cause: EkaAuthError): EkaAuthError => {
    const now = clock();
    if (cause.transient) {
      failures++;
      const backoffMs = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (failures - 1)) * (0.5 + random() / 2);
      const waitMs = Math.max(backoffMs, cause.retryAfterMs ?? 0);
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
      void store(null);
      move('REJECTED');
    }
    error = cause;
    emit({ type: 'failure', error: cause });
    return cause;
  };

  type Obtained = [TokenSet, 'login' | 'refresh' | 'storage'];
  const obtainShared = async (
    signal: AbortSignal,
    force: boolean,
    forceLogin: boolean,
    stale: string | undefined,
    myEpoch: number,
  ): Promise<Obtained> => {
    // The new tokens are saved before the lock is released, so the next holder's re-check sees them.
    const obtainAndStore = async (base = tokens): Promise<Obtained> => {
      const obtained = await obtain(signal, forceLogin, base);
      if (epoch === myEpoch) await store(obtained[0]);
      return obtained;
    };
    const lock = storage.lock?.bind(storage);
    if (!lock) return obtainAndStore();
    let entered = false;
    try {
      return await lock(
        key,
        async () => {
          entered = true;
          const stored = await readStored();
          if (stored && stored.accessToken !== stale) {
            if (force || !(stored.expiresAt! <= clock())) return [stored, 'storage'] as Obtained;
            // Newer than ours but expired on our clock (clocks differ): refresh with ITS refresh token —
            // ours was already used by whoever stored it.
            return obtainAndStore(stored);
          }
          return obtainAndStore();
        },
        { signal },
      );
    } catch (cause) {
      if (entered || signal.aborted) throw cause;
      degrade(cause);
      return obtainAndStore();
    }
  };

  const obtain = async (signal: AbortSignal, forceLogin: boolean, current = tokens): Promise<Obtained> => {
    const now = clock();
    if (mode === 'longLived') return [{ accessToken: o.longLivedToken! }, 'login'];
    if (mode === 'custom') {
      const r = await (o as { login: NonNullable<EkaAuthOptions['login']> }).login({
        signal,
        reason: current ? 'refresh' : 'login',
        current: current ? { ...current } : null,
      });
      if (!r || typeof r.accessToken !== 'string' || !r.accessToken) {
        throw new TransientError('TRANSIENT', 'the login callback returned no accessToken');
      }
      const expiresAt = r.expiresIn ? clock() + r.expiresIn * 1000 : r.expiresAt;
      return [
        { accessToken: r.accessToken, refreshToken: r.refreshToken, expiresAt, obtainedAt: clock() },
        'login',
      ];
    }
    const call = { fetch: fetchFn(), signal, now: clock, clean };
    const report = (
      kind: 'login' | 'refresh',
      url: string,
      startedAt: number,
      r: { status?: number; requestId?: string },
      cause?: unknown,
    ) => {
      const code = cause === undefined ? undefined : toAuthError(cause, signal).code;
      const outcome =
        code === undefined
          ? 'ok'
          : code === 'TIMEOUT'
            ? 'timeout'
            : code === 'TRANSIENT'
              ? 'transient'
              : 'rejected';
      emit({
        type: 'request',
        kind,
        ok: code === undefined,
        outcome,
        status: r.status,
        requestId: r.requestId,
        code,
        url,
        attempt: 1,
        startedAt,
        durationMs: clock() - startedAt,
      });
    };
    if (!forceLogin && current?.refreshToken && !(current.refreshExpiresAt! <= now)) {
      const r: { status?: number; requestId?: string } = {};
      try {
        const next = await callTokenEndpoint(
          {
            ...call,
            kind: 'refresh',
            url: baseUrl + REFRESH_PATH,
            headers: { authorization: `Bearer ${current.accessToken}`, 'client-id': o.clientId! },
            body: { refresh_token: current.refreshToken, access_token: current.accessToken },
          },
          r,
        );
        report('refresh', baseUrl + REFRESH_PATH, now, r);
        // Keep the old refresh token only if the gateway did not rotate it.
        next.refreshToken ??= current.refreshToken;
        return [next, 'refresh'];
      } catch (cause) {
        report('refresh', baseUrl + REFRESH_PATH, now, r, cause);
        if ((cause as EkaAuthError).code !== 'REFRESH_REJECTED') throw cause;
        warn('refresh token rejected; logging in again with the client credentials');
      }
    }
    const started = clock();
    const r: { status?: number; requestId?: string } = {};
    try {
      const next = await callTokenEndpoint(
        {
          ...call,
          kind: 'login',
          url: baseUrl + LOGIN_PATH,
          headers: {},
          body: { client_id: o.clientId, client_secret: o.clientSecret, sharing_key: o.sharingKey },
        },
        r,
      );
      report('login', baseUrl + LOGIN_PATH, started, r);
      return [next, 'login'];
    } catch (cause) {
      report('login', baseUrl + LOGIN_PATH, started, r, cause);
      throw cause;
    }
  };

  const fetchFn = (): typeof fetch => {
    let f: any = o.fetch ?? globalThis.fetch;
    while (f?.[UNWRAPPED]) f = f[UNWRAPPED];
    if (typeof f !== 'function')
      throw new ConfigError('CONFIG_INVALID', 'no fetch available: pass options.fetch');
    return f;
  };

  // ---- waiting -------------------------------------------------------------------------------------
  /** Await `promise` unless this caller's own signal aborts first (the shared work goes on). */
  const wait = <T>(promise: Promise<T>, signal?: AbortSignal | null): Promise<T> => {
    if (!signal) return promise;
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
  const settled = async (current: Flight, signal?: AbortSignal | null) => {
    const outcome = await wait(current.promise, signal);
    if (outcome) throw outcome;
    if (!tokens) throw error ?? new TransientError('TRANSIENT', 'no token available');
  };

  let loading: Promise<void> | null =
    mode === 'longLived'
      ? null
      : readStored().then((stored) => {
          loading = null;
          if (stored && !tokens && !disposed) {
            adopt(stored, 'storage');
            move('TOKEN');
            notify();
          }
        });

  /** Make sure a usable token is held, waiting for the shared refresh when needed. */
  const ensure = async (signal: AbortSignal | null | undefined, force: boolean): Promise<void> => {
    if (disposed) throw new EkaAuthError('DISPOSED', 'this EkaAuth was disposed');
    if (signal?.aborted) throw abortError(signal);
    if (loading) await wait(loading, signal);
    const now = clock();
    if (!force && tokens && now < mustAt && !flight?.forced) {
      if (now >= shouldAt && !flight && !(retryAt! > now)) start(false, false);
      return;
    }
    if (flight) return settled(flight, signal);
    // Backing off after a transient failure: keep a still-valid token, and even a 401 waits.
    if (retryAt! > now) {
      if (!force && alive(now)) return;
      throw error!;
    }
    // Rejected credentials stay failed until login(): neither a request nor a 401 logs in again.
    if (state === 'failed' && retryAt === undefined) throw error!;
    return settled(start(force, false), signal);
  };

  const answerUnauthorized = async (
    used: AuthDecision,
    options: UnauthorizedOptions,
  ): Promise<UnauthorizedOutcome> => {
    if (!used.headers) return PASS;
    const requestId = options.requestId ?? undefined;
    const details = { status: 401, requestId };
    if (mode === 'longLived') {
      const rejected = new LongLivedTokenRejectedError(
        'LONG_LIVED_TOKEN_REJECTED',
        'the long-lived token was rejected (401); create a new one in the Eka Developer Console',
        details,
      );
      emit({ type: 'failure', error: rejected });
      return { action: 'fail', error: rejected };
    }
    const unauthorized = () =>
      ({
        action: 'fail',
        error: new UnauthorizedError(
          'UNAUTHORIZED',
          'the API answered 401 again after a fresh token',
          details,
        ),
      }) as const;
    if (used.retry) {
      // A fresh token was refused too: stop refreshing for this generation for a growing cool-down.
      if (used.generation === generation) {
        strikes++;
        struckGeneration = generation;
        cooldownUntil = clock() + Math.min(backoffMaxMs, backoffBaseMs * 2 ** strikes);
      }
      return unauthorized();
    }
    // A retry is "final" (its 401 gives up) only when its token is known to postdate this 401: it came
    // from a refresh this 401 forced. A token from a background refresh that started earlier, from
    // another tab/process, or already held when a straggler's 401 arrived may have been revoked
    // too — its retry may still force one refresh. Each request gets at most one such second chance.
    const again = secondChances.has(used);
    let final = true;
    try {
      if (used.generation === generation) {
        if (struckGeneration === generation && clock() < cooldownUntil) return unauthorized();
        final = again || !flight || flight.forced;
        await ensure(options.signal, true);
        if (adoptedFromStorage) final = again;
      } else {
        // Straggler: the request carried an older generation than the one held now — no refresh.
        final = again;
        await ensure(options.signal, false);
      }
    } catch (cause) {
      return { action: 'fail', error: toAuthError(cause) };
    }
    if (options.replayable === false) {
      return {
        action: 'fail',
        error: new NonReplayableBodyError(
          'NON_REPLAYABLE_BODY',
          'the request body is a stream and cannot be re-sent; the token was refreshed for the next call',
          details,
        ),
      };
    }
    if (final) return { action: 'retry', decision: retryDecision };
    const secondChance: AuthDecision = Object.freeze({
      headers: decision.headers,
      generation,
      retry: false,
    });
    secondChances.add(secondChance);
    return { action: 'retry', decision: secondChance };
  };

  // ---- the public object -------------------------------------------------------------------------
  const auth: EkaAuth & { toJSON(): unknown; toString(): string } = {
    get state() {
      return state;
    },
    tokenHeaders,
    getSnapshot: snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    isAllowedUrl,
    authorize(url, options) {
      // Hot path: a valid cached token → one shared, already-resolved promise; nothing allocated.
      if (!isAllowedUrl(url)) return NO_AUTH_PROMISE;
      if (loading || !tokens || flight || !(clock() < shouldAt) || options?.signal?.aborted) {
        return ensure(options?.signal, false).then(() => decision);
      }
      return settledDecision;
    },
    async handleUnauthorized(used, options = {}) {
      const outcome = await answerUnauthorized(used, options);
      emit({
        type: 'unauthorized',
        action: outcome.action,
        generation: used.generation,
        code: outcome.action === 'fail' ? outcome.error.code : undefined,
      });
      return outcome;
    },
    async getAccessToken(options = {}) {
      await ensure(options.signal, !!options.forceRefresh);
      return tokens!.accessToken;
    },
    async login(options = {}) {
      if (disposed) throw new EkaAuthError('DISPOSED', 'this EkaAuth was disposed');
      if (loading) await wait(loading, options.signal);
      if (flight) await wait(flight.promise, options.signal);
      strikes = failures = 0;
      retryAt = undefined;
      await settled(start(true, true), options.signal);
    },
    async logout() {
      reset(new EkaAuthError('LOGGED_OUT', 'logged out'));
      await store(null);
    },
    dispose() {
      if (disposed) return;
      reset(new EkaAuthError('DISPOSED', 'this EkaAuth was disposed'));
      disposed = true;
      listeners.clear();
      unsubscribeStorage();
    },
    toJSON: () => ({ state, generation }),
    toString: () => `[EkaAuth ${state}]`,
  };
  (auth as any)[Symbol.for('nodejs.util.inspect.custom')] = auth.toString;

  /** Forget everything local: epoch bump, cancel the flight and timers, settle waiters. */
  const reset = (reason: EkaAuthError) => {
    epoch++;
    clearTimeout(timer);
    const current = flight;
    flight = null;
    tokens = null;
    error = retryAt = undefined;
    strikes = failures = 0;
    shouldAt = mustAt = Number.POSITIVE_INFINITY;
    decision = retryDecision = NO_AUTH;
    settledDecision = NO_AUTH_PROMISE;
    move('LOGOUT');
    if (current) {
      current.abort.abort();
      current.settle(reason);
    }
    notify();
  };

  // Another tab/process changed the stored session: adopt its token, or follow its logout.
  if (mode !== 'longLived' && storage.subscribe) {
    try {
      unsubscribeStorage = storage.subscribe(key, (raw) => {
        const stored = parseStoredSession(raw);
        if (!stored) {
          if (raw == null && (tokens || flight))
            reset(new EkaAuthError('LOGGED_OUT', 'logged out elsewhere'));
        } else if (stored.accessToken !== tokens?.accessToken && !flight) {
          adopt(stored, 'storage');
          move('TOKEN');
          retryAt = error = undefined;
          notify();
        }
      });
    } catch (cause) {
      degrade(cause);
    }
  }
  if (mode === 'longLived') {
    adopt({ accessToken: o.longLivedToken! }, 'login');
    move('TOKEN');
  }
  if (mode === 'credentials' && typeof document !== 'undefined' && typeof window !== 'undefined') {
    warn(
      'a client secret is being used in a browser, where every visitor can read it; use the `login` option with tokens from your backend',
    );
  }
  return auth;
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}

function toAuthError(cause: unknown, signal?: AbortSignal): EkaAuthError {
  if (cause instanceof EkaAuthError) return cause;
  if (signal?.aborted) return new TimeoutError('TIMEOUT', 'Eka login/refresh timed out', { cause });
  return new TransientError('TRANSIENT', 'Eka login/refresh failed', { cause });
}

function validate(o: any): 'credentials' | 'longLived' | 'custom' {
  const given = [o.clientSecret !== undefined, o.longLivedToken !== undefined, o.login !== undefined].filter(
    Boolean,
  ).length;
  const bad = (message: string) => new ConfigError('CONFIG_INVALID', message);
  if (!o || typeof o !== 'object') throw bad('options are required');
  if (given > 1) throw bad('give exactly one of clientId/clientSecret, longLivedToken or login');
  if (o.header !== undefined && !['auth', 'authorization', 'both'].includes(o.header)) {
    throw bad(`header must be 'auth', 'authorization' or 'both'`);
  }
  if (o.longLivedToken !== undefined) {
    if (typeof o.longLivedToken !== 'string' || !o.longLivedToken)
      throw bad('longLivedToken must be a non-empty string');
    return 'longLived';
  }
  if (o.login !== undefined) {
    if (typeof o.login !== 'function') throw bad('login must be a function');
    return 'custom';
  }
  if (typeof o.clientId !== 'string' || !o.clientId) throw bad('clientId is required');
  if (typeof o.clientSecret !== 'string' || !o.clientSecret) throw bad('clientSecret is required');
  if (o.sharingKey !== undefined && (typeof o.sharingKey !== 'string' || !o.sharingKey)) {
    throw bad('sharingKey must be a non-empty string');
  }
  return 'credentials';
}
