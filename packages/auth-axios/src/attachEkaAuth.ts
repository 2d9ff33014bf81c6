import type { AuthDecision, EkaAuth } from '@eka/auth-core';
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/**
 * Where the per-request state sits on an axios config. A string key, because older axios (1.7) drops
 * symbol keys when it merges the config of the re-send; the value is a function, so mergeConfig
 * passes it by reference and `JSON.stringify(config)` (e.g. `AxiosError#toJSON`) leaves it out.
 */
const KEY = '__ekaAuth';

/** What one request carries from its first attempt to its re-send. Mutated in place. */
interface State {
  /** The decision of the attempt in flight. */
  decision: AuthDecision;
  /** True once the attempt in flight is our one re-send. */
  retry: boolean;
  /** A redirect hop left the allowed origins: the token is gone for good and a 401 is not ours. */
  left: boolean;
  /** The caller's signal, bounded by the request's `timeout` when it has one. */
  signal?: AbortSignal;
  /** End of the request's `timeout` (epoch ms), covering the waits and the re-send. */
  deadlineMs?: number;
}

type Config = InternalAxiosRequestConfig & { [KEY]?: () => State };

/** The part of axios' interceptor manager we use (`handlers` is public, but missing from older typings). */
interface Manager {
  use(...handlers: any[]): number;
  eject(id: number): void;
  handlers?: unknown[] | null;
}

/** axios' `isAbsoluteURL`: a scheme, or protocol-relative `//`. */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/** A Node `Readable` or a web `ReadableStream`: read once, never re-sent. */
const isStream = (data: any) => typeof data?.pipe === 'function' || typeof data?.getReader === 'function';

/**
 * Add Eka auth to an axios instance (`axios` itself or one from `axios.create()`): requests to the
 * allowed origins get the token headers; a 401 is answered by the core (one refresh shared by all
 * requests) and the request is re-sent once through the same instance. Other origins are untouched.
 *
 * - Call it after registering your own interceptors: axios runs response interceptors in order, so
 *   ours comes last and the re-send passes through each of yours exactly once.
 * - The request's `timeout` covers waiting for a token and the re-send; its `signal` aborts both.
 * - Streamed bodies (Node `Readable`, web `ReadableStream`) are never re-sent: on 401 the token is
 *   refreshed and the request rejects with `NonReplayableBodyError`.
 * - Node redirects: a hop that leaves the allowed origins loses the token headers (`auth`,
 *   `Authorization`, `client-id`) for the rest of the chain; your own `beforeRedirect` still runs.
 *
 * @returns `detach()`, which removes both interceptors (idempotent; a no-op after `clear()`).
 * @throws EkaAuthError subclasses (`code`) through the request promise: UNAUTHORIZED,
 *   LONG_LIVED_TOKEN_REJECTED, NON_REPLAYABLE_BODY, CREDENTIALS_REJECTED, TRANSIENT, TIMEOUT, ABORTED,
 *   LOGGED_OUT, DISPOSED — everything else is axios' own error, unchanged.
 */
