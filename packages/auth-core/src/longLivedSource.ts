import { LongLivedTokenRejectedError } from './errors';
import type { TokenSource } from './tokenSource';

/**
 * A long-lived token from the Developer Console (PROTOCOL.md §4): static, never refreshed, and a 401
 * is final. It is held from the start and never written to storage.
 */
export function longLivedSource(accessToken: string): TokenSource {
  const initial = { accessToken };
  return {
    initial,
    obtain: async () => [initial, 'login'],
    finalUnauthorized: (details) =>
      new LongLivedTokenRejectedError(
        'LONG_LIVED_TOKEN_REJECTED',
        'the long-lived token was rejected (401); create a new one in the Eka Developer Console',
        details,
      ),
  };
}
