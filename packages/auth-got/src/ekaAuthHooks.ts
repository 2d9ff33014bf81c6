import { type AuthDecision, type EkaAuth, isEkaAuthError } from '@eka/auth-core';
import type { Got, HandlerFunction, Hooks, Options, OptionsInit, Request, RequestError, Response } from 'got';

/**
 * Where the per-request state sits in `options.context` (got copies the context shallowly, symbols
 * included). The value is a function, so the state is shared by reference and stays out of logs.
 */
const KEY = Symbol('@eka/auth-got');

/** What one request carries through redirects, got's own retries and our one re-send. Mutated in place. */
interface State {
  /** The decision of the attempt in flight. */
  decision: AuthDecision;
  /** A redirect hop left the allowed origins: the token is gone for good and a 401 is not ours. */
  left: boolean;
  /** A `FormData` body as given: got encodes it into a one-shot generator before the hooks run. */
  form?: FormData;
}

/** The hooks to pass to `got.extend()`, as returned by {@link ekaAuthHooks}. */
export interface EkaAuthHooks {
  /** `init`, `beforeRequest`, `beforeRedirect`, `afterResponse` and `beforeError` hooks. */
  hooks: Partial<Hooks>;
  /**
   * One handler that makes every error safe to log before your code sees it, including the error of an
   * aborted `signal`, for which got runs no hook (promise calls and `got.stream()`).
   */
  handlers: HandlerFunction[];
}

/** The options our helpers read (got's hooks get `NormalizedOptions`, a refined `Options`). */
type Read = Pick<Options, 'context' | 'signal' | 'timeout'>;

const state = (options: Read): State | undefined => (options.context as any)?.[KEY]?.();

/** What token headers read as in every object a failed request leaves behind. */
const REDACTED = '[redacted]';

/** Links from a got response to live Node objects (the request's raw header text, sockets shared with other requests). */
const LIVE = ['req', 'socket', 'client'];

/** The caller's signal, bounded by got's `timeout.request`, for one wait for a token. */
const waitSignal = ({ signal, timeout: { request } }: Read) => {
  if (!request || !AbortSignal.any) return signal as AbortSignal | undefined;
  const deadline = AbortSignal.timeout(request);
  // `AbortSignal.any` holds its sources weakly and a timeout signal nobody references may be collected
  // before it fires (then the wait would outlast the request's timeout): keep it alive with the result.
  return Object.assign(AbortSignal.any([deadline, ...(signal ? [signal as AbortSignal] : [])]), { deadline });
};

/**
 * Got hooks that add Eka auth: requests to the allowed origins get the token headers; a 401 is
 * answered by the core (one refresh shared by all requests) and re-sent once with
 * `retryWithMergedOptions` (the new headers travel in the merged options). Other origins are untouched.
 *
 * - Extend with these last, so they see the final URL and your `afterResponse` hooks run once per attempt.
 * - got's own retries (network errors, 5xx) keep working and never cause a refresh.
 * - `timeout.request` bounds each wait for a token like it bounds an attempt; a `signal` aborts all of it.
 * - Strings, Buffers, typed arrays, `json`, `form` and `FormData` bodies are re-sent; a stream or
 *   iterable body is not: on 401 the token is refreshed and the request rejects with `NonReplayableBodyError`.
 * - `got.stream()` gets the token but is never re-sent (you hold the stream, maybe piped): on 401 the
 *   token is refreshed for the next call and the stream errors with `NonReplayableBodyError` (with
 *   `throwHttpErrors: false` the 401 response streams as it is, and the token is refreshed too).
 * - A redirect hop that leaves the allowed origins loses the token headers (`auth`, `Authorization`,
 *   `client-id`) for the rest of the chain; a 401 from there is handed back untouched.
 * - Our errors reach you as they are (`EkaAuthError` subclasses), not wrapped in got's `RequestError`:
 *   UNAUTHORIZED, LONG_LIVED_TOKEN_REJECTED, NON_REPLAYABLE_BODY, CREDENTIALS_REJECTED, TRANSIENT,
 *   TIMEOUT, ABORTED, LOGGED_OUT, DISPOSED. got's own errors reach you with the token redacted
 *   (`[redacted]` in `error.options.headers`, a plain `error.request`), safe to log.
 *
 * @example
 * const api = got.extend({ prefixUrl: 'https://api.eka.care' }, ekaAuthHooks(auth));
 */
