import type { EkaAuth } from './types';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Follow redirects by hand after `response` (sent with `redirect: 'manual'`), the way fetch would,
 * except that the token headers (`auth.tokenHeaders` and `client-id`) are dropped — and never
 * re-added — once a hop leaves the allowed origins. fetch itself forwards a custom `auth` header to
 * any origin, hence this helper for fetch-based adapters. 303 (and 301/302 after a non-GET) become
 * a GET without body; 307/308 keep the method and `init.body`.
 *
 * @param send the fetch to use for the following hops
 * @param url the URL `response` answered
 * @param init the init the first hop was sent with (method, headers, body)
 */
export async function followRedirects(
  auth: Pick<EkaAuth, 'isAllowedUrl' | 'tokenHeaders'>,
  send: (url: string, init: RequestInit) => Promise<Response>,
  response: Response,
  url: string,
  init: RequestInit,
  maxRedirects = 20,
): Promise<Response> {
  let hop: RequestInit = { ...init, redirect: 'manual' };
  for (let hops = 0; REDIRECTS.has(response.status) && response.headers.get('location'); hops++) {
    if (hops >= maxRedirects) throw new TypeError('fetch failed: too many redirects');
    const next = new URL(response.headers.get('location')!, url).href;
    const headers = new Headers(hop.headers);
    if (!auth.isAllowedUrl(next))
      for (const name of [...auth.tokenHeaders, 'client-id']) headers.delete(name);
    const method = (hop.method ?? 'GET').toUpperCase();
    const keep = response.status === 307 || response.status === 308 || method === 'GET' || method === 'HEAD';
    if (!keep) headers.delete('content-type');
    hop = { ...hop, headers, method: keep ? method : 'GET', body: keep ? hop.body : undefined };
    // The body is not needed; cancelling an already-errored stream rejects, which is fine here.
    response.body?.cancel().catch(() => {});
    url = next;
    response = await send(url, hop);
  }
  return response;
}
