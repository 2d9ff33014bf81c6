import type { EkaAuthError } from './errors';
import type { TokenSet } from './types';

/** The timing rules, resolved from the options (all milliseconds). */
export interface Timing {
  refreshWindowMs: number;
  mustRefreshWindowMs: number;
  /** Calls per flight (1 = no retry inside the flight). */
  attempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Between 50 % and 100 % of `ms`: spreads a fleet's retries apart. */
const jitter = (ms: number, random: () => number) => ms * (0.5 + random() / 2);

/**
 * When to refresh a token set: from `shouldAt` in the background (requests keep the token), from
 * `mustAt` in the foreground (requests wait). Both scale with the lifetime — a token shorter-lived
 * than the configured windows never causes a refresh storm — and `shouldAt` is jittered. Unknown
 * expiry: never (the token is used until a 401).
 */
export function refreshWindows(
  tokens: TokenSet,
  now: number,
  timing: Timing,
  random: () => number,
): { shouldAt: number; mustAt: number } {
  const { expiresAt } = tokens;
  if (expiresAt === undefined) return { shouldAt: Infinity, mustAt: Infinity };
  const lifetime = Math.max(0, expiresAt - (tokens.obtainedAt ?? now));
  const window = Math.min(timing.refreshWindowMs, lifetime * 0.2);
  return {
    shouldAt: expiresAt - window * (1 - 0.25 * random()),
    mustAt: expiresAt - Math.min(timing.mustRefreshWindowMs, lifetime * 0.05),
  };
}

/**
 * The pause before attempt `attempt + 1` of the same flight after `error`, or `undefined` when the
 * flight should give up: not transient, attempts spent, or a `Retry-After` above the cap.
 */
export function retryDelay(
  error: EkaAuthError,
  attempt: number,
  timing: Timing,
  random: () => number,
): number | undefined {
  if (!error.transient || attempt >= timing.attempts) return undefined;
  const asked = error.retryAfterMs ?? 0;
  if (asked > timing.retryMaxMs) return undefined;
  return Math.max(
    asked,
    Math.min(timing.retryMaxMs, jitter(timing.retryBaseMs * 2 ** (attempt - 1), random)),
  );
}

/** The back-off after the `failures`-th failed flight in a row: exponential, jittered, `Retry-After` wins. */
export function backoffDelay(
  error: EkaAuthError,
  failures: number,
  timing: Timing,
  random: () => number,
): number {
  const ms = jitter(Math.min(timing.backoffMaxMs, timing.backoffBaseMs * 2 ** (failures - 1)), random);
  return Math.max(ms, error.retryAfterMs ?? 0);
}
