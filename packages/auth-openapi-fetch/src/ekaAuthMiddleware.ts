import { type AuthDecision, type EkaAuth, followRedirects } from '@eka/auth-core';
import type { Middleware } from 'openapi-fetch';

/** Options of {@link ekaAuthMiddleware}. */
export interface EkaAuthMiddlewareOptions {
  /**
   * The `requestInitExt` you gave `createClient` (e.g. `{ dispatcher }` for a proxy or mTLS).
   * openapi-fetch passes it to `fetch` but not to middleware, so pass the same object here: the
   * retry after a 401 and the redirect hops followed by hand then get it too. Leave it out when your
   * openapi-fetch does not pass one (0.13.0 calls `fetch(request)` alone).
   */
  requestInitExt?: Record<string, unknown>;
}

interface Pending {
  decision: AuthDecision;
  /** A clone taken before the body was sent, to re-send the body byte-identical. */
  spare: Request | null;
  /** We switched the request to `redirect: 'manual'` and follow redirects ourselves. */
  manual: boolean;
  /**
   * The request openapi-fetch built, held while ours is in flight: undici links a derived `Request`'s
   * signal to its source's weakly, so once the source is collected the caller's abort stops reaching us.
   */
  source: Request;
}

const isBrowser = typeof document !== 'undefined';

/** The Requests behind each response we return, kept alive as long as the response (see `onResponse`). */
const held = new WeakMap<Response, Request[]>();

/**
 * openapi-fetch middleware for Eka auth: `client.use(ekaAuthMiddleware(auth))`.
 *
 * - `onRequest` sets the token headers for allowed origins only, and keeps what is needed to rebuild
 *   the request (a clone when it has a body).
 * - `onResponse` on 401 asks the core; on "retry" it re-sends through the client's own `fetch` and
 *   returns the new `Response`, so `{ data, error }` reflect the retry; on "fail" the call rejects with
 *   the typed error. The retry is built from the request as sent, so it keeps every header later
 *   middleware set on it (the token headers carry the new token).
 * - Outside browsers, redirects of token-bearing requests are followed by hand so the token never
 *   reaches another origin (fetch would forward the custom `auth` header).
 *
 * Register it after middleware that replaces the `Request` (it must see the final request).
 *
 * @param options - `requestInitExt`: the one given to `createClient`, for the sends made here.
 * @throws EkaAuthError subclasses (`code`): UNAUTHORIZED, LONG_LIVED_TOKEN_REJECTED, CREDENTIALS_REJECTED,
 *   TRANSIENT, TIMEOUT, ABORTED, LOGGED_OUT.
 */
export function ekaAuthMiddleware(auth: EkaAuth, options: EkaAuthMiddlewareOptions = {}): Middleware {
  const pending = new WeakMap<Request, Pending>();
  const ext = options.requestInitExt as RequestInit | undefined;
  return {
    async onRequest({ request }) {
      const decision = await auth.authorize(request.url, { signal: request.signal });
      if (!decision.headers) return undefined;
      const manual = request.redirect === 'follow' && !isBrowser;
      const spare = request.body ? request.clone() : null;
      const sent = manual ? new Request(request, { redirect: 'manual' }) : request;
      for (const [name, value] of Object.entries(decision.headers)) sent.headers.set(name, value);
      pending.set(sent, { decision, spare, manual, source: request });
      return sent;
    },
    async onResponse({ request, response, options }) {
      const state = pending.get(request);
      if (!state) return undefined;
      pending.delete(request);
      // Every Request of this call, held while it is in flight and then by the response it ended in
      // (see `Pending.source`): otherwise the caller's abort could stop reaching a redirect hop or
      // the retry once fetch has made its own copy of it.
      const chain: Request[] = [state.source, request];
      const send = (req: Request) => {
        chain.push(req);
        // openapi-fetch gives `fetch` its `requestInitExt` as the second argument: so do we.
        return options.fetch(req, ext);
      };
      const body = () => state.spare?.clone().arrayBuffer();
      const follow = async (res: Response, req: Request) => {
        if (!state.manual || res.status < 300 || res.status > 399) return res;
        return followRedirects(auth, (url, init) => send(new Request(url, init)), res, req.url, {
          method: req.method,
          headers: req.headers,
          body: await body(),
          signal: req.signal,
        });
      };
      let last = await follow(response, request);
      let decision = state.decision;
      // Bounded by the core: a 401 to the retry's decision always answers "fail".
      // A 401 from wherever a redirect led outside the allowed origins is not ours to answer.
      while (last.status === 401 && !(last.url && !auth.isAllowedUrl(last.url))) {
        const outcome = await auth.handleUnauthorized(decision, {
          signal: request.signal,
          requestId: last.headers.get('apigw-requestid'),
        });
        if (outcome.action === 'pass') break;
        // An abort may have errored the 401's body already: cancel() then rejects, handled here.
        last.body?.cancel().catch(() => {});
        if (outcome.action === 'fail') throw outcome.error;
        decision = outcome.decision;
        // From the request as sent (headers later middleware set in place included), body from the spare.
        const retry = new Request(request, {
          body: await body(),
          signal: request.signal,
          redirect: request.redirect,
        });
        for (const [name, value] of Object.entries(decision.headers!)) retry.headers.set(name, value);
        last = await follow(await send(retry), retry);
      }
      held.set(last, chain);
      return last;
    },
  };
}
