/** Where the gateway accepts the access token on API calls (PROTOCOL.md §2). */
export type AcceptHeader = 'auth' | 'authorization' | 'both';

/** A client the gateway accepts at login. */
export interface GatewayClient {
  /** The `client_id` sent at login. */
  readonly clientId: string;
  /** The `client_secret` sent at login. */
  readonly clientSecret: string;
}

/** The route groups whose latency and failures can be controlled. `refresh` covers v1 and v2. */
export type GatewayRoute = 'login' | 'refresh' | 'api';

/** An HTTP failure injected with {@link GatewayControl.failNext}. */
export interface InjectedHttpFailure {
  /** HTTP status to answer with (200–599). */
  status: number;
  /** Sent as the `Retry-After` header (seconds), when given. */
  retryAfterSec?: number;
  /**
   * The response body: a string is sent verbatim as `text/plain`, anything else as JSON.
   * Default: `{ code: status, error: 'injected failure' }`.
   */
  body?: unknown;
}

/**
 * A failure injected with {@link GatewayControl.failNext}:
 * - an {@link InjectedHttpFailure} (e.g. `{ status: 503 }`, `{ status: 429, retryAfterSec: 2 }`);
 * - `'reset'`: the connection is destroyed without an answer (fetch rejects);
 * - `'hang'`: no answer at all until the client aborts or the gateway closes;
 * - `'bad-credentials'`: Eka's HTTP 500 with body `{"message":"invalid credentials","code":400}`.
 */
export type InjectedFailure = InjectedHttpFailure | 'reset' | 'hang' | 'bad-credentials';

/** One deviation from Eka's documented protocol, seen by the gateway. */
export interface ProtocolViolation {
  /** The request path (or route) where it happened. */
  route: string;
  /** What was wrong, in words. Never contains a secret. */
  problem: string;
}

/**
 * Live counters of everything the gateway saw. A plain, JSON-able object that is mutated in place
 * (read it any time; {@link GatewayControl.resetStats} zeroes it without replacing it).
 */
export interface GatewayStats {
  /** Every request that reached the gateway (not the foreign origin). */
  requests: number;
  /** Calls to any token endpoint: login, refresh v2 and deprecated refresh v1. */
  tokenEndpointCalls: number;
  /** Logins: `ok` answered 200; `rejected` answered an error by the login logic (not injected). */
  logins: { ok: number; rejected: number };
  /**
   * Refreshes (v1 and v2): `ok` answered 200; `reused` presented an already-used refresh token;
   * `rejected` every other error answered by the refresh logic (not injected).
   */
  refreshes: { ok: number; rejected: number; reused: number };
  /** Calls to the deprecated v1 refresh endpoint (also counted in `refreshes`). */
  v1Refreshes: number;
  /**
   * Protected API calls: `ok` = answered 1xx–3xx with a valid token; `unauthorized` = every 401
   * served; `forbidden` = every 403 served; `byGeneration[gen]` = calls that passed authentication
   * with a token of that generation (0 = long-lived token).
   */
  apiCalls: { ok: number; unauthorized: number; forbidden: number; byGeneration: Record<number, number> };
  /** Deviations from the documented protocol (deprecated endpoint, secrets in URLs, …). */
  protocolViolations: ProtocolViolation[];
  /** API calls whose token was in a header the gateway does not accept (see `acceptHeader`). */
  wrongPlace: number;
  /** Requests to the foreign origin that carried an `auth` or `authorization` header. */
  tokenLeaks: number;
  /** Every request to the foreign origin. */
  foreignRequests: number;
  /** Failures served by {@link GatewayControl.failNext}. */
  injectedFailures: number;
}

