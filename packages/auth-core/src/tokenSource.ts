import type { EkaAuthError } from './errors';
import type { EkaAuthEvent, TokenSet } from './types';

/** What a {@link TokenSource} is given for one attempt to obtain tokens. */
export interface ObtainContext {
  /** Aborted when the attempt times out (`timeoutMs`), or on logout/dispose. */
  signal: AbortSignal;
  /** 1 for a flight's first attempt; retries of a transient failure count up. */
  attempt: number;
  /** A login is required (the caller asked for one: `login()`), not a refresh. */
  forceLogin: boolean;
  /** Report a token-endpoint call (`request` event). */
  emit: (event: EkaAuthEvent) => void;
  /** Report something worth knowing that is not a failure. */
  warn: (message: string) => void;
}

/**
 * A credential mode: the only code that knows how tokens are obtained for it (DESIGN.md "One rule,
 * one place"). The cycler decides *when*; a source decides *how*.
 */
export interface TokenSource {
  /**
   * Obtain tokens, given the ones held now (`null` = none), and say how (for the `token` event).
   * Throws an `EkaAuthError`: transient ones
   * (`TRANSIENT`, `TIMEOUT`) may be retried by the cycler, every other one is final.
   */
  obtain(current: TokenSet | null, context: ObtainContext): Promise<[TokenSet, 'login' | 'refresh']>;
  /**
   * The error a 401 ends with for this source, when no new token can help (a long-lived token);
   * `undefined` when a refresh may help.
   */
  finalUnauthorized?(details: { status: number; requestId?: string }): EkaAuthError;
  /** Tokens held from the start (a long-lived token); such a source uses no storage. */
  initial?: TokenSet;
}
