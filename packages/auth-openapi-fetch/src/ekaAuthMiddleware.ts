import { type AuthDecision, type EkaAuth, followRedirects } from '@eka/auth-core';
import type { Middleware } from 'openapi-fetch';

interface Pending {
  decision: AuthDecision;
  /** A clone taken before the body was sent, to rebuild the request for the retry. */
  spare: Request | null;
  /** We switched the request to `redirect: 'manual'` and follow redirects ourselves. */
  manual: boolean;
}

const isBrowser = typeof document !== 'undefined';

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
      pending.set(sent, { decision, spare, manual });
      return sent;
    },
    async onResponse({ request, response, options }) {
      const state = pending.get(request);
      if (!state) return undefined;
      pending.delete(request);
      const send = (url: string, init: RequestInit) => options.fetch(new Request(url, init));
      const follow = async (res: Response, req: Request) => {
        if (!state.manual || res.status < 300 || res.status > 399) return res;
        const body = state.spare ? await state.spare.clone().arrayBuffer() : undefined;
        return followRedirects(auth, send, res, req.url, { method: req.method, headers: req.headers, body });
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
        if (outcome.action === 'pass') return last;
        // An abort may have errored the 401's body already: cancel() then rejects, handled here.
        last.body?.cancel().catch(() => {});
        if (outcome.action === 'fail') throw outcome.error;
        decision = outcome.decision;
        const retry = new Request(state.spare?.clone() ?? request, {
          signal: request.signal,
          redirect: request.redirect,
        });
        for (const [name, value] of Object.entries(decision.headers!)) retry.headers.set(name, value);
        last = await follow(await options.fetch(retry), retry);
      }
      return last;
    },
  };
}
