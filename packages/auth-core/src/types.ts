import type { EkaAuthError, EkaAuthErrorCode } from './errors';

/** The four states of an {@link EkaAuth}. */
export type AuthState = 'unauthenticated' | 'refreshing' | 'valid' | 'failed';

/** Where the access token goes on API calls (PROTOCOL.md §2). */
export type HeaderMode = 'auth' | 'authorization' | 'both';

/** Tokens as the core keeps them. Times are epoch milliseconds of the injected clock. */
export interface TokenSet {
  /** The access token sent on API calls. */
  accessToken: string;
  /** The refresh token (rotated on every refresh), when the gateway issued one. */
  refreshToken?: string;
  /** When the access token expires; absent = unknown (used until a 401). */
  expiresAt?: number;
  /** When the refresh token expires, when known. */
  refreshExpiresAt?: number;
  /** When the tokens were received. */
  obtainedAt?: number;
}

/** What a `login` callback (bring-your-own tokens) may return. */
export interface LoginResult {
  accessToken: string;
  refreshToken?: string;
  /** Lifetime in seconds, measured from receipt (preferred). */
  expiresIn?: number;
  /** Absolute expiry in epoch milliseconds. */
  expiresAt?: number;
}

/** Context handed to a `login` callback. */
export interface LoginContext {
  /** Aborted when the shared refresh times out, or on logout/dispose. */
  signal: AbortSignal;
  /** Why tokens are needed: first login, proactive/forced refresh, or after a rejected refresh. */
  reason: 'login' | 'refresh';
  /** The tokens held now, if any. */
  current: TokenSet | null;
}

/**
 * A place to keep tokens. Every method may be sync or async. Values are opaque JSON-able objects.
 * Optional `lock` gives cross-process/tab single flight; optional `subscribe` reports changes made
 * elsewhere (another tab or process), including deletion (`null`) on logout.
 */
export interface TokenStorage {
  get(key: string): unknown | Promise<unknown>;
  set(key: string, value: StoredSession): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /** Run `fn` while holding an exclusive lock on `key` (check → lock → re-check happens inside). */
  lock?<T>(key: string, fn: () => Promise<T>, options: { signal: AbortSignal }): Promise<T>;
  /** Be told when another tab/process changed `key`. Returns an unsubscribe function. */
  subscribe?(key: string, listener: (value: unknown) => void): () => void;
}

/** The JSON shape written to storage (versioned). */
export interface StoredSession {
  v: 1;
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  refreshExpiresAt?: number;
  obtainedAt?: number;
}

/** A read-only view of the session, free of secrets. */
export interface AuthSnapshot {
  state: AuthState;
  /** Increments each time a new access token is adopted. 0 = none yet. */
  generation: number;
  /** Access token expiry (epoch ms) when known. */
  expiresAt: number | undefined;
  /** The error that put the session in `failed`, or the last transient error. */
  error: EkaAuthError | undefined;
  /** While failed transiently: when the next attempt is allowed (epoch ms). */
  retryAt: number | undefined;
}

/**
 * What an adapter does with a request: the headers to set (`null` = this URL gets no token),
 * and the token generation it carries. Decisions are immutable and shared; pass them back to
 * `handleUnauthorized` unchanged.
 */
export interface AuthDecision {
  /** Headers to set (lower-case names), or `null` when the URL is outside `allowedOrigins`. */
  readonly headers: Readonly<Record<string, string>> | null;
  /** Token generation the request carries (0 when unauthenticated). */
  readonly generation: number;
  /** True when this decision was made for a retry (a second 401 then gives up). */
  readonly retry: boolean;
}

/** The answer to a 401. */
export type UnauthorizedOutcome =
  /** Re-send once with `decision.headers`. */
  | { action: 'retry'; decision: AuthDecision }
  /** Not ours (URL outside the allowlist): hand the 401 to the caller unchanged. */
  | { action: 'pass' }
  /** Give up with this typed error. */
  | { action: 'fail'; error: EkaAuthError };

/** How one login/refresh HTTP call ended. */
export type TokenRequestOutcome = 'ok' | 'rejected' | 'transient' | 'timeout';

/**
 * One login/refresh HTTP call (one per attempt: a flight that retries emits several). Never
 * contains a secret; `url` is the token endpoint without query.
 */
