/**
 * Every error code the library can raise. `code` is stable; messages may change.
 */
export type EkaAuthErrorCode =
  | 'CONFIG_INVALID'
  | 'CREDENTIALS_REJECTED'
  | 'REFRESH_REJECTED'
  | 'TRANSIENT'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'LONG_LIVED_TOKEN_REJECTED'
  | 'UNAUTHORIZED'
  | 'NON_REPLAYABLE_BODY'
  | 'INSECURE_URL'
  | 'STORAGE_FAILURE'
  | 'LOGGED_OUT'
  | 'DISPOSED';

/** Extra, secret-free facts an error can carry. */
export interface EkaAuthErrorDetails {
  /** HTTP status of the gateway response that caused the error, if any. */
  status?: number;
  /** The gateway's `apigw-requestid` header, for support tickets. */
  requestId?: string;
  /** For transient errors: how long to wait before trying again. */
  retryAfterMs?: number;
  /** The underlying error (never serialised). */
  cause?: unknown;
}

/**
 * Base class of every error thrown by `@eka/auth-*`. Check `code` (or `instanceof` a subclass).
 * Messages and `toJSON()` never contain secrets or tokens.
 */
export class EkaAuthError extends Error {
  /** Stable machine-readable code. */
  readonly code: EkaAuthErrorCode;
  /** HTTP status of the gateway response, when one caused this error. */
  readonly status?: number;
  /** The gateway's `apigw-requestid`, when present. */
  readonly requestId?: string;
  /** For transient failures: the back-off before the next attempt, in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(code: EkaAuthErrorCode, message: string, details: EkaAuthErrorDetails = {}) {
    super(message + (details.requestId ? ` (apigw-requestid ${details.requestId})` : ''));
    // Platform-compatible names survive minification for the two errors people test by name.
    this.name = code === 'ABORTED' ? 'AbortError' : code === 'TIMEOUT' ? 'TimeoutError' : new.target.name;
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.requestId !== undefined) this.requestId = details.requestId;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    // `cause` is kept off the enumerable surface so JSON.stringify never walks into it.
    if (details.cause !== undefined) Object.defineProperty(this, 'cause', { value: details.cause });
  }

  /** True for failures worth retrying later (network, timeout, 5xx, 429). */
  get transient(): boolean {
    return this.code === 'TRANSIENT' || this.code === 'TIMEOUT';
  }

  /** A secret-free plain object. */
  toJSON(): Record<string, unknown> {
    const { name, code, message, status, requestId, retryAfterMs } = this;
    return { name, code, message, status, requestId, retryAfterMs };
  }
}

/** The gateway rejected `client_id`/`client_secret` (or the `login` callback failed for good). */
export class CredentialsRejectedError extends EkaAuthError {}
/** The gateway rejected the refresh token (the core then falls back to one login). */
export class RefreshRejectedError extends EkaAuthError {}
/** Network error, 5xx, 429 or a malformed token response: the session is kept, retry later. */
export class TransientError extends EkaAuthError {}
/** The shared login/refresh call did not finish within `timeoutMs`; its HTTP call was aborted. */
export class TimeoutError extends EkaAuthError {}
/** The caller's own `AbortSignal` fired. Named `AbortError` like the platform's. */
export class AbortError extends EkaAuthError {}
/** A long-lived token was answered with 401: there is no refresh for it. */
export class LongLivedTokenRejectedError extends EkaAuthError {}
/** The API still answered 401 after a fresh token and one retry. */
export class UnauthorizedError extends EkaAuthError {}
/** The request body was a stream and cannot be re-sent; the token was refreshed for the next call. */
export class NonReplayableBodyError extends EkaAuthError {}
/** A URL was refused: plain http to a non-loopback host, or invalid. */
export class InsecureUrlError extends EkaAuthError {}
/** Invalid options given to `createEkaAuth` or an adapter. */
export class ConfigError extends EkaAuthError {}
/** Storage failed; the core degraded to memory (reported as a warning, not thrown). */
export class StorageError extends EkaAuthError {}

/** Narrow an unknown value to an {@link EkaAuthError}, optionally of one code. */
export function isEkaAuthError(value: unknown, code?: EkaAuthErrorCode): value is EkaAuthError {
  return value instanceof EkaAuthError && (code === undefined || value.code === code);
}

/** The caller's signal fired. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}

/**
 * A token call that got no answer: a `TimeoutError` when `signal` (the call's own timeout) fired, else
 * a `TransientError` — whatever `cause` is: a fetch wrapped by an adapter may throw one of our errors
 * (its own `ABORTED`), which is never the gateway's verdict on the credentials.
 */
export function callFailure(
  cause: unknown,
  signal: AbortSignal | undefined,
  kind = 'login/refresh',
): EkaAuthError {
  return signal?.aborted
    ? new TimeoutError('TIMEOUT', `Eka ${kind} timed out`, { cause })
    : new TransientError('TRANSIENT', `Eka ${kind} failed`, { cause });
}

/**
 * Any failure of a token call as an {@link EkaAuthError}: ours as is — except an `ABORTED` once the
 * call's own `signal` fired, which is the call's timeout — anything else via {@link callFailure}.
 */
export function toAuthError(cause: unknown, signal?: AbortSignal): EkaAuthError {
  return cause instanceof EkaAuthError && !(signal?.aborted && cause.code === 'ABORTED')
    ? cause
    : callFailure(cause, signal);
}
