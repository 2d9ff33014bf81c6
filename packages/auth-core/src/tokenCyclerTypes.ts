import type { EkaAuthError } from './errors';
import type { Reporter } from './reporter';
import type { SessionStore } from './sessionStore';
import type { TokenSource } from './tokenSource';
import type { AuthSnapshot, AuthState, TokenSet, WaitOptions } from './types';
import type { Timing } from './windows';

/** One login/refresh under way; every waiter awaits `promise` (it never rejects). */
export interface Flight {
  promise: Promise<EkaAuthError | undefined>;
  /** Started because the current token got a 401: nobody should use that token meanwhile. */
  forced: boolean;
}

/** What {@link createTokenCycler} needs. */
export interface CyclerConfig {
  source: TokenSource;
  store: SessionStore;
  reporter: Reporter;
  timing: Timing;
  timeoutMs: number;
  maxWaitMs: number;
  autoRefresh: boolean;
  clock: () => number;
  random: () => number;
}

/** The lifecycle engine of one `EkaAuth`: knows *when* to get a token, never *how*. */
export interface TokenCycler {
  readonly state: AuthState;
  readonly tokens: TokenSet | null;
  readonly generation: number;
  readonly flight: Flight | null;
  /** The token held now was stored by another tab/process (it may predate a revocation we just saw). */
  readonly adoptedFromStorage: boolean;
  /** True when the token held can be used as is, with nothing to start or wait for (the hot path). */
  fresh(): boolean;
  snapshot(): AuthSnapshot;
  /**
   * Make sure a usable token is held, waiting within the caller's patience. With `forceGeneration`
   * equal to the generation held, that token is not usable (it got a 401): a new one is obtained;
   * `-1` means the generation held once the stored session has loaded (`forceRefresh`).
   */
  ensure(options?: WaitOptions, forceGeneration?: number): Promise<void>;
  /** Log in now (also leaves `failed`). */
  login(options?: WaitOptions): Promise<void>;
  /** Forget everything local: cancel the flight and timers, settle every waiter with `reason`. */
  reset(reason: EkaAuthError): void;
  dispose(): void;
}
