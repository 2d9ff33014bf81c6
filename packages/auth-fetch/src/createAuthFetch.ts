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

/** A plain object (or nothing): headers we can copy without building a `Headers`. */
const isPlain = (value: unknown): value is Record<string, string> | undefined => {
  if (value == null) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** The caller's plain headers without any of `tokens`' names (in any case), then `tokens`. */
const withTokens = (own: Record<string, string> | undefined, tokens: Readonly<Record<string, string>>) => {
  const out: Record<string, string> = {};
  for (const name in own) if (!Object.hasOwn(tokens, name.toLowerCase())) out[name] = own[name]!;
  for (const name in tokens) out[name] = tokens[name]!;
  return out;
};

/** One `Headers` object: the caller's init headers over the Request's own (when given a Request). */
const toHeaders = (request: Request | undefined, init: RequestInit | undefined) => {
  const headers = new Headers(request ? request.headers : init?.headers);
  if (request && init?.headers)
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
  return headers;
};

/**
 * Requests a response was made from, kept as long as the response: undici links a `Request` built from
 * another (`new Request(request, init)`, `clone()`) to its source's signal weakly, so a collected
 * source would no longer pass the caller's abort on while the body is read.
 */
const sources = new WeakMap<Response, [Request, Request | undefined]>();
const hold = (response: Response, given: Request | undefined, spare?: Request) => {
  if (given) sources.set(response, [given, spare]);
  return response;
};

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
    const given = typeof input === 'object' && 'url' in input && !(input instanceof URL) ? input : undefined;
    let url = given ? given.url : String(input);
    if ((globalThis as any).location && !/^[a-z][a-z\d+.-]*:/i.test(url))
      url = new URL(url, location.href).href;
    // `fetch(request, init)` means `new Request(request, init)`: init's method, body and signal win.
    const request = given && init ? new Request(given, init) : given;
    if (request !== given) init = undefined;
    const signal = init?.signal ?? request?.signal;
    let decision = await auth.authorize(url, { signal });
    if (!decision.headers) return hold(await inner(request ?? input, init), given);

    const body = init?.body !== undefined ? init.body : request?.body;
    let spare = request?.body ? request.clone() : undefined;
    const mode = init?.redirect ?? request?.redirect ?? 'follow';
    const manual = mode === 'follow' && !isBrowser;
    // A URL with the caller's own init: one init object per attempt, token headers over the caller's.
    // Plain headers stay a plain object (fetch builds its own `Headers` from it anyway).
    const plain = !request && isPlain(init?.headers);
    const headers = plain ? undefined : toHeaders(request, init);
    let first = true;

    const send = async (using: AuthDecision): Promise<Response> => {
      let sent: RequestInit;
      let target: RequestInfo | URL = url;
      if (plain) {
        const own = init?.headers as Record<string, string> | undefined;
        sent = { ...init, headers: withTokens(own, using.headers!), redirect: manual ? 'manual' : mode };
      } else {
        for (const name in using.headers) headers!.set(name, using.headers[name]!);
        // A Request without a body can be sent again as is; one with a body is replayed from a clone,
        // cloned again before it is used, in case a third send follows (a straggler's second chance).
        const source = request && (first || !spare ? request : spare);
        if (!first && spare) spare = spare.clone();
        if (source) target = source;
        sent = source
          ? { headers, redirect: manual ? 'manual' : mode }
          : {
              ...init,
              headers,
              redirect: manual ? 'manual' : mode,
              body: body as BodyInit | null | undefined,
            };
      }
      first = false;
      const response = await inner(target, sent);
      // Follow by hand so the token is dropped when a hop leaves the allowed origins.
      if (!manual || response.status < 300 || response.status > 399) return response;
      return followRedirects(
        auth,
        inner,
        response,
        url,
        { ...sent, method: init?.method ?? request?.method, signal },
        maxRedirects,
      );
    };

    for (;;) {
      const response = await send(decision);
      // A 401 from wherever a redirect led outside the allowed origins is not ours to answer.
      if (response.status !== 401 || (response.url && !auth.isAllowedUrl(response.url)))
        return hold(response, given, spare);
      const outcome = await auth.handleUnauthorized(decision, {
        signal,
        replayable: spare ? true : canReplay(body),
        requestId: response.headers.get('apigw-requestid'),
      });
      if (outcome.action === 'pass') return hold(response, given, spare);
      // The 401's body is not needed. An abort may have errored its stream already: then cancel()
      // rejects, and that rejection must not go unhandled (Node would end the process).
      response.body?.cancel().catch(() => {});
      if (outcome.action === 'fail') throw outcome.error;
      decision = outcome.decision;
    }
  };
}
