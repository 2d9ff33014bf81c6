import { clientCredentialsSource } from './clientCredentialsSource';
import { customLoginSource } from './customLoginSource';
import { createDecisions } from './decisions';
import { ConfigError, EkaAuthError } from './errors';
import { longLivedSource } from './longLivedSource';
import { MemoryStorage } from './MemoryStorage';
import { createReporter } from './reporter';
import { DEFAULT_BASE_URL, storageKeyFor } from './session';
import { createSessionStore } from './sessionStore';
import { createTokenCycler } from './tokenCycler';
import type { TokenSource } from './tokenSource';
import type { EkaAuth, EkaAuthOptions } from './types';
import { originMatcher, secureOrigin } from './url';

export { UNWRAPPED } from './protocol';

/**
 * Create the owner of one credential's token lifecycle. Share it between every adapter of an app;
 * create one per user/credential in a multi-tenant server (instances share nothing).
 *
 * Wiring only: a token source (the credential mode), a session store (storage), the token cycler
 * (when to get a token) and the decisions (what adapters do with requests and 401s).
 *
 * @throws {ConfigError} on missing or conflicting credentials or an unknown header mode.
 * @throws {InsecureUrlError} on a non-URL `baseUrl`/origin, or plain http to a non-loopback host.
 */
export function createEkaAuth(options: EkaAuthOptions): EkaAuth {
  const o = options as EkaAuthOptions & {
    clientSecret?: string;
    sharingKey?: string;
    longLivedToken?: string;
  };
  validate(o);
  const baseUrl = secureOrigin(o.baseUrl ?? DEFAULT_BASE_URL, 'baseUrl');
  const isAllowedUrl = originMatcher(
    (o.allowedOrigins ?? [baseUrl]).map((origin) => secureOrigin(origin, 'allowedOrigins entry')),
  );
  const clock = o.clock ?? Date.now;
  const random = o.random ?? Math.random;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const header = o.header ?? 'both';
  const reporter = createReporter(o.onEvent);
  const source: TokenSource =
    o.longLivedToken !== undefined
      ? longLivedSource(o.longLivedToken)
      : o.login
        ? customLoginSource(o.login, clock)
        : clientCredentialsSource({
            baseUrl,
            clientId: o.clientId!,
            clientSecret: o.clientSecret!,
            sharingKey: o.sharingKey,
            fetch: o.fetch,
            clock,
          });
  const store = createSessionStore(
    (!source.initial && o.storage) || new MemoryStorage(),
    o.storageKey ?? storageKeyFor(o.clientId, o.sharingKey, baseUrl),
    reporter.warn,
    timeoutMs,
  );
  const backoffBaseMs = o.backoff?.baseMs ?? 1_000;
  const backoffMaxMs = o.backoff?.maxMs ?? 60_000;
  const cycler = createTokenCycler({
    source,
    store,
    reporter,
    clock,
    random,
    timeoutMs,
    maxWaitMs: o.maxWaitMs ?? Math.max(30_000, 2 * timeoutMs),
    autoRefresh: !!o.autoRefresh,
    timing: {
      refreshWindowMs: o.refreshWindowMs ?? 300_000,
      mustRefreshWindowMs: o.mustRefreshWindowMs ?? 30_000,
      attempts: Math.max(1, o.retry?.attempts ?? 3),
      retryBaseMs: o.retry?.baseDelayMs ?? 100,
      retryMaxMs: o.retry?.maxDelayMs ?? 5_000,
      backoffBaseMs,
      backoffMaxMs,
    },
  });
  const decisions = createDecisions({
    cycler,
    source,
    reporter,
    isAllowedUrl,
    header,
    clientId: o.sendClientId === false ? undefined : o.clientId,
    clock,
    cooldownBaseMs: backoffBaseMs,
    cooldownMaxMs: backoffMaxMs,
  });
  let disposed = false;

  const auth: EkaAuth & { toJSON(): unknown; toString(): string } = {
    get state() {
      return cycler.state;
    },
    tokenHeaders: Object.freeze(header === 'both' ? ['auth', 'authorization'] : [header]),
    getSnapshot: cycler.snapshot,
    subscribe: reporter.subscribe,
    onEvent: reporter.onEvent,
    isAllowedUrl,
    authorize: decisions.authorize,
    handleUnauthorized: decisions.handleUnauthorized,
    async getAccessToken(options = {}) {
      await cycler.ensure(options, options.forceRefresh ? -1 : undefined);
      return cycler.tokens!.accessToken;
    },
    login(options) {
      decisions.reset();
      return cycler.login(options);
    },
    async logout() {
      decisions.reset();
      cycler.reset(new EkaAuthError('LOGGED_OUT', 'logged out'));
      await store.write(null);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      cycler.dispose();
      reporter.emit({ type: 'disposed' });
      reporter.clear();
    },
    toJSON: () => ({ state: cycler.state, generation: cycler.generation }),
    toString: () => `[EkaAuth ${cycler.state}]`,
  };
  (auth as any)[Symbol.for('nodejs.util.inspect.custom')] = auth.toString;

  if (o.clientSecret && typeof document !== 'undefined' && typeof window !== 'undefined') {
    reporter.warn(
      'a client secret is being used in a browser, readable by every visitor: use the `login` option with tokens from your backend',
    );
  }
  return auth;
}

function validate(o: any): void {
  const check = (ok: unknown, message: string) => {
    if (!ok) throw new ConfigError('CONFIG_INVALID', message);
  };
  const text = (value: unknown) => typeof value === 'string' && value !== '';
  check(o && typeof o === 'object', 'options are required');
  check(
    [o.clientSecret, o.longLivedToken, o.login].filter((v) => v !== undefined).length < 2,
    'give exactly one of clientId/clientSecret, longLivedToken or login',
  );
  check(
    o.header === undefined || ['auth', 'authorization', 'both'].includes(o.header),
    `header must be 'auth', 'authorization' or 'both'`,
  );
  if (o.longLivedToken !== undefined)
    check(text(o.longLivedToken), 'longLivedToken must be a non-empty string');
  else if (o.login !== undefined) check(typeof o.login === 'function', 'login must be a function');
  else {
    check(text(o.clientId), 'clientId is required');
    check(text(o.clientSecret), 'clientSecret is required');
    check(o.sharingKey === undefined || text(o.sharingKey), 'sharingKey must be a non-empty string');
  }
}