export function attachEkaAuth(instance: AxiosInstance, auth: EkaAuth): () => void {
  const strip = [...auth.tokenHeaders, 'client-id'];
  /**
   * Where axios sends the request (`buildFullPath`): `url` when absolute, else under `baseURL` — so
   * the origin, which is all the allowlist needs, is `baseURL`'s. Cheaper than `instance.getUri()`,
   * which merges the whole config again (interceptors already get the merged config).
   */
  const resolve = ({
    baseURL,
    url = '',
    allowAbsoluteUrls,
  }: InternalAxiosRequestConfig & { allowAbsoluteUrls?: boolean }) => {
    const full = baseURL && (!ABSOLUTE.test(url) || allowAbsoluteUrls === false) ? baseURL : url;
    return (globalThis as any).location ? new URL(full, location.href).href : full;
  };

  /** Dispatch-time check, after every request interceptor: a URL rewritten to another origin loses the token (and its 401 is not ours). */
  function guard(this: Config, data: unknown, headers: any) {
    if (!auth.isAllowedUrl(resolve(this))) {
      this[KEY]!().left = true;
      for (const name of strip) headers.delete(name);
    }
    return data;
  }

  const onRequest = async (config: Config) => {
    let state = config[KEY]?.();
    if (!state?.retry) {
      const { timeout } = config;
      const caller = config.signal as AbortSignal | undefined;
      const bounded = !!timeout && !!AbortSignal.any;
      const signal = bounded
        ? AbortSignal.any([AbortSignal.timeout(timeout), ...(caller instanceof AbortSignal ? [caller] : [])])
        : caller;
      const deadlineMs = bounded ? Date.now() + timeout : undefined;
      const fresh: State = {
        decision: await auth.authorize(resolve(config), { signal }),
        retry: false,
        left: false,
        signal,
        deadlineMs,
      };
      config[KEY] = () => fresh;
      state = fresh;
      if (fresh.decision.headers) {
        config.transformRequest = [...[config.transformRequest ?? []].flat(), guard];
        const user = config.beforeRedirect;
        config.beforeRedirect = (options: any, ...rest: unknown[]) => {
          if (!auth.isAllowedUrl(options.href)) fresh.left = true;
          if (fresh.left)
            for (const name of Object.keys(options.headers))
              if (strip.includes(name.toLowerCase())) delete options.headers[name];
          (user as any)?.(options, ...rest);
        };
      }
    }
    if (!state.decision.headers) return config;
    config.headers.set(state.decision.headers);
    if (state.deadlineMs) config.timeout = Math.max(1, state.deadlineMs - Date.now());
    return config;
  };

  /** A 401 of a request that carried our token: ask the core, then re-send once or give up. */
  const unauthorized = async (response: AxiosResponse, failure?: unknown) => {
    const config = response.config as Config;
    const state = config[KEY]!();
    const outcome = await auth.handleUnauthorized(state.decision, {
      signal: state.signal,
      replayable: !isStream(config.data),
      requestId: response.headers?.['apigw-requestid'],
    });
    if (outcome.action === 'pass') {
      if (failure) throw failure;
      return response;
    }
    // The 401's body is not needed: a Node stream is destroyed, a web stream (fetch adapter) cancelled —
    // and its cancel() may reject when an abort errored the stream already: handled, never left unhandled.
    if (isStream(response.data)) response.data.destroy?.() ?? response.data.cancel?.().catch(() => {});
    if (outcome.action === 'fail') throw outcome.error;
    state.decision = outcome.decision;
    state.retry = true;
    return instance.request(config);
  };
  const ours = (response: AxiosResponse | undefined): response is AxiosResponse => {
    const state = (response?.config as Config | undefined)?.[KEY]?.();
    return response?.status === 401 && !!state?.decision.headers && !state.left;
  };

  const managers: Manager[] = [instance.interceptors.request, instance.interceptors.response];
  const ids = [
    managers[0]!.use(onRequest),
    managers[1]!.use(
      (response: AxiosResponse) => (ours(response) ? unauthorized(response) : response),
      (error: AxiosError & { cause?: AxiosError }) => {
        // An error-normalising interceptor registered before ours may have wrapped the axios error.
        const response = error?.response ?? error?.cause?.response;
        return ours(response) ? unauthorized(response, error) : Promise.reject(error);
      },
    ),
  ];
  // Our handler objects, to tell later whether `clear()` already removed them.
  const entries = managers.map((manager) => manager.handlers?.at(-1));
  return () =>
    managers.forEach((manager, i) => {
      const list = manager.handlers ?? [];
      const index = list.lastIndexOf(entries[i]);
      if (index < 0) return;
      manager.eject(ids[i]!);
      // Older axios leaves a `null` slot: when it is the last one, take it back, so attaching and
      // detaching any number of times leaves the handler array exactly as it was.
      if (index === list.length - 1 && list[index] === null) list.pop();
    });
}