export function ekaAuthHooks(auth: EkaAuth): EkaAuthHooks {
  const strip = [...auth.tokenHeaders, 'client-id'];
  /**
   * Make got's error safe to log however it is serialised (`util.inspect`, `JSON.stringify`, error
   * trackers): token headers in `error.options.headers` read `[redacted]`; `error.request` becomes a
   * plain view (`options`, `requestUrl`, `redirectUrls`, `retryCount`); `error.response` keeps its data
   * but hides its links to Node's request and socket. Runs on the final error only, after got's own
   * retries; a new request through the hooks sets the live token again.
   */
  const redact = (error: RequestError) => {
    const { options } = error;
    // Our own errors (and anything without got's options) carry no token.
    if (!options || !state(options)?.decision.headers) return error;
    for (const name of auth.tokenHeaders)
      if (options.headers[name] !== undefined) options.headers[name] = REDACTED;
    const { requestUrl, redirectUrls, retryCount } = (error.request ?? {}) as Partial<Request>;
    const request = { options, requestUrl, redirectUrls, retryCount };
    Object.defineProperty(error, 'request', {
      value: request,
      enumerable: false,
      configurable: true,
      writable: true,
    });
    const response = error.response as any;
    if (response) {
      response.request = request;
      for (const name of LIVE)
        if (name in response) Object.defineProperty(response, name, { enumerable: false });
    }
    return error;
  };
  // FormData bodies by request, seen before got encodes them (a WeakMap per binding, no module state).
  const forms = new WeakMap<object, FormData>();

  /**
   * got 14's promise (a `PCancelable`, not a native promise), failing with a redacted error: its own
   * `then`/`catch`/`finally` redact the error (in place) before any of your handlers, `await`s and
   * got's shortcuts (`.json()`, …) see it. got hands back the very promise it made (`cancel()` kept);
   * a rejection nobody handles is still reported as unhandled.
   */
  function then(this: any, onFulfilled?: unknown, onRejected?: unknown) {
    return Object.getPrototypeOf(this).then.call(this, onFulfilled, (error: RequestError) => {
      redact(error);
      if (typeof onRejected === 'function') return onRejected(error);
      throw error;
    });
  }
  function catchError(this: any, onRejected?: unknown) {
    return this.then(undefined, onRejected);
  }
  function settle(this: any, onFinally?: () => void) {
    return this.then().finally(onFinally);
  }

  /** The state of a request whose 401 is ours to answer: it carried our token and no hop left. */
  const ours = (response: Response | undefined, options: Options) => {
    const current = state(options);
    return response?.statusCode === 401 && current?.decision.headers && !current.left ? current : undefined;
  };
  /** Tell the core about a 401 (`replayable: false` for a stream or iterable body, and for `got.stream()`). */
  const report = (response: Response, options: Options, current: State, replayable: boolean) =>
    auth.handleUnauthorized(current.decision, {
      signal: waitSignal(options),
      maxWaitMs: options.timeout.request,
      replayable,
      requestId: response.headers['apigw-requestid'] as string | undefined,
    });

  /** A 401 of a request that carried our token: ask the core, then re-send once or give up. */
  const answer = async (
    response: Response,
    options: Options,
    current: State,
    retryWithMergedOptions: (options: OptionsInit) => never,
  ) => {
    const body = options.body;
    const outcome = await report(
      response,
      options,
      current,
      !!current.form || body == null || typeof body === 'string' || ArrayBuffer.isView(body),
    );
    if (outcome.action === 'pass') return response;
    if (outcome.action === 'fail') throw outcome.error;
    current.decision = outcome.decision;
    return retryWithMergedOptions({
      // Keep the hooks after ours for the re-send (they run once per attempt, and so does ours).
      preserveHooks: true,
      // got counts this re-send as a retry: give it back, so its own retries keep their budget.
      retry: { limit: options.retry.limit! + 1 },
      headers: {
        ...outcome.decision.headers,
        // A FormData body is encoded again, with a new boundary.
        ...(current.form && { 'content-type': undefined }),
      },
      ...(current.form && { body: current.form }),
    });
  };

  return {
    handlers: [
      (options, next) => {
        const result: any = next(options);
        // got may pass no options when it could not build them (that error holds no token).
        if (!options) return result;
        if (options.isStream) {
          const emit = result.emit;
          result.emit = function (this: Request, name: string | symbol, ...args: unknown[]) {
            // An aborted `signal` skips `beforeError`: redact the error as the stream emits it.
            if (name === 'error' && args[0]) redact(args[0] as RequestError);
            // With `throwHttpErrors: false` a 401 streams to the caller as it is: still refresh the
            // token for the next call (the core's answer, always `fail` here, is not needed).
            const current = name === 'response' && ours(args[0] as Response, this.options);
            if (current) report(args[0] as Response, this.options, current, false).catch(() => {});
            return emit.call(this, name, ...args);
          };
          return result;
        }
        // got 15+ makes a native promise: `await` ignores an own `then` on it, so an error that skips
        // `beforeError` (an aborted `signal`) would reach the caller unredacted. Hand back a promise of
        // ours instead: got copies its methods (`json()`, `on()`, …) onto it, and they await it.
        if (Object.getPrototypeOf(result) === Promise.prototype)
          return result.then(undefined, (error: RequestError) => {
            throw redact(error);
          });
        // biome-ignore lint/suspicious/noThenProperty: got's promise is a thenable; its own `then` redacts.
        result.then = then;
        result.catch = catchError;
        result.finally = settle;
        return result;
      },
    ],
    hooks: {
      init: [
        (init, options) => {
          if (init.body instanceof FormData) forms.set(options, init.body);
        },
      ],
      beforeRequest: [
        async (options) => {
          let current = state(options);
          if (!current) {
            const fresh: State = {
              decision: await auth.authorize(String(options.url), {
                signal: waitSignal(options),
                // got's `timeout.request` is the request's patience: a longer back-off fails at once.
                maxWaitMs: options.timeout.request,
              }),
              left: false,
              form: forms.get(options),
            };
            (options.context as any)[KEY] = () => fresh;
            current = fresh;
          }
          // Redirect hops and got's own retries come here again: never re-attach once a hop left.
          if (current.decision.headers && !current.left)
            Object.assign(options.headers, current.decision.headers);
        },
      ],
      beforeRedirect: [
        (options) => {
          const current = state(options);
          if (!current?.decision.headers) return;
          if (!auth.isAllowedUrl(String(options.url))) current.left = true;
          if (current.left) for (const name of strip) delete options.headers[name];
        },
      ],
      afterResponse: [
        // Not async: most responses go straight back, without a promise of ours in got's chain.
        (response, retryWithMergedOptions) => {
          const { options } = response.request;
          const current = ours(response, options);
          return current ? answer(response, options, current, retryWithMergedOptions) : response;
        },
      ],
      beforeError: [
        (error) => {
          if (isEkaAuthError(error.cause)) return error.cause;
          // `got.stream()` runs no `afterResponse`: its 401 arrives here as an HTTPError. It is not
          // re-sent (the caller holds this stream, maybe piped); the core refreshes the token for the
          // next call and the stream fails with its typed error (NON_REPLAYABLE_BODY).
          const { options, response } = error;
          const current = options?.isStream && ours(response, options);
          if (!current) return redact(error);
          return report(response!, options, current, false).then((outcome) =>
            outcome.action === 'fail' ? outcome.error : redact(error),
          );
        },
      ],
    },
  };
}

/**
 * `got.extend()` with {@link ekaAuthHooks}: a got instance that adds Eka auth to the allowed origins.
 *
 * @example
 * const api = withEkaAuth(got.extend({ prefixUrl: 'https://api.eka.care' }), auth);
 * const patient = await api.get('profiles/v1/patient/123').json();
 */
export function withEkaAuth(instance: Got, auth: EkaAuth): Got {
  return instance.extend(ekaAuthHooks(auth));
}
