import { API_ROUTES, countApi, handleApi } from './apiRoutes';
import { randomToken } from './base64Url';
import { DEMO_CREDENTIALS, describeCredentials } from './demoCredentials';
import type { GatewayContext } from './gatewayContext';
import { createGatewayStats, resetGatewayStats } from './gatewayStats';
import { badCredentialsResponse, customResponse, errorResponse, jsonResponse } from './jsonResponse';
import { createJwtSigner } from './jwtSigner';
import { sleep } from './sleep';
import { handleLogin, handleRefresh, LOGIN_PATH, REFRESH_PATH, REFRESH_V1_PATH } from './tokenRoutes';
import { createTokenStore } from './tokenStore';
import type {
  AcceptHeader,
  GatewayControl,
  GatewayCore,
  GatewayCoreOptions,
  GatewayResult,
  GatewayRoute,
  GatewayStats,
  InjectedFailure,
} from './types';

/** Default origin of the foreign host when the transport does not provide a real one. */
export const DEFAULT_FOREIGN_URL = 'http://foreign.test';

/** The 401 bodies Eka's services are known to send (PROTOCOL.md §5). The first is the default. */
export const EKA_UNAUTHORIZED_BODIES: readonly unknown[] = Object.freeze([
  { message: 'Unauthorized' },
  { error: { code: 'authentication_failed' } },
  { error: [{ error_code: 'auth_error' }] },
]);

const MIB = 1024 * 1024;
const ROUTES: readonly GatewayRoute[] = ['login', 'refresh', 'api'];
const ACCEPT_HEADERS: readonly AcceptHeader[] = ['auth', 'authorization', 'both'];
const SECRET_QUERY_PARAMS = [
  'client_secret',
  'refresh_token',
  'sharing_key',
  'access_token',
  'api_key',
  'user_token',
];
// The gateway's CORS lists, as captured in authorization-2024-08-captured.openapi.yml.
const CORS_METHODS = 'POST, HEAD, PATCH, OPTIONS, GET, PUT, DELETE';
const CORS_HEADERS =
  'Content-Type, Content-Length, Accept, Accept-Encoding, X-CSRF-Token, Authorization, Origin, Cache-Control, ' +
  'X-Requested-With, Auth, X-Token, X-Token-Exp, Flavour, Locale, Client-Id, Device-Id, Version';
const CORS_EXPOSED = 'apigw-requestid, link, location, retry-after';

type Handler = (ctx: GatewayContext, request: Request, url: URL) => Promise<Response>;
interface Endpoint {
  route: GatewayRoute;
  handle: Handler;
}

const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map<string, Endpoint>([
  [LOGIN_PATH, { route: 'login', handle: handleLogin }],
  [REFRESH_PATH, { route: 'refresh', handle: (ctx, request) => handleRefresh(ctx, request, false) }],
  [REFRESH_V1_PATH, { route: 'refresh', handle: (ctx, request) => handleRefresh(ctx, request, true) }],
]);
const API_ENDPOINT: Endpoint = { route: 'api', handle: handleApi };

/** Mutable knobs behind `control`. */
interface Runtime {
  readonly ctx: GatewayContext;
  readonly latencyMs: Record<GatewayRoute, number>;
  readonly failures: Record<GatewayRoute, InjectedFailure[]>;
  clock: () => number;
}

/**
 * Creates the transport-independent Eka gateway emulator: it answers web `Request`s with web
 * `Response`s (or `'reset'`/`'hang'` instructions), using only web standards, so the same logic
 * runs behind a node:http server, msw, a browser or an edge runtime.
 */
export function createGatewayCore(options: GatewayCoreOptions = {}): GatewayCore {
  const credentials = describeCredentials(
    options.clients ?? DEMO_CREDENTIALS.clients,
    options.sharingKeys ?? DEMO_CREDENTIALS.sharingKeys,
    options.longLivedTokens ?? DEMO_CREDENTIALS.longLivedTokens,
  );
  const runtime = createRuntime(options, credentials.longLivedTokens);
  const ctx = runtime.ctx;
  return {
    handle: (request) => handleSafely(runtime, request),
    handleForeign: (request) => handleForeign(ctx.stats, request),
    stats: ctx.stats,
    control: createControl(runtime),
    credentials,
  };
}

