import { type AuthDecision, type EkaAuth, followRedirects, UNWRAPPED } from '@eka/auth-core';

/** Options for {@link createAuthFetch}. */
export interface AuthFetchOptions {
  /** The fetch to call. Default: `globalThis.fetch` looked up per call (so msw and friends still apply), never one of our own wrappers. */
  fetch?: typeof fetch;
  /** Most redirects followed by hand when a token is attached. Default 20 (like fetch). */
  maxRedirects?: number;
}

const isBrowser = typeof document !== 'undefined';

/** Bodies fetch can send again unchanged; streams and async iterables cannot be replayed. */
const canReplay = (body: unknown) =>
  body == null ||
  typeof body === 'string' ||
  body instanceof ArrayBuffer ||
  ArrayBuffer.isView(body) ||
  body instanceof URLSearchParams ||
  (typeof Blob !== 'undefined' && body instanceof Blob) ||
  (typeof FormData !== 'undefined' && body instanceof FormData);

/** The original fetch behind any chain of our wrappers (so tokens never pass through two). */
const unwrap = (f: any): typeof fetch => {
  while (f?.[UNWRAPPED]) f = f[UNWRAPPED];
  return f;
};

/**
 * A fetch with Eka auth: same signature and semantics as `fetch`. Requests to `allowedOrigins` get
 * the token headers; a 401 is answered by the core (one shared refresh) and the request is re-sent
 * once. Other origins pass through untouched.
 *
 * - Bodies: string, ArrayBuffer/typed arrays, Blob, URLSearchParams and FormData are re-sent as they
 *   were given. A `ReadableStream`/async-iterable body is never re-sent: on 401 the token is still
 *   refreshed and the call rejects with `NonReplayableBodyError`. A `Request` with a body is cloned
 *   once so it can be replayed.
 * - Redirects (outside browsers) are followed by hand so the token is dropped when a hop leaves the
 *   allowed origins — also for the custom `auth` header, which fetch itself would forward.
 * - The caller's `signal` covers waiting for a refresh and the retry.
 *
 * @throws EkaAuthError subclasses (`code`): UNAUTHORIZED, LONG_LIVED_TOKEN_REJECTED, NON_REPLAYABLE_BODY,
 *   CREDENTIALS_REJECTED, TRANSIENT, TIMEOUT, ABORTED, LOGGED_OUT — plus whatever fetch itself throws.
 */
export function createAuthFetch(auth: EkaAuth, options: AuthFetchOptions = {}): typeof fetch {
  const inner: typeof fetch = (target, init) => unwrap(options.fetch ?? globalThis.fetch)(target, init);
  const maxRedirects = options.maxRedirects ?? 20;

  return async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request =
      typeof input === 'object' && 'url' in input && !(input instanceof URL) ? input : undefined;
    let url = request ? request.url : String(input);
    if ((globalThis as any).location && !/^[a-z][a-z\d+.-]*:/i.test(url))
      url = new URL(url, location.href).href;
    const signal = init?.signal ?? request?.signal;
    let decision = await auth.authorize(url, { signal });
    if (!decision.headers) return inner(input, init);

    const body = init?.body !== undefined ? init.body : request?.body;
    const spare = request?.body && init?.body === undefined ? request.clone() : undefined;
    // One Headers object: the caller's init headers over the Request's own (when given a Request).
    const headers = new Headers(request ? request.headers : init?.headers);
    if (request && init?.headers)
      for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
    const mode = init?.redirect ?? request?.redirect ?? 'follow';
    let first = true;

    const send = async (using: AuthDecision): Promise<Response> => {
      for (const [name, value] of Object.entries(using.headers!)) headers.set(name, value);
      // A Request without a body can be sent again as is; one with a body is replayed from its clone.
      const source = request && (first || !spare ? request : spare);
      first = false;
      const base: RequestInit = source
        ? { headers, redirect: mode }
        : { ...init, headers, redirect: mode, body: body as BodyInit | null | undefined };
      const target: RequestInfo | URL = source ?? url;
      if (mode !== 'follow' || isBrowser) return inner(target, base);
      // Follow by hand so the token is dropped when a hop leaves the allowed origins.
      const manual = { ...base, redirect: 'manual' as const };
      const method = init?.method ?? request?.method;
      return followRedirects(
        auth,
        inner,
        await inner(target, manual),
        url,
        { ...manual, method },
        maxRedirects,
      );
    };

    for (;;) {
      const response = await send(decision);
      // A 401 from wherever a redirect led outside the allowed origins is not ours to answer.
      if (response.status !== 401 || (response.url && !auth.isAllowedUrl(response.url))) return response;
      const outcome = await auth.handleUnauthorized(decision, {
        signal,
        replayable: spare ? true : canReplay(body),
        requestId: response.headers.get('apigw-requestid'),
      });
      if (outcome.action === 'pass') return response;
      // The 401's body is not needed. An abort may have errored its stream already: then cancel()
      // rejects, and that rejection must not go unhandled (Node would end the process).
      response.body?.cancel().catch(() => {});
      if (outcome.action === 'fail') throw outcome.error;
      decision = outcome.decision;
    }
  };
}
