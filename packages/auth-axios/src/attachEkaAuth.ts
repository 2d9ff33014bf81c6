import { type AuthDecision, type EkaAuth, followRedirects } from '@eka/auth-core';
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
  /** The caller's own `timeout`, `beforeRedirect` and `env.fetch`, kept for a config that is sent again. */
  timeout?: number;
  user?: unknown;
  fetch?: Fetch;
  /** A redirect hop left the allowed origins: the token is gone for good and a 401 is not ours. */
  left: boolean;
  /** The caller's signal, bounded by the request's `timeout` when it has one. */
  signal?: AbortSignal;
  /** End of the request's `timeout` (epoch ms), covering the waits and the re-send. */
  deadlineMs?: number;
  /**
   * The caller's `data` before axios' `transformRequest` (which turns a plain object into JSON, a
   * urlencoded string or a multipart stream): what decides replayability, and what the re-send
   * transforms afresh.
   */
  body: unknown;
}

type Config = InternalAxiosRequestConfig & { [KEY]?: () => State; env?: { fetch?: Fetch } };
type Fetch = (input: any, init?: RequestInit) => Promise<Response>;

/** The part of axios' interceptor manager we use (`handlers` is public, but missing from older typings). */
interface Manager {
  use(...handlers: any[]): number;
  eject(id: number): void;
  handlers?: unknown[] | null;
  forEach?(fn: (handler: unknown) => void): void;
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
 * - Order: response interceptors registered before this call see every attempt (the 401, then the
 *   re-sent response); those registered after it run once per call, on the final outcome. Request
 *   interceptors run once per attempt.
 * - The request's `timeout` covers waiting for a token and the re-send; its `signal` aborts both.
 * - The re-send starts from the caller's `data` as given, so axios transforms a plain object
 *   (JSON, urlencoded, `postForm` multipart) afresh. Streamed bodies (Node `Readable`, web
 *   `ReadableStream`) are never re-sent: on 401 the token is refreshed and the request rejects with
 *   `NonReplayableBodyError`.
 * - Redirects: a hop that leaves the allowed origins loses the token headers (`auth`,
 *   `Authorization`, `client-id`) for the rest of the chain, and its 401 is not answered. Node's
 *   `http` adapter: your own `beforeRedirect` still runs. `fetch` adapter (axios ≥ 1.12, outside
 *   browsers): followed by hand through your `env.fetch` (or the global `fetch`), at most
 *   `maxRedirects` hops. Browsers and older axios' `fetch` adapter follow redirects themselves and
 *   keep the custom `auth` header: use the core's `header: 'authorization'` there.
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
   * axios' `fetch` adapter (≥ 1.12 reads `config.env.fetch`) lets fetch follow redirects, and fetch
   * forwards the custom `auth` header and `client-id` to any origin. So a request with our token gets
   * this fetch instead: it sends with `redirect: 'manual'` and follows by hand with the core's
   * `followRedirects`, which drops the token headers once a hop leaves the allowed origins (up to
   * `maxRedirects` hops, like axios' other adapters). It calls the caller's own `env.fetch`, or
   * `globalThis.fetch` looked up per call. One function per (fetch, limit): axios caches its adapter
   * per `env.fetch`, so a new one per request would grow that cache without end. Not in browsers,
   * whose `redirect: 'manual'` answers cannot be followed.
   */
  const fetchers = new Map<Fetch | undefined, Record<number, Fetch>>();
  const fetcher = (own: Fetch | undefined, max = 20) => {
    let byMax = fetchers.get(own);
    if (!byMax) fetchers.set(own, (byMax = {}));
    if (byMax[max]) return byMax[max];
    const send: Fetch = (input, init) => (own ?? fetch)(input, init);
    // A wrapper around another attach's wrapper is harmless: that one gets `redirect: 'manual'` and passes it on.
    const wrapper: Fetch = async (input, init) => {
      if ((init?.redirect ?? input.redirect) !== 'follow') return send(input, init);
      // Kept for a 307/308, which re-sends the body; released otherwise.
      const spare = input.body && input.clone();
      const response = await send(input, { ...init, redirect: 'manual' });
      let body: Blob | undefined;
      if (response.status === 307 || response.status === 308) body = await spare?.blob();
      else spare?.body?.cancel().catch(() => {});
      return followRedirects(
        auth,
        (url, hop) => {
          if (!auth.isAllowedUrl(url)) left.add(input);
          return send(url, hop);
        },
        response,
        input.url,
        { ...init, method: input.method, headers: input.headers, body, signal: input.signal },
        max,
      );
    };
    return (byMax[max] = wrapper);
  };
  /** fetch adapter requests whose redirects left the allowed origins: their 401 is not ours. */
  const left = new WeakSet<object>();

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
      const own = previous ? previous.fetch : config.env?.fetch;
      const fresh: State = {
        // The request's timeout is its patience: past it, a back-off fails at once with TRANSIENT.
        decision: await auth.authorize(resolve(config), { signal, maxWaitMs: timeout || undefined }),
        resend: false,
        timeout,
        user,
        fetch: own,
        left: false,
        signal,
        deadlineMs,
        body: config.data,
      };
      config[KEY] = () => fresh;
      state = fresh;
      if (!fresh.decision.headers) {
        // Sent again to an origin that no longer gets the token: no `[redacted]` placeholders either.
        if (previous)
          for (const name of tokens) if (config.headers.get(name) === REDACTED) config.headers.delete(name);
        config.beforeRedirect = user as Config['beforeRedirect'];
        if (previous) config.env = { ...config.env, fetch: own };
      } else {
        if (!(globalThis as any).location)
          config.env = { ...config.env, fetch: fetcher(own, config.maxRedirects) };
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
      replayable: !isStream(state.body),
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
    config.data = state.body;
    return resend(config);
  };
  /**
   * Re-send through the same instance, but with the response interceptors up to and including ours
   * only: the ones after ours are still ahead in the first attempt's chain and must run once, on the
   * outcome. axios reads the chain with `forEach` synchronously inside `request()`, so a one-shot
   * `forEach` cut at our entry covers this call alone; the handler array and its ids stay untouched.
   */
  const resend = (config: Config) => {
    const manager = managers[1]!;
    const all = manager.forEach!;
    manager.forEach = (fn) => {
      delete manager.forEach;
      let on = true;
      all.call(manager, (handler) => {
        if (on) fn(handler);
        if (handler === entries[1]) on = false;
      });
    };
    try {
      return instance.request(config);
    } finally {
      delete manager.forEach;
    }
  };
  /** A response handed back: its `config.headers` read `[redacted]` too (sending the config again still works). */
  const done = (response: AxiosResponse) => {
    if ((response?.config as Config | undefined)?.[KEY]?.().decision.headers) scrub(response.config.headers);
    return response;
  };
  const ours = (response: AxiosResponse | undefined): response is AxiosResponse => {
    const state = (response?.config as Config | undefined)?.[KEY]?.();
    return (
      response?.status === 401 && !!state?.decision.headers && !state.left && !left.has(response.request)
    );
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
