import { TransientError } from './errors';
import type { TokenSource } from './tokenSource';
import type { LoginContext, LoginResult } from './types';

/**
 * Bring-your-own tokens: the app's `login` callback (e.g. a browser app whose backend logs in) is
 * called for the first login and for every refresh. What it throws counts as transient unless it is
 * an `EkaAuthError` saying otherwise (e.g. `CredentialsRejectedError`).
 */
export function customLoginSource(
  login: (context: LoginContext) => Promise<LoginResult>,
  clock: () => number,
): TokenSource {
  return {
    async obtain(current, { signal }) {
      const r = await login({
        signal,
        reason: current ? 'refresh' : 'login',
        current: current && { ...current },
      });
      if (!r || typeof r.accessToken !== 'string' || !r.accessToken) {
        throw new TransientError('TRANSIENT', 'the login callback returned no accessToken');
      }
      const obtainedAt = clock();
      const expiresAt = r.expiresIn ? obtainedAt + r.expiresIn * 1000 : r.expiresAt;
      return [{ accessToken: r.accessToken, refreshToken: r.refreshToken, expiresAt, obtainedAt }, 'login'];
    },
  };
}
