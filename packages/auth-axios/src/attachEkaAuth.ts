import type { AuthDecision, EkaAuth } from '@eka/auth-core';
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/**
 * Where the per-request state sits on an axios config. A string key, because older axios (1.7) drops
 * symbol keys when it merges the config of the re-send; the value is a function, so mergeConfig
 * passes it by reference and `JSON.stringify(config)` (e.g. `AxiosError#toJSON`) leaves it out.
 */
const KEY = '__ekaAuth';

/** What token headers read as in every object a request leaves behind. */
const REDACTED = '[redacted]';

/** What one request carries from its first attempt to its re-send. Mutated in place. */
interface State {
  /** The decision of the attempt in flight. */
  decision: AuthDecision;
  /** True while our one re-send is on its way; any other send of this config (axios-retry, yours) starts afresh. */
  resend: boolean;
  /** The caller's own `timeout` and `beforeRedirect`, kept for a config that is sent again. */
  timeout?: number;
  user?: unknown;
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

/**
 * The request's deadline combined with the caller's signal. `AbortSignal.any` holds its sources weakly
 * and a timeout signal nobody references may be collected before it fires: the result keeps it alive.
 */
const keepDeadline = (deadline: AbortSignal, caller?: AbortSignal) =>
  Object.assign(AbortSignal.any(caller ? [deadline, caller] : [deadline]), { deadline });

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
 *   LOGGED_OUT, DISPOSED — everything else is axios' own error, with the token headers in it redacted
 *   (`[redacted]`) so it is safe to log; sending its `config` again still works.
 */
export function attachEkaAuth(instance: AxiosInstance, auth: EkaAuth): () => void {
  const tokens = auth.tokenHeaders;
  const strip = [...tokens, 'client-id'];
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

  /**
   * True when the dispatch-time {@link guard} is needed: another request interceptor may rewrite
   * the URL after ours (which one runs after ours depends on axios' version and its
   * `transitional.legacyInterceptorReqResOrdering`, so any other one counts), or the config has a
   * transform other than the instance's defaults.
   */
  const needsGuard = (config: Config) => {
    const handlers = managers[0]!.handlers;
    if (!handlers) return true;
    for (const handler of handlers) if (handler && handler !== entries[0]) return true;
    const own = config.transformRequest;
    const defaults = instance.defaults.transformRequest;
    if (own === undefined || own === defaults) return false;
    if (!Array.isArray(own) || !Array.isArray(defaults)) return true;
    return own.length !== defaults.length || own.some((transform, i) => transform !== defaults[i]);
  };
  /** The request's transforms with the guard last (once). */
  const withGuard = (transforms: Config['transformRequest']) =>
    Array.isArray(transforms)
      ? transforms.includes(guard)
        ? transforms
        : [...transforms, guard]
      : transforms
        ? [transforms, guard]
        : [guard];

  /** Token header values in an axios headers object (or a plain one) → `[redacted]`, in place. */
  const scrub = (headers: any) => {
    for (const name of Object.keys(headers ?? {}))
      if (tokens.includes(name.toLowerCase())) headers[name] = REDACTED;
    return headers;
  };
  /**
   * A secret-free stand-in for the request behind an error: Node's `ClientRequest` (also behind
   * follow-redirects) holds the token in its raw header text, and through its socket other requests'
   * too; fetch's `Request` holds it in `headers`. A browser's XMLHttpRequest exposes none: kept as is.
   */
  const view = (request: any) => {
    const node = request?._currentRequest ?? request;
    if (typeof node?.getHeaders === 'function')
      return {
        method: node.method,
        url: `${node.protocol}//${node.getHeader('host') ?? node.host}${node.path}`,
        headers: scrub(node.getHeaders()),
      };
    if (typeof request?.headers?.entries === 'function')
      return {
        method: request.method,
        url: request.url,
        headers: scrub(Object.fromEntries(request.headers)),
      };
    return request;
  };
  /**
   * Make an axios error safe to log however it is serialised (`toJSON`, `util.inspect`, error
   * trackers): token headers in `config.headers` read `[redacted]`, and `request` (also under
   * `response`) becomes a plain view. Re-sending `error.config` still works: `onRequest` sets the live
   * token again. Our own errors carry no secret and pass as they are, and so do errors of requests
   * that never got our token (their headers are the caller's own).
   */
  const redact = (error: any) => {
    if (error?.cause?.isAxiosError) redact(error.cause);
    if (!error?.isAxiosError || !error.config?.[KEY]?.().decision.headers) return error;
    scrub(error.config?.headers);
    if (error.request) error.request = view(error.request);
    if (error.response) {
      scrub(error.response.config?.headers);
      error.response.request = error.request ?? view(error.response.request);
    }
    return error;
  };

  const onRequest = async (config: Config) => {
    const previous = config[KEY]?.();
    let state: State;
    if (previous?.resend) {
      previous.resend = false;
      state = previous;
    } else {
      // A first send, or this config sent again (axios-retry, `api.request(error.config)`): authorize afresh.
      const timeout = previous ? previous.timeout : config.timeout;
      if (previous) config.timeout = timeout!;
      const caller = config.signal as AbortSignal | undefined;
      const bounded = !!timeout && !!AbortSignal.any;
      const signal = bounded
        ? keepDeadline(AbortSignal.timeout(timeout), caller instanceof AbortSignal ? caller : undefined)
        : caller;
      const deadlineMs = bounded ? Date.now() + timeout : undefined;
      const user = previous ? previous.user : config.beforeRedirect;
      const fresh: State = {
        // The request's timeout is its patience: past it, a back-off fails at once with TRANSIENT.
        decision: await auth.authorize(resolve(config), { signal, maxWaitMs: timeout || undefined }),
        resend: false,
        timeout,
        user,
        left: false,
        signal,
        deadlineMs,
      };
      config[KEY] = () => fresh;
      state = fresh;
      if (!fresh.decision.headers) {
        // Sent again to an origin that no longer gets the token: no `[redacted]` placeholders either.
        if (previous)
          for (const name of tokens) if (config.headers.get(name) === REDACTED) config.headers.delete(name);
        config.beforeRedirect = user as Config['beforeRedirect'];
      } else {
        if (needsGuard(config)) config.transformRequest = withGuard(config.transformRequest);
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
      maxWaitMs: state.deadlineMs && state.deadlineMs - Date.now(),
      replayable: !isStream(config.data),
      requestId: response.headers?.['apigw-requestid'],
    });
    if (outcome.action === 'pass') {
      if (failure) throw redact(failure);
      return done(response);
    }
    // The 401's body is not needed: a Node stream is destroyed, a web stream (fetch adapter) cancelled —
    // and its cancel() may reject when an abort errored the stream already: handled, never left unhandled.
    if (isStream(response.data)) response.data.destroy?.() ?? response.data.cancel?.().catch(() => {});
    if (outcome.action === 'fail') throw outcome.error;
    state.decision = outcome.decision;
    state.resend = true;
    return instance.request(config);
  };
  /** A response handed back: its `config.headers` read `[redacted]` too (sending the config again still works). */
  const done = (response: AxiosResponse) => {
    if ((response?.config as Config | undefined)?.[KEY]?.().decision.headers) scrub(response.config.headers);
    return response;
  };
  const ours = (response: AxiosResponse | undefined): response is AxiosResponse => {
    const state = (response?.config as Config | undefined)?.[KEY]?.();
    return response?.status === 401 && !!state?.decision.headers && !state.left;
  };

  const managers: Manager[] = [instance.interceptors.request, instance.interceptors.response];
  const ids = [
    managers[0]!.use(onRequest),
    managers[1]!.use(
      (response: AxiosResponse) => (ours(response) ? unauthorized(response) : done(response)),
      (error: AxiosError & { cause?: AxiosError }) => {
        // An error-normalising interceptor registered before ours may have wrapped the axios error.
        const response = error?.response ?? error?.cause?.response;
        return ours(response) ? unauthorized(response, error) : Promise.reject(redact(error));
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