export interface TokenRequestEvent {
  type: 'request';
  kind: 'login' | 'refresh';
  /** True when the call produced tokens (`outcome === 'ok'`). */
  ok: boolean;
  outcome: TokenRequestOutcome;
  /** HTTP status, when the gateway answered. */
  status?: number;
  /** The gateway's `apigw-requestid`, when it answered with one. */
  requestId?: string;
  /** With a failure: the error code (`TRANSIENT`, `TIMEOUT`, `CREDENTIALS_REJECTED`, `REFRESH_REJECTED`). */
  code?: EkaAuthErrorCode;
  /** The token endpoint called (`https://api.eka.care/connect-auth/v1/account/login`, …). */
  url: string;
  /** 1 for a flight's first call; retries inside the same flight count up. */
  attempt: number;
  /** When the call started (epoch ms of the injected clock). */
  startedAt: number;
  durationMs: number;
}

/** Events for logs and metrics. Never contain secrets or tokens. */
export type EkaAuthEvent =
  | { type: 'state'; from: AuthState; to: AuthState }
  | {
      type: 'token';
      generation: number;
      source: 'login' | 'refresh' | 'storage';
      expiresAt: number | undefined;
    }
  | TokenRequestEvent
  | {
      type: 'unauthorized';
      /** What the core told the adapter: re-send, hand the 401 back (not ours), or give up. */
      action: UnauthorizedOutcome['action'];
      /** The generation the refused request carried. */
      generation: number;
      /** With `action: 'fail'`: the error code the request rejects with. */
      code?: EkaAuthErrorCode;
    }
  | { type: 'failure'; error: EkaAuthError }
  | { type: 'warning'; message: string; error?: unknown }
  /** `dispose()` was called: the last event; listeners are removed right after it. */
  | { type: 'disposed' };

/** Options for {@link createEkaAuth}, common to every credential mode. */
export interface CommonOptions {
  /** Gateway base URL. Default `https://api.eka.care` (sandbox: `https://api.dev.eka.care`). */
  baseUrl?: string;
  /**
   * Where the token goes: `both` (default: `auth` and `Authorization: Bearer`, accepted by every Eka
   * service), `auth` (Eka's getting-started guide) or `authorization` (Bearer, Eka's newer SDKs).
   */
  header?: HeaderMode;
  /** Add `client-id: <clientId>` on API calls (default true when a client id is known). */
  sendClientId?: boolean;
  /** Origins that receive the token. Default: the origin of `baseUrl`. https only (loopback excepted). */
  allowedOrigins?: string[];
  /** Token storage. Default: in memory, per instance. */
  storage?: TokenStorage;
  /**
   * Storage key. Default derived from the client id, a hash of the sharing key and — unless it is
   * `https://api.eka.care` — the origin of `baseUrl`.
   */
  storageKey?: string;
  /** The fetch used for login/refresh only. Default `globalThis.fetch` (looked up per call). */
  fetch?: typeof fetch;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Random source in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Timeout of one login/refresh HTTP call. Default 10 000 ms. */
  timeoutMs?: number;
  /** Start a background refresh this long before expiry (capped at 20% of the lifetime). Default 300 000. */
  refreshWindowMs?: number;
  /** Requests wait for a new token this long before expiry (capped at 5% of the lifetime). Default 30 000. */
  mustRefreshWindowMs?: number;
  /**
   * Retries of a transient token-call failure (network error, timeout, 5xx, 408, 429, malformed
   * answer) inside the same login/refresh, before it counts as failed: `attempts` calls in all
   * (default 3), `baseDelayMs` (default 100) doubling with jitter between them, and `Retry-After`
   * honoured up to `maxDelayMs` (default 5 000; a longer one ends the retries and sets the back-off).
   * Rejections (bad credentials, refresh token refused) are never retried. `{ attempts: 1 }` turns it off.
   */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /**
   * Back-off after a login/refresh failed transiently (all its attempts spent): base and cap, with
   * jitter; a longer `Retry-After` wins. Defaults 1 000 / 60 000 ms.
   */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * How long a request may wait for the next login/refresh attempt while the session backs off with no
   * usable token: when that attempt is due later, the request fails at once with the transient error
   * (`retryAfterMs` says when it is due). A login/refresh already under way is always waited for (it
   * is bounded by `timeoutMs` per call). The request's own `signal` ends any wait sooner.
   * Default 30 000 ms, at least `2 × timeoutMs`; `0` fails at once while backing off.
   */
  maxWaitMs?: number;
  /** Refresh on a timer (unref'd) when the refresh window opens, not only on demand. Default false. */
  autoRefresh?: boolean;
  /** Events for logging/metrics. A throwing handler is ignored (never breaks the session). */
  onEvent?: (event: EkaAuthEvent) => void;
}

