import { CredentialsRejectedError, callFailure, RefreshRejectedError, TransientError } from './errors';
import type { TokenSet } from './types';

/** Unwrapped fetch marker: a wrapper sets `fn[UNWRAPPED] = original` so token calls never go through it. */
export const UNWRAPPED: unique symbol = Symbol.for('@eka/auth.unwrapped') as any;

/** Paths of the Eka token endpoints (PROTOCOL.md §1, §3). Refresh v1 is deprecated and never used. */
export const LOGIN_PATH = '/connect-auth/v1/account/login';
export const REFRESH_PATH = '/connect-auth/v1/account/refresh-token';

/** What one token-endpoint call needs. */
export interface TokenCall {
  fetch: typeof fetch;
  url: string;
  headers: Record<string, string>;
  body: Record<string, string | undefined>;
  signal: AbortSignal;
  now: () => number;
  kind: 'login' | 'refresh';
  /** Removes secrets from gateway-supplied text before it reaches an error message. */
  clean: (text: string) => string;
}

/** The outcome of a call, for the `request` event. */
export interface CallReport {
  status?: number;
  requestId?: string;
}

/**
 * POST to a token endpoint and classify the answer:
 * - 2xx with an `access_token` → tokens (expiry from `expires_in` at receipt, else JWT `exp`, else unknown);
 * - rejected (4xx other than 408/429, or any non-2xx whose body says `code: 4xx` — Eka answers bad
 *   credentials with HTTP 500 `{"code":400}`) → CredentialsRejectedError / RefreshRejectedError;
 * - network error, 5xx, 408, 429 or a malformed 2xx → TransientError (with `Retry-After`);
 * - our own timeout → TimeoutError.
 */
export async function callTokenEndpoint(call: TokenCall, report: CallReport): Promise<TokenSet> {
  let response: Response;
  // Called as a plain function: workerd rejects a fetch invoked as a method of another object.
  const send = call.fetch;
  try {
    response = await send(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...call.headers },
      body: JSON.stringify(call.body),
      signal: call.signal,
      // Never follow a redirect with the secret in the body; a 3xx counts as a transient failure.
      // ('manual', not 'error': workerd supports only 'follow' and 'manual'.)
      redirect: 'manual',
    });
  } catch (cause) {
    throw callFailure(cause, call.signal, call.kind);
  }
  report.status = response.status;
  const receivedAt = call.now();
  const requestId = response.headers.get('apigw-requestid') ?? undefined;
  report.requestId = requestId;
  let body: any;
  try {
    body = JSON.parse(await response.text());
  } catch (cause) {
    if (call.signal.aborted) throw callFailure(cause, call.signal, call.kind);
  }
  const status = response.status;
  const details = { status, requestId };
  if (response.ok && typeof body?.access_token === 'string' && body.access_token) {
    return toTokenSet(body, receivedAt);
  }
  const bodyCode = typeof body?.code === 'number' ? body.code : 0;
  const gatewaySays = describe(body, call.clean);
  if (!response.ok && (isRejection(status) || isRejection(bodyCode))) {
    const Rejected = call.kind === 'login' ? CredentialsRejectedError : RefreshRejectedError;
    throw new Rejected(
      call.kind === 'login' ? 'CREDENTIALS_REJECTED' : 'REFRESH_REJECTED',
      `Eka ${call.kind} rejected: HTTP ${status}${gatewaySays}`,
      details,
    );
  }
  throw new TransientError('TRANSIENT', `Eka ${call.kind} failed: HTTP ${status}${gatewaySays}`, {
    ...details,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), receivedAt),
  });
}

/** 4xx means "rejected", except 408 (timeout) and 429 (rate limit), which are worth retrying. */
const isRejection = (code: number) => code >= 400 && code < 500 && code !== 408 && code !== 429;

function describe(body: any, clean: (text: string) => string): string {
  const text = body?.message ?? body?.error;
  return typeof text === 'string' && text ? ` (${clean(text.slice(0, 120))})` : '';
}

/** Map Eka's token response to a TokenSet. Every field but `access_token` is optional. */
function toTokenSet(body: any, receivedAt: number): TokenSet {
  const tokens: TokenSet = { accessToken: body.access_token, obtainedAt: receivedAt };
  if (typeof body.refresh_token === 'string' && body.refresh_token) tokens.refreshToken = body.refresh_token;
  tokens.expiresAt = expiryFrom(body.expires_in, receivedAt) ?? jwtExpiry(body.access_token, receivedAt);
  const refreshExpiresAt = expiryFrom(body.refresh_expires_in, receivedAt);
  if (refreshExpiresAt) tokens.refreshExpiresAt = refreshExpiresAt;
  return tokens;
}

function expiryFrom(seconds: unknown, receivedAt: number): number | undefined {
  const n = typeof seconds === 'string' ? Number(seconds) : seconds;
  return typeof n === 'number' && n > 0 && Number.isFinite(n) ? receivedAt + n * 1000 : undefined;
}

/** JWT `exp` (seconds) as epoch ms; undefined for opaque tokens or an `exp` already past on our clock. */
function jwtExpiry(token: string, now: number): number | undefined {
  try {
    const payload = token.split('.')[1]!;
    const exp = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))).exp;
    return typeof exp === 'number' && exp * 1000 > now ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return ms >= 0 ? Math.min(ms, 3_600_000) : undefined;
}