/** Validates options and builds the context and knobs. */
function createRuntime(options: GatewayCoreOptions, longLivedTokens: readonly string[]): Runtime {
  const accessTokenTtlSec = positive(options.accessTokenTtlSec ?? 1800, 'accessTokenTtlSec');
  const refreshTokenTtlSec = positive(options.refreshTokenTtlSec ?? 86_400, 'refreshTokenTtlSec');
  const acceptHeader = options.acceptHeader ?? 'both';
  if (!ACCEPT_HEADERS.includes(acceptHeader)) throw new TypeError(`invalid acceptHeader "${acceptHeader}"`);
  const stats = createGatewayStats();
  const runtime: Runtime = {
    clock: options.clock ?? Date.now,
    latencyMs: { login: 0, refresh: 0, api: 0 },
    failures: { login: [], refresh: [], api: [] },
    ctx: {
      stats,
      tokens: createTokenStore({
        signer: createJwtSigner(secretBytes(options.secret)),
        now: () => runtime.clock(),
        accessTokenTtlSec,
        refreshTokenTtlSec,
        longLivedTokens,
      }),
      clients: options.clients ?? DEMO_CREDENTIALS.clients,
      sharingKeys: new Map(Object.entries(options.sharingKeys ?? DEMO_CREDENTIALS.sharingKeys)),
      minimalLoginResponse: options.minimalLoginResponse ?? false,
      acceptHeader,
      maxBodyBytes: nonNegative(options.maxBodyBytes ?? MIB, 'maxBodyBytes'),
      unauthorizedBody: options.unauthorizedBody ?? EKA_UNAUTHORIZED_BODIES[0],
      foreignUrl: new URL(options.foreignUrl ?? DEFAULT_FOREIGN_URL).origin,
      flags: { alwaysUnauthorized: false },
      violation: (route, problem) => stats.protocolViolations.push({ route, problem }),
    },
  };
  return runtime;
}

/** The HMAC key: the configured secret's UTF-8 bytes, or 32 random bytes. */
function secretBytes(secret: string | undefined): Uint8Array<ArrayBuffer> {
  if (secret === undefined) return crypto.getRandomValues(new Uint8Array(32));
  if (secret === '') throw new TypeError('secret must not be empty');
  return new TextEncoder().encode(secret);
}

/** `value` if it is a finite number > 0, else a TypeError naming `name`. */
function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

/** `value` if it is a finite number >= 0, else a TypeError naming `name`. */
function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}

/** The `control` levers over `runtime`. */
function createControl(runtime: Runtime): GatewayControl {
  const { ctx } = runtime;
  return {
    revokeAllAccessTokens: () => ctx.tokens.revokeAccess(),
    expireAccessTokens: () => ctx.tokens.expireAccess(),
    revokeRefreshTokens: () => ctx.tokens.revokeRefresh(),
    revokeLongLived: () => ctx.tokens.revokeLongLived(),
    setLatency(route, ms) {
      runtime.latencyMs[checkRoute(route)] = nonNegative(ms, 'latency ms');
    },
    failNext(route, count, failure) {
      if (!Number.isInteger(count) || count < 0) throw new TypeError('count must be a non-negative integer');
      const queue = runtime.failures[checkRoute(route)];
      for (let i = 0; i < count; i++) queue.push(checkFailure(failure));
    },
    alwaysUnauthorized(on) {
      ctx.flags.alwaysUnauthorized = on;
    },
    setClock(clock) {
      if (typeof clock !== 'function') throw new TypeError('clock must be a function');
      runtime.clock = clock;
    },
    resetStats: () => resetGatewayStats(ctx.stats),
  };
}

/** `route` if it is a {@link GatewayRoute}, else a TypeError. */
function checkRoute(route: GatewayRoute): GatewayRoute {
  if (!ROUTES.includes(route)) throw new TypeError(`route must be one of ${ROUTES.join(', ')}`);
  return route;
}

/** `failure` if it is a valid {@link InjectedFailure}, else a TypeError. */
function checkFailure(failure: InjectedFailure): InjectedFailure {
  if (failure === 'reset' || failure === 'hang' || failure === 'bad-credentials') return failure;
  const { status, retryAfterSec } = failure ?? {};
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError('failure.status must be an integer from 200 to 599');
  }
  if (retryAfterSec !== undefined) nonNegative(retryAfterSec, 'failure.retryAfterSec');
  return failure;
}