/** Client-credentials mode: login + refresh v2 against the gateway. */
export interface ClientCredentialsOptions extends CommonOptions {
  clientId: string;
  clientSecret: string;
  /** Act on another workspace (created by its owner in the Eka Hub). */
  sharingKey?: string;
  longLivedToken?: never;
  login?: never;
}

/** Long-lived mode: a static Bearer token from the Developer Console; no refresh exists. */
export interface LongLivedTokenOptions extends CommonOptions {
  longLivedToken: string;
  /** Sent as `client-id` when given. */
  clientId?: string;
  clientSecret?: never;
  login?: never;
}

/** Bring-your-own tokens: e.g. a browser app whose backend logs in. Called for login and refresh. */
export interface CustomLoginOptions extends CommonOptions {
  login: (context: LoginContext) => Promise<LoginResult>;
  /** Sent as `client-id` when given. */
  clientId?: string;
  clientSecret?: never;
  longLivedToken?: never;
}

/** Options for {@link createEkaAuth}: exactly one credential mode. */
export type EkaAuthOptions = ClientCredentialsOptions | LongLivedTokenOptions | CustomLoginOptions;

/** Options accepted by the waiting methods. */
export interface WaitOptions {
  /** Rejects this caller only (AbortError); a shared refresh goes on for the others. */
  signal?: AbortSignal | null;
  /**
   * This call's patience for a token, when shorter than the instance's `maxWaitMs` (e.g. what is left
   * of a request's own timeout): past it the call fails with `TRANSIENT` instead of waiting.
   */
  maxWaitMs?: number;
}

/** Options for {@link EkaAuth.handleUnauthorized}. */
export interface UnauthorizedOptions extends WaitOptions {
  /** False when the request body cannot be re-sent (a stream): the token is refreshed, the call fails. */
  replayable?: boolean;
  /** The `apigw-requestid` of the 401, included in the error. */
  requestId?: string | null;
}

/** The token lifecycle owner. Share one per credential between all adapters. */
export interface EkaAuth {
  /** Current state. */
  readonly state: AuthState;
  /** Lower-case names of the headers that carry the token (strip these on cross-origin redirects). */
  readonly tokenHeaders: readonly string[];
  /** A secret-free view of the session. */
  getSnapshot(): AuthSnapshot;
  /** Called after every change of state or token generation. Returns unsubscribe. */
  subscribe(listener: (snapshot: AuthSnapshot) => void): () => void;
  /**
   * Observe every {@link EkaAuthEvent} (as the `onEvent` option does); any number of listeners, e.g.
   * a logger and `@eka/auth-opentelemetry` side by side. A throwing listener is ignored. Returns
   * unsubscribe.
   */
  onEvent(listener: (event: EkaAuthEvent) => void): () => void;
  /** True when `url` may receive the token (allowlisted origin over https, or loopback). */
  isAllowedUrl(url: string | URL): boolean;
  /** The headers (and generation) for a request to `url`; waits for a token when needed. */
  authorize(url: string | URL, options?: WaitOptions): Promise<AuthDecision>;
  /** What to do with a 401 to a request made with `decision`. */
  handleUnauthorized(decision: AuthDecision, options?: UnauthorizedOptions): Promise<UnauthorizedOutcome>;
  /** The current access token, logging in or refreshing as needed. */
  getAccessToken(options?: WaitOptions & { forceRefresh?: boolean }): Promise<string>;
  /** Log in now with the credentials (also leaves `failed`). */
  login(options?: WaitOptions): Promise<void>;
  /** Forget the tokens (storage too), cancel any refresh, settle waiters; later requests log in again. */
  logout(): Promise<void>;
  /** Release timers and subscriptions; the instance is unusable afterwards. */
  dispose(): void;
}
