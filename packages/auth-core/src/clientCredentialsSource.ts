import { ConfigError, type EkaAuthError, toAuthError } from './errors';
import { callTokenEndpoint, LOGIN_PATH, REFRESH_PATH, UNWRAPPED } from './protocol';
import type { ObtainContext, TokenSource } from './tokenSource';
import type { TokenRequestOutcome, TokenSet } from './types';

/** What {@link clientCredentialsSource} needs. */
export interface ClientCredentials {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  sharingKey?: string;
  /** The fetch for token calls; default `globalThis.fetch`, looked up per call. */
  fetch?: typeof fetch;
  clock: () => number;
}

const OUTCOME: Record<string, TokenRequestOutcome> = { TRANSIENT: 'transient', TIMEOUT: 'timeout' };

/**
 * Eka's client credentials (PROTOCOL.md §1, §3):
 * - refresh v2 with the rotating refresh token while one is held and not expired;
 * - a refresh token is presented at most once: after a refresh that failed in any way (the gateway
 *   may have rotated it before the answer was lost) the next attempt logs in instead;
 * - a rejected refresh (4xx, or Eka's 500 `{"code":400}`) falls back to one login at once;
 * - login with `client_id`/`client_secret` (and `sharing_key`), its rejection is final.
 */
export function clientCredentialsSource(credentials: ClientCredentials): TokenSource {
  const { baseUrl, clientId, clientSecret, sharingKey, clock } = credentials;
  let spent: string | undefined;

  const call = async (
    kind: 'login' | 'refresh',
    headers: Record<string, string>,
    body: Record<string, string | undefined>,
    current: TokenSet | null,
    context: ObtainContext,
  ): Promise<TokenSet> => {
    const url = baseUrl + (kind === 'login' ? LOGIN_PATH : REFRESH_PATH);
    const report: { status?: number; requestId?: string } = {};
    const startedAt = clock();
    let code: EkaAuthError['code'] | undefined;
    try {
      return await callTokenEndpoint(
        {
          fetch: unwrappedFetch(credentials.fetch),
          url,
          headers,
          body,
          signal: context.signal,
          now: clock,
          kind,
          clean: (text) =>
            [clientSecret, sharingKey, current?.accessToken, current?.refreshToken].some(
              (secret) => secret && text.includes(secret),
            )
              ? '[redacted]'
              : text,
        },
        report,
      );
    } catch (cause) {
      code = toAuthError(cause, context.signal).code;
      throw cause;
    } finally {
      context.emit({
        type: 'request',
        kind,
        ok: !code,
        outcome: code ? (OUTCOME[code] ?? 'rejected') : 'ok',
        status: report.status,
        requestId: report.requestId,
        code,
        url,
        attempt: context.attempt,
        startedAt,
        durationMs: clock() - startedAt,
      });
    }
  };

  return {
    async obtain(current, context) {
      const refreshToken = current?.refreshToken;
      if (
        !context.forceLogin &&
        refreshToken &&
        refreshToken !== spent &&
        !(current.refreshExpiresAt! <= clock())
      ) {
        spent = refreshToken;
        try {
          const next = await call(
            'refresh',
            { authorization: `Bearer ${current.accessToken}`, 'client-id': clientId },
            { refresh_token: refreshToken, access_token: current.accessToken },
            current,
            context,
          );
          // Keep the old refresh token only if the gateway did not rotate it.
          next.refreshToken ??= refreshToken;
          if (next.refreshToken === refreshToken) spent = undefined;
          return [next, 'refresh'];
        } catch (cause) {
          if ((cause as EkaAuthError).code !== 'REFRESH_REJECTED') throw cause;
          context.warn('refresh token rejected; logging in again with the client credentials');
        }
      }
      const next = await call(
        'login',
        {},
        { client_id: clientId, client_secret: clientSecret, sharing_key: sharingKey },
        current,
        context,
      );
      return [next, 'login'];
    },
  };
}

/** The original fetch behind any chain of adapter wrappers, so token calls never carry a token. */
function unwrappedFetch(given: typeof fetch | undefined): typeof fetch {
  let f: any = given ?? globalThis.fetch;
  while (f?.[UNWRAPPED]) f = f[UNWRAPPED];
  if (typeof f !== 'function')
    throw new ConfigError('CONFIG_INVALID', 'no fetch available: pass options.fetch');
  return f;
}