/** Answers one request; bugs and broken streams become a 500 (or a reset), never a throw. */
async function handleSafely(runtime: Runtime, request: Request): Promise<GatewayResult> {
  runtime.ctx.stats.requests++;
  try {
    const result = await dispatch(runtime, request);
    return typeof result === 'string' ? result : decorate(result, request);
  } catch (error) {
    if (request.signal?.aborted) return 'reset';
    const message = error instanceof Error ? error.message : String(error);
    return decorate(errorResponse(500, `emulator error: ${message}`), request);
  }
}

/** Routes a request: CORS preflight, query checks, latency, injected failures, then the endpoint. */
async function dispatch(runtime: Runtime, request: Request): Promise<GatewayResult> {
  const { ctx } = runtime;
  const url = new URL(request.url);
  if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
    return new Response(null, { status: 204 });
  }
  checkQuery(ctx, url);
  const endpoint =
    ENDPOINTS.get(url.pathname) ??
    (url.pathname.startsWith('/api/') || url.pathname in API_ROUTES ? API_ENDPOINT : undefined);
  if (!endpoint) return errorResponse(404, 'not found');
  if (endpoint.route !== 'api') ctx.stats.tokenEndpointCalls++;
  if (!(await sleep(runtime.latencyMs[endpoint.route], request.signal))) return 'reset';
  const failure = runtime.failures[endpoint.route].shift();
  if (failure !== undefined) return injectFailure(ctx, endpoint.route, failure);
  return endpoint.handle(ctx, request, url);
}

/** Records every secret-bearing query parameter as a protocol violation (they end up in access logs). */
function checkQuery(ctx: GatewayContext, url: URL): void {
  for (const name of SECRET_QUERY_PARAMS) {
    if (url.searchParams.has(name))
      ctx.violation(url.pathname, `secret "${name}" sent in the URL query string`);
  }
}

/** Serves an injected failure. */
function injectFailure(ctx: GatewayContext, route: GatewayRoute, failure: InjectedFailure): GatewayResult {
  ctx.stats.injectedFailures++;
  if (failure === 'reset' || failure === 'hang') return failure;
  const response = failure === 'bad-credentials' ? badCredentialsResponse() : httpFailure(failure);
  if (route === 'api') countApi(ctx, response.status);
  return response;
}

/** The response of an injected HTTP failure. */
function httpFailure(failure: Exclude<InjectedFailure, string>): Response {
  const headers =
    failure.retryAfterSec === undefined ? undefined : { 'retry-after': String(failure.retryAfterSec) };
  const body = failure.body ?? { code: failure.status, error: 'injected failure' };
  return customResponse(failure.status, body, headers);
}

/** Adds the gateway's per-response headers: `apigw-requestid` and, for browser callers, CORS. */
function decorate(response: Response, request: Request): Response {
  const headers = response.headers;
  headers.set('apigw-requestid', `${randomToken(11)}=`);
  const origin = request.headers.get('origin');
  if (origin === null) return response;
  headers.set('access-control-allow-origin', origin);
  headers.set('access-control-allow-credentials', 'true');
  headers.set('access-control-allow-methods', CORS_METHODS);
  headers.set('access-control-allow-headers', CORS_HEADERS);
  headers.set('access-control-expose-headers', CORS_EXPOSED);
  headers.append('vary', 'Origin');
  return response;
}

/** The foreign origin: answers anything, counting requests that carried a token header. */
function handleForeign(stats: GatewayStats, request: Request): Response {
  stats.foreignRequests++;
  const receivedAuth = request.headers.has('auth');
  const receivedAuthorization = request.headers.has('authorization');
  if (receivedAuth || receivedAuthorization) stats.tokenLeaks++;
  const path = URL.canParse(request.url) ? new URL(request.url).pathname : '/';
  // The foreign host has its own 401s; a client must not react to them with an Eka refresh.
  const status = path === '/unauthorized' ? 401 : 200;
  return jsonResponse(status, { foreign: true, path, receivedAuth, receivedAuthorization });
}