/** Levers to change the gateway's behaviour while a test runs. */
export interface GatewayControl {
  /** Every access token issued so far answers 401 (tokens issued later work). */
  revokeAllAccessTokens(): void;
  /** Every access token issued so far counts as expired, whatever its `exp` says. */
  expireAccessTokens(): void;
  /** Every refresh token issued so far is rejected (401, counted as `rejected`). */
  revokeRefreshTokens(): void;
  /** Long-lived tokens answer 401 from now on. */
  revokeLongLived(): void;
  /** Adds `ms` of latency before every answer on `route` (0 removes it). */
  setLatency(route: GatewayRoute, ms: number): void;
  /** The next `count` requests to `route` get `failure` instead of their normal answer (queued in order). */
  failNext(route: GatewayRoute, count: number, failure: InjectedFailure): void;
  /** While on, every API call answers 401, even with a fresh token. */
  alwaysUnauthorized(on: boolean): void;
  /** Replaces the clock (epoch milliseconds) used to issue tokens and check expiry. */
  setClock(clock: () => number): void;
  /** Zeroes {@link GatewayStats} in place. */
  resetStats(): void;
}

/** Behaviour options shared by every transport of the emulator. */
export interface EkaGatewayOptions {
  /** Clients accepted at login. Default: `DEMO_CREDENTIALS.clients`. Must not be empty. */
  clients?: readonly GatewayClient[];
  /** Sharing keys → the workspace id they act on. Default: `DEMO_CREDENTIALS.sharingKeys`. */
  sharingKeys?: Readonly<Record<string, string>>;
  /** Long-lived access tokens accepted on API calls. Default: `DEMO_CREDENTIALS.longLivedTokens`. */
  longLivedTokens?: readonly string[];
  /** Answer login with only `{ access_token }`, like the 2024 capture. Default `false`. */
  minimalLoginResponse?: boolean;
  /** Access token lifetime in seconds (`expires_in`). Default `1800`. */
  accessTokenTtlSec?: number;
  /** Refresh token lifetime in seconds (`refresh_expires_in`). Default `86400`. */
  refreshTokenTtlSec?: number;
  /** Which header(s) carry the token on API calls. Default `'both'`. */
  acceptHeader?: AcceptHeader;
  /** HS256 signing secret for access tokens. Default: 32 random bytes. */
  secret?: string;
  /** Clock in epoch milliseconds, for issuing tokens and checking expiry. Default `Date.now`. */
  clock?: () => number;
  /** Largest accepted request body in bytes (JSON endpoints and echo; not `/api/upload`). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Body of API 401 answers (one of `EKA_UNAUTHORIZED_BODIES`, or your own). Default `{ message: 'Unauthorized' }`. */
  unauthorizedBody?: unknown;
}

/** Options of {@link createGatewayCore}: behaviour plus where the foreign origin lives. */
export interface GatewayCoreOptions extends EkaGatewayOptions {
  /** Origin of the "foreign" host, the default target of `/api/redirect`. Default `http://foreign.test`. */
  foreignUrl?: string;
}

/**
 * What the core answers: a `Response`, or an instruction to the transport —
 * `'reset'` (destroy the connection) or `'hang'` (never answer).
 */
export type GatewayResult = Response | 'reset' | 'hang';

/** The transport-independent emulator returned by {@link createGatewayCore}. */
export interface GatewayCore {
  /** Answers one request to the gateway. Never throws. */
  handle(request: Request): Promise<GatewayResult>;
  /** Answers one request to the foreign origin (counts leaked tokens). Never throws. */
  handleForeign(request: Request): Response;
  /** Live statistics. */
  readonly stats: GatewayStats;
  /** Behaviour levers. */
  readonly control: GatewayControl;
  /** The credentials this gateway accepts. */
  readonly credentials: GatewayCredentials;
}

/** Credentials a gateway accepts: the first of each kind, plus the full lists. */
export interface GatewayCredentials {
  /** `client_id` of the first configured client. */
  readonly clientId: string;
  /** `client_secret` of the first configured client. */
  readonly clientSecret: string;
  /** The first configured sharing key, if any. */
  readonly sharingKey: string | undefined;
  /** The workspace id `sharingKey` acts on, if any. */
  readonly sharedWorkspaceId: string | undefined;
  /** The first configured long-lived token, if any. */
  readonly longLivedToken: string | undefined;
  /** Every accepted client. */
  readonly clients: readonly GatewayClient[];
  /** Every accepted sharing key → workspace id. */
  readonly sharingKeys: Readonly<Record<string, string>>;
  /** Every accepted long-lived token. */
  readonly longLivedTokens: readonly string[];
}
