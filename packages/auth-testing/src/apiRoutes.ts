import type { GatewayContext } from './gatewayContext';
import { errorResponse, jsonResponse, methodNotAllowed } from './jsonResponse';
import { decodeUtf8, readBody } from './readBody';
import { createSha256 } from './sha256';
import { sleep } from './sleep';
import { bearerToken } from './tokenRoutes';
import type { TokenIdentity } from './tokenStore';

type ApiHandler = (ctx: GatewayContext, request: Request, url: URL, who: TokenIdentity) => Promise<Response>;

const ECHO_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ECHO_TEXT_LIMIT_BYTES = 64 * 1024;
const ITEM_PAGES = 3;
const ITEMS_PER_PAGE = 2;
const SLOW_LIMIT_MS = 60_000;

/** Where the token of an API call was found, and whether it sat in a header not accepted. */
interface TokenLocation {
  token?: string;
  wrongPlace?: boolean;
}

/** Finds the token per `ctx.acceptHeader`, recording malformed headers as protocol violations. */
function locateToken(ctx: GatewayContext, request: Request, path: string): TokenLocation {
  const auth = request.headers.get('auth') || undefined;
  const authorization = request.headers.get('authorization') || undefined;
  const bearer = bearerToken(authorization ?? null);
  if (authorization !== undefined && bearer === undefined) {
    ctx.violation(path, 'Authorization header without the Bearer scheme');
  }
  if (auth !== undefined && /^Bearer\s/i.test(auth)) {
    ctx.violation(path, 'auth header must carry the bare token, without "Bearer "');
  }
  if (ctx.acceptHeader === 'auth')
    return auth ? { token: auth } : { wrongPlace: authorization !== undefined };
  if (ctx.acceptHeader === 'authorization')
    return bearer ? { token: bearer } : { wrongPlace: auth !== undefined };
  return { token: bearer ?? auth };
}

/** The identity behind the call's token, or `undefined` (the call is answered 401). */
async function authenticate(ctx: GatewayContext, request: Request, path: string) {
  const { token, wrongPlace } = locateToken(ctx, request, path);
  if (wrongPlace) ctx.stats.wrongPlace++;
  if (token === undefined || ctx.flags.alwaysUnauthorized) return undefined;
  const check = await ctx.tokens.checkAccess(token);
  return check.ok ? check.identity : undefined;
}

/** Counts a served API answer in `stats.apiCalls` (`who` = the caller, when authenticated). */
export function countApi(ctx: GatewayContext, status: number, who?: TokenIdentity): void {
  const { apiCalls } = ctx.stats;
  if (who) apiCalls.byGeneration[who.generation] = (apiCalls.byGeneration[who.generation] ?? 0) + 1;
  if (status === 401) apiCalls.unauthorized++;
  else if (status === 403) apiCalls.forbidden++;
  else if (who && status < 400) apiCalls.ok++;
}

/** Any `/api/*` request: authenticates, then runs the route. */
export async function handleApi(ctx: GatewayContext, request: Request, url: URL): Promise<Response> {
  const who = await authenticate(ctx, request, url.pathname);
  if (!who) {
    // Not awaited: under msw a request body's cancel() never settles (the 401 would hang).
    request.body?.cancel().catch(() => undefined);
    countApi(ctx, 401);
    return jsonResponse(401, ctx.unauthorizedBody);
  }
  const route = API_ROUTES[url.pathname];
  const response = route ? await route(ctx, request, url, who) : errorResponse(404, 'no such API route');
  countApi(ctx, response.status, who);
  return response;
}

/** `/api/echo`: describes the request it received, body hashed byte-exact. */
const echo: ApiHandler = async (ctx, request, url, who) => {
  if (!ECHO_METHODS.includes(request.method)) return methodNotAllowed(ECHO_METHODS);
  const body = await readBody(request, ctx.maxBodyBytes);
  if (body === 'too-large') return errorResponse(413, 'request body too large');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>));
  return jsonResponse(200, {
    method: request.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType: request.headers.get('content-type'),
    bodyLength: body.byteLength,
    bodySha256: Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join(''),
    bodyText: body.byteLength <= ECHO_TEXT_LIMIT_BYTES ? decodeUtf8(body) : undefined,
    generation: who.generation,
    workspace: who.workspace ?? null,
    clientId: who.clientId ?? null,
  });
};

