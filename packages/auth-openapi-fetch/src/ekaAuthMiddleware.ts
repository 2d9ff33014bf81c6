import { type AuthDecision, type EkaAuth, followRedirects } from '@eka/auth-core';
import type { Middleware } from 'openapi-fetch';

interface Pending {
  decision: AuthDecision;
  /** A clone taken before the body was sent, to rebuild the request for the retry. */
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
 *   the typed error.
 * - Outside browsers, redirects of token-bearing requests are followed by hand so the token never
 *   reaches another origin (fetch would forward the custom `auth` header).
 *
 * Register it after middleware that replaces the `Request` (it must see the final request).
 *
 * @throws EkaAuthError subclasses (`code`): UNAUTHORIZED, LONG_LIVED_TOKEN_REJECTED, CREDENTIALS_REJECTED,
 *   TRANSIENT, TIMEOUT, ABORTED, LOGGED_OUT.
 */
export function ekaAuthMiddleware(auth: EkaAuth): Middleware {
  const pending = new WeakMap<Request, Pending>();
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
        return options.fetch(req);
      };
      const follow = async (res: Response, req: Request) => {
        if (!state.manual || res.status < 300 || res.status > 399) return res;
        const body = state.spare ? await state.spare.clone().arrayBuffer() : undefined;
        return followRedirects(auth, (url, init) => send(new Request(url, init)), res, req.url, {
          method: req.method,
          headers: req.headers,
          body,
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
        const retry = new Request(state.spare?.clone() ?? request, {
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
