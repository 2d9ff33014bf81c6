import { type AuthDecision, type EkaAuth, isEkaAuthError } from '@eka/auth-core';
import type { Got, Hooks, Options } from 'got';

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
}

/** The options our helpers read (got's hooks get `NormalizedOptions`, a refined `Options`). */
type Read = Pick<Options, 'context' | 'signal' | 'timeout'>;

const state = (options: Read): State | undefined => (options.context as any)[KEY]?.();

/** The caller's signal, bounded by got's `timeout.request`, for one wait for a token. */
const waitSignal = ({ signal, timeout: { request } }: Read) =>
  request && AbortSignal.any
    ? AbortSignal.any([AbortSignal.timeout(request), ...(signal ? [signal as AbortSignal] : [])])
    : (signal as AbortSignal | undefined);

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
 * - A redirect hop that leaves the allowed origins loses the token headers (`auth`, `Authorization`,
 *   `client-id`) for the rest of the chain; a 401 from there is handed back untouched.
 * - Our errors reach you as they are (`EkaAuthError` subclasses), not wrapped in got's `RequestError`:
 *   UNAUTHORIZED, LONG_LIVED_TOKEN_REJECTED, NON_REPLAYABLE_BODY, CREDENTIALS_REJECTED, TRANSIENT,
 *   TIMEOUT, ABORTED, LOGGED_OUT, DISPOSED.
 *
 * @example
 * const api = got.extend({ prefixUrl: 'https://api.eka.care' }, ekaAuthHooks(auth));
 */
export function ekaAuthHooks(auth: EkaAuth): EkaAuthHooks {
  const strip = [...auth.tokenHeaders, 'client-id'];
  // FormData bodies by request, seen before got encodes them (a WeakMap per binding, no module state).
  const forms = new WeakMap<object, FormData>();

  return {
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
              decision: await auth.authorize(String(options.url), { signal: waitSignal(options) }),
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
        async (response, retryWithMergedOptions) => {
          const { options } = response.request;
          const current = state(options);
          if (response.statusCode !== 401 || !current?.decision.headers || current.left) return response;
          const body = options.body;
          const outcome = await auth.handleUnauthorized(current.decision, {
            signal: waitSignal(options),
            replayable:
              !!current.form || body == null || typeof body === 'string' || ArrayBuffer.isView(body),
            requestId: response.headers['apigw-requestid'] as string | undefined,
          });
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
              ...(current.form && { 'content-type': undefined, 'content-length': undefined }),
            },
            ...(current.form && { body: current.form }),
          });
        },
      ],
      beforeError: [(error) => (isEkaAuthError(error.cause) ? error.cause : error)],
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
