import {
  createEkaAuth,
  type EkaAuth,
  isEkaAuthError,
  storageKeyFor,
  type TokenRequestEvent,
} from '@eka/auth-core';
import { fileStorage } from '@eka/auth-core/file';
import { configDiagnosis, type Diagnosis, diagnoseFailure } from './diagnoseFailure';
import { observeFetch } from './observeFetch';

/** Options of {@link getToken}. */
export interface GetTokenOptions {
  /** `client_id`. */
  clientId: string;
  /** `client_secret`. */
  clientSecret: string;
  /** Optional sharing key. */
  sharingKey?: string;
  /** Gateway base URL. Default `https://api.eka.care`. */
  baseUrl?: string;
  /** Timeout of one login/refresh call. Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * The session file (the core's file storage: mode 0600, atomic writes; plus `<path>.lock` while a
   * login/refresh runs, so concurrent runs share one), or `null` for none.
   */
  cachePath: string | null;
  /** Refresh even when the cached token is still valid. */
  forceRefresh?: boolean;
  /** The fetch for the token calls. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Told about the core's warnings (a corrupt cache file, storage that failed). Never contains secrets. */
  onWarning?: (message: string) => void;
}

/** The outcome of {@link getToken}: a token, or a diagnosis of why there is none. */
export type GetTokenResult = { ok: true; accessToken: string } | { ok: false; diagnosis: Diagnosis };

/**
 * A fresh access token, reusing the session cached in `cachePath` between runs: a valid cached token
 * costs no HTTP call, an expired one one refresh, and only a missing or rejected one a login. Sessions
 * are kept per client id, sharing key (hashed) and gateway origin.
 */
export async function getToken(options: GetTokenOptions): Promise<GetTokenResult> {
  const observed = observeFetch(options.fetch);
  const redact = (text: string) => {
    let out = text;
    for (const secret of [options.clientSecret, options.sharingKey, ...observed.tokens.refresh]) {
      if (secret) out = out.split(secret).join('[redacted]');
    }
    return out;
  };
  const baseUrl = options.baseUrl ?? 'https://api.eka.care';
  const timeoutMs = options.timeoutMs ?? 10_000;
  let auth: EkaAuth;
  try {
    const { clientId, clientSecret, sharingKey } = options;
    auth = createEkaAuth({
      ...(sharingKey === undefined ? { clientId, clientSecret } : { clientId, clientSecret, sharingKey }),
      baseUrl,
      timeoutMs,
      fetch: observed.fetch,
      ...(options.cachePath === null
        ? {}
        : {
            // The core's file storage locks `<path>.lock` for each login/refresh; a lock untouched for
            // longer than this (or whose process is gone) belongs to a run that died.
            storage: fileStorage(options.cachePath, { staleLockMs: Math.max(60_000, 2 * timeoutMs) }),
            storageKey: `${storageKeyFor(clientId, sharingKey)}@${new URL(baseUrl).origin}`,
          }),
    });
  } catch (error) {
    return { ok: false, diagnosis: configDiagnosis(error, redact) };
  }
  const events: TokenRequestEvent[] = [];
  auth.onEvent((event) => {
    if (event.type === 'request') events.push(event);
    else if (event.type === 'warning') options.onWarning?.(redact(event.message));
  });
  try {
    // One login/refresh (the core retries a transient failure inside it); no waiting out a back-off
    // after that: a script is better told at once.
    const patience = { maxWaitMs: 0 };
    await auth.getAccessToken(patience);
    // `forceRefresh` only once the cached session is loaded (the first call above waited for it), and
    // only when that call did not just fetch a new token anyway. A cached token of unknown lifetime
    // (opaque, no expires_in) would be used until a 401 the CLI never sees: renew it on every run.
    const fromCache = observed.calls.length === 0;
    if (fromCache && (options.forceRefresh || auth.getSnapshot().expiresAt === undefined)) {
      await auth.getAccessToken({ ...patience, forceRefresh: true });
    }
    // Inside the refresh window the core refreshes in the background and answers with the current
    // token: wait for that refresh, so the newest token is printed and saved before the process ends.
    if (auth.state === 'refreshing') await settled(auth);
    return { ok: true, accessToken: await auth.getAccessToken(patience) };
  } catch (error) {
    // The last failure is why there is no token (a rejected refresh is followed by a login, say).
    const origin = new URL(baseUrl).origin;
    const failed = events.filter((event) => !event.ok).at(-1);
    if (!failed) {
      const code = isEkaAuthError(error) ? error.code : undefined;
      if (code === 'TIMEOUT' && observed.calls.length === 0 && options.cachePath !== null) {
        return { ok: false, diagnosis: lockedDiagnosis(options.cachePath, timeoutMs) };
      }
      return {
        ok: false,
        diagnosis: diagnoseFailure({ step: 'login', code, call: undefined, origin, timeoutMs, redact }),
      };
    }
    const sameKind = observed.calls.filter((c) => c.kind === failed.kind);
    const call = sameKind[events.filter((e) => e.kind === failed.kind).indexOf(failed)];
    const diagnosis = diagnoseFailure({
      step: failed.kind,
      code: failed.code,
      call,
      origin,
      timeoutMs,
      redact,
    });
    return { ok: false, diagnosis };
  } finally {
    auth.dispose();
  }
}

/** Resolves once `auth` leaves the `refreshing` state (the flight has its own timeout). */
function settled(auth: EkaAuth): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = auth.subscribe((snapshot) => {
      if (snapshot.state === 'refreshing') return;
      unsubscribe();
      resolve();
    });
    if (auth.state !== 'refreshing') {
      unsubscribe();
      resolve();
    }
  });
}

/** The session lock stayed taken for the whole timeout: another run is stuck, or left it behind. */
function lockedDiagnosis(cachePath: string, timeoutMs: number): Diagnosis {
  return {
    id: 'cache-locked',
    severity: 'error',
    step: 'login',
    code: 'TIMEOUT',
    summary: `Another eka-auth run held the session lock ${cachePath}.lock through every attempt (${timeoutMs} ms each).`,
    nextStep: `If no other eka-auth is running, delete ${cachePath}.lock; or run with --no-cache.`,
  };
}
