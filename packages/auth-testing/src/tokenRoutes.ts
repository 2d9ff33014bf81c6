import type { GatewayContext } from './gatewayContext';
import { badCredentialsResponse, errorResponse, jsonResponse, methodNotAllowed } from './jsonResponse';
import { readJsonObject } from './readBody';
import type { IssuedTokens } from './tokenStore';

/** Login path (PROTOCOL.md §1). */
export const LOGIN_PATH = '/connect-auth/v1/account/login';
/** Current refresh path (PROTOCOL.md §3). */
export const REFRESH_PATH = '/connect-auth/v1/account/refresh-token';
/** Deprecated v1 refresh path. */
export const REFRESH_V1_PATH = '/connect-auth/v1/account/refresh';

const LEGACY_SHARING_FIELDS = ['api_key', 'user_token'] as const;

/** Responses that rejected a reused refresh token (counted as `reused`, not `rejected`). */
const reuseResponses = new WeakSet<Response>();

/** The 200 body of login and refresh. */
function tokenBody(tokens: IssuedTokens): Record<string, unknown> {
  return {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    expires_in: tokens.expiresInSec,
    refresh_expires_in: tokens.refreshExpiresInSec,
  };
}

/** The sharing key of a login body (incl. legacy names), `undefined` for none, or an error response. */
function sharingKeyOf(ctx: GatewayContext, body: Record<string, unknown>): string | undefined | Response {
  let value = body.sharing_key;
  for (const field of LEGACY_SHARING_FIELDS) {
    if (body[field] === undefined || body[field] === null) continue;
    ctx.violation(LOGIN_PATH, `legacy login field "${field}" sent; it was renamed "sharing_key"`);
    value ??= body[field];
  }
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : errorResponse(400, 'sharing_key must be a string');
}

/** `POST /connect-auth/v1/account/login`. */
export async function handleLogin(ctx: GatewayContext, request: Request): Promise<Response> {
  const response = await login(ctx, request);
  if (response.status === 200) ctx.stats.logins.ok++;
  else ctx.stats.logins.rejected++;
  return response;
}

async function login(ctx: GatewayContext, request: Request): Promise<Response> {
  if (request.method !== 'POST') return methodNotAllowed(['POST']);
  if (request.headers.has('auth') || request.headers.has('authorization')) {
    ctx.violation(LOGIN_PATH, 'login must be sent without an auth or Authorization header');
  }
  const body = await readJsonObject(request, ctx.maxBodyBytes);
  if (!body.ok) return body.response;
  const { client_id: clientId, client_secret: clientSecret } = body.value;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
    return errorResponse(400, 'client_id and client_secret are required strings');
  }
  const sharingKey = sharingKeyOf(ctx, body.value);
  if (sharingKey instanceof Response) return sharingKey;
  const client = ctx.clients.find((c) => c.clientId === clientId && c.clientSecret === clientSecret);
  const workspace = sharingKey === undefined ? undefined : ctx.sharingKeys.get(sharingKey);
  if (!client || (sharingKey !== undefined && workspace === undefined)) return badCredentialsResponse();
  const tokens = await ctx.tokens.issue(client.clientId, workspace);
  return jsonResponse(
    200,
    ctx.minimalLoginResponse ? { access_token: tokens.accessToken } : tokenBody(tokens),
  );
}

/** The bearer token of an `Authorization` header, if it uses the Bearer scheme. */
export function bearerToken(header: string | null): string | undefined {
  const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** `POST /connect-auth/v1/account/refresh-token` (v2) and the deprecated v1 `/refresh`. */
export async function handleRefresh(ctx: GatewayContext, request: Request, v1: boolean): Promise<Response> {
  const route = v1 ? REFRESH_V1_PATH : REFRESH_PATH;
  if (v1) {
    ctx.stats.v1Refreshes++;
    ctx.violation(route, `deprecated v1 refresh endpoint used; use ${REFRESH_PATH}`);
  }
  const response = await refresh(ctx, request, route, v1);
  if (response.status === 200) ctx.stats.refreshes.ok++;
  else if (reuseResponses.has(response)) ctx.stats.refreshes.reused++;
  else ctx.stats.refreshes.rejected++;
  return response;
}

async function refresh(ctx: GatewayContext, request: Request, route: string, v1: boolean): Promise<Response> {
  if (request.method !== 'POST') return methodNotAllowed(['POST']);
  const bearer = bearerToken(request.headers.get('authorization'));
  const clientId = request.headers.get('client-id') ?? undefined;
  if (!v1 && (bearer === undefined || clientId === undefined)) {
    const missing = [bearer === undefined && 'Authorization: Bearer', clientId === undefined && 'Client-Id'];
    const names = missing.filter(Boolean).join(' and ');
    ctx.violation(route, `missing required header ${names}`);
    return errorResponse(400, `missing required header ${names}`);
  }
  const body = await readJsonObject(request, ctx.maxBodyBytes);
  if (!body.ok) return body.response;
  const { refresh_token: refreshToken, access_token: accessToken } = body.value;
  if (typeof refreshToken !== 'string' || refreshToken === '') {
    return errorResponse(400, 'refresh_token is required');
  }
  if (accessToken !== undefined && typeof accessToken !== 'string') {
    return errorResponse(400, 'access_token must be a string');
  }
  return rotate(ctx, refreshToken, bearer, clientId);
}

/** Checks the header access token, consumes the refresh token and issues the next pair. */
async function rotate(
  ctx: GatewayContext,
  refreshToken: string,
  bearer: string | undefined,
  clientId: string | undefined,
): Promise<Response> {
  if (bearer !== undefined) {
    // An expired or revoked access token is normal here; it only has to be ours and the client's.
    const identity = await ctx.tokens.identify(bearer);
    if (identity?.clientId === undefined || (clientId !== undefined && identity.clientId !== clientId)) {
      return errorResponse(401, 'invalid access token');
    }
    clientId ??= identity.clientId;
  }
  const result = ctx.tokens.consumeRefresh(refreshToken, clientId);
  if (!result.ok) {
    const response = errorResponse(401, result.reason);
    if (result.reused) reuseResponses.add(response);
    return response;
  }
  return jsonResponse(200, tokenBody(await ctx.tokens.issue(result.clientId, result.workspace)));
}
