import { NonReplayableBodyError, toAuthError, UnauthorizedError } from './errors';
import { LOGIN_PATH, REFRESH_PATH } from './protocol';
import type { Reporter } from './reporter';
import type { TokenCycler } from './tokenCycler';
import type { TokenSource } from './tokenSource';
import type { AuthDecision, EkaAuth, HeaderMode, UnauthorizedOutcome } from './types';

/** What {@link createDecisions} needs. */
export interface DecisionsConfig {
  cycler: TokenCycler;
  source: TokenSource;
  reporter: Reporter;
  isAllowedUrl: (url: string | URL) => boolean;
  header: HeaderMode;
  /** Sent as `client-id` on API calls, when set. */
  clientId: string | undefined;
  clock: () => number;
  /** Cool-down after a fresh token was refused too: base and cap (ms). */
  cooldownBaseMs: number;
  cooldownMaxMs: number;
}

const NO_AUTH: AuthDecision = Object.freeze({ headers: null, generation: 0, retry: false });
const NO_AUTH_PROMISE = Promise.resolve(NO_AUTH);
const PASS: UnauthorizedOutcome = Object.freeze({ action: 'pass' });

/**
 * Eka's token endpoints never get the token from an adapter: a login/refresh of the core that reaches an
 * adapter anyway (through someone else's wrapper of the global fetch) goes out as the core built it,
 * instead of waiting for the very flight it belongs to; and its 401 is never answered as an API's.
 */
const isTokenEndpoint = (url: string | URL) => {
  const href = typeof url === 'string' ? url : url.href;
  return href.includes(LOGIN_PATH) || href.includes(REFRESH_PATH);
};

/** The adapter-facing questions, answered over the cycler's state. */
export interface Decisions {
  authorize: EkaAuth['authorize'];
  handleUnauthorized: EkaAuth['handleUnauthorized'];
  /** Forget the cool-down (after `login()`/`logout()`). */
  reset(): void;
}

/**
 * `authorize` and `handleUnauthorized` — what an adapter does with a request and with its 401:
 * - the decision for the token held is built once per generation and shared (hot path: one
 *   already-resolved promise, nothing allocated);
 * - straggler: a 401 for an older generation than the one held retries with the current token, no refresh;
 * - otherwise the 401 forces one refresh, shared by everyone; the retry it gets is final (its 401
 *   gives up) only when its token is known to postdate this 401 — a token from a background refresh
 *   that started earlier, from another tab/process, or held already when a straggler's 401 arrived may
 *   have been revoked too, so that retry gets one second chance (at most two retries per request);
 * - a fresh token refused too counts one strike for its generation; strikes on consecutive generations
 *   start a growing cool-down (no refresh storm when the API refuses every token), while a single
 *   refused generation (a revocation that raced the refresh) is refreshed again at the next 401.
 */
export function createDecisions(config: DecisionsConfig): Decisions {
  const { cycler, source, reporter, clock } = config;
  let built = -1;
  let decision = NO_AUTH;
  let retryDecision = NO_AUTH;
  let settled = NO_AUTH_PROMISE;
  let strikes = 0;
  let struckGeneration = -1;
  let cooldownUntil = 0;
  const secondChances = new WeakSet<AuthDecision>();

  /** The decisions for the token held now (built once per generation). */
  const current = () => {
    const { generation, tokens } = cycler;
    if (built !== generation && tokens) {
      built = generation;
      const headers: Record<string, string> = {};
      if (config.header !== 'authorization') headers.auth = tokens.accessToken;
      if (config.header !== 'auth') headers.authorization = `Bearer ${tokens.accessToken}`;
      if (config.clientId) headers['client-id'] = config.clientId;
      Object.freeze(headers);
      decision = Object.freeze({ headers, generation, retry: false });
      retryDecision = Object.freeze({ headers, generation, retry: true });
      settled = Promise.resolve(decision);
    }
    return decision;
  };

  const answer = async (
    used: AuthDecision,
    options: Parameters<EkaAuth['handleUnauthorized']>[1] = {},
  ): Promise<UnauthorizedOutcome> => {
    if (!used.headers) return PASS;
    const details = { status: 401, requestId: options.requestId ?? undefined };
    const final = source.finalUnauthorized?.(details);
    if (final) {
      reporter.emit({ type: 'failure', error: final });
      return { action: 'fail', error: final };
    }
    const unauthorized = (): UnauthorizedOutcome => ({
      action: 'fail',
      error: new UnauthorizedError('UNAUTHORIZED', 'the API answered 401 again after a fresh token', details),
    });
    if (used.retry) {
      // A fresh token refused: one strike per generation. Consecutive generations refused (the API
      // refuses every token, not a revocation that raced the refresh) start a growing cool-down.
      if (used.generation === cycler.generation && struckGeneration !== used.generation) {
        strikes = struckGeneration === used.generation - 1 ? strikes + 1 : 1;
        struckGeneration = used.generation;
        cooldownUntil =
          strikes > 1
            ? clock() + Math.min(config.cooldownMaxMs, config.cooldownBaseMs * 2 ** (strikes - 1))
            : 0;
      }
      return unauthorized();
    }
    const again = secondChances.has(used);
    let finalRetry = again;
    try {
      if (used.generation === cycler.generation) {
        if (struckGeneration === used.generation && clock() < cooldownUntil) return unauthorized();
        finalRetry = again || !cycler.flight || cycler.flight.forced;
        await cycler.ensure(options, used.generation);
        if (cycler.adoptedFromStorage) finalRetry = again;
      } else {
        await cycler.ensure(options);
      }
    } catch (cause) {
      return { action: 'fail', error: toAuthError(cause) };
    }
    if (options.replayable === false) {
      return {
        action: 'fail',
        error: new NonReplayableBodyError(
          'NON_REPLAYABLE_BODY',
          'the request body is a stream and cannot be re-sent; the token was refreshed for the next call',
          details,
        ),
      };
    }
    current();
    if (finalRetry) return { action: 'retry', decision: retryDecision };
    const secondChance: AuthDecision = Object.freeze({ ...decision });
    secondChances.add(secondChance);
    return { action: 'retry', decision: secondChance };
  };

  return {
    authorize(url, options) {
      if (!config.isAllowedUrl(url) || isTokenEndpoint(url)) return NO_AUTH_PROMISE;
      if (!cycler.fresh() || options?.signal?.aborted) return cycler.ensure(options ?? {}).then(current);
      if (built !== cycler.generation) current();
      return settled;
    },
    async handleUnauthorized(used, options) {
      const outcome = await answer(used, options);
      reporter.emit({
        type: 'unauthorized',
        action: outcome.action,
        generation: used.generation,
        code: outcome.action === 'fail' ? outcome.error.code : undefined,
      });
      return outcome;
    },
    reset() {
      strikes = 0;
    },
  };
}