/** `POST /api/upload`: streams the body through SHA-256 without buffering it (no size limit). */
const upload: ApiHandler = async (_ctx, request) => {
  if (request.method !== 'POST') return methodNotAllowed(['POST']);
  const hash = createSha256();
  let bytes = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      bytes += next.value.byteLength;
      hash.update(next.value);
    }
  }
  return jsonResponse(200, { bytes, sha256: hash.digestHex() });
};

/** A 302 to `location` with a small JSON body. */
function redirectTo(location: string): Response {
  return jsonResponse(302, { redirect: location }, { location });
}

/** `GET /api/redirect?to=<absolute url>`: 302 to `to`, default the foreign origin's `/landing`. */
const redirect: ApiHandler = async (ctx, request, url) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') return methodNotAllowed(['GET', 'HEAD']);
  const to = url.searchParams.get('to') ?? new URL('/landing', ctx.foreignUrl).href;
  const target = URL.canParse(to) ? new URL(to) : undefined;
  if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:')) {
    return errorResponse(400, '"to" must be an absolute http(s) URL');
  }
  return redirectTo(target.href);
};

/** `GET /api/redirect-same`: 302 to this gateway's `/api/echo`. */
const redirectSame: ApiHandler = async (_ctx, request, url) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') return methodNotAllowed(['GET', 'HEAD']);
  return redirectTo(new URL('/api/echo', url).href);
};

/** `GET /api/items?page=N`: a JSON array page with an RFC 5988 `Link` header. */
const items: ApiHandler = async (_ctx, request, url) => {
  if (request.method !== 'GET') return methodNotAllowed(['GET']);
  const page = Number(url.searchParams.get('page') ?? '1');
  if (!Number.isInteger(page) || page < 1) return errorResponse(400, 'page must be a positive integer');
  const first = (page - 1) * ITEMS_PER_PAGE + 1;
  const list = page > ITEM_PAGES ? [] : [first, first + 1].map((id) => ({ id, name: `item-${id}`, page }));
  const link = (n: number, rel: string) => `<${new URL(`/api/items?page=${n}`, url).href}>; rel="${rel}"`;
  const links = [page < ITEM_PAGES && link(page + 1, 'next'), page > 1 && link(page - 1, 'prev')];
  const header = links.filter(Boolean).join(', ');
  return jsonResponse(200, list, header ? { link: header } : undefined);
};

/** `GET /api/forbidden`: always 403 (an authorization, not an authentication, failure). */
const forbidden: ApiHandler = async () => errorResponse(403, 'forbidden');

/** `GET /api/slow?ms=N`: answers after N milliseconds (at most 60 000). */
const slow: ApiHandler = async (_ctx, request, url) => {
  const ms = Number(url.searchParams.get('ms') ?? '0');
  if (!Number.isInteger(ms) || ms < 0 || ms > SLOW_LIMIT_MS) {
    return errorResponse(400, `ms must be an integer from 0 to ${SLOW_LIMIT_MS}`);
  }
  await sleep(ms, request.signal);
  return jsonResponse(200, { sleptMs: ms });
};

/**
 * `DELETE /privacy/v1/user` (Eka's authorization.openapi.yml): 202 when `client-id` is present, as
 * the spec requires it; a typed client generated from that spec calls it.
 */
const privacyUser: ApiHandler = async (_ctx, request) => {
  if (request.method !== 'DELETE') return methodNotAllowed(['DELETE']);
  if (!request.headers.get('client-id')) return errorResponse(400, 'client-id header is required');
  return new Response(null, { status: 202 });
};

export const API_ROUTES: Readonly<Record<string, ApiHandler>> = Object.assign(Object.create(null), {
  '/api/echo': echo,
  '/api/upload': upload,
  '/api/redirect': redirect,
  '/api/redirect-same': redirectSame,
  '/api/items': items,
  '/api/forbidden': forbidden,
  '/api/slow': slow,
  '/privacy/v1/user': privacyUser,
});
