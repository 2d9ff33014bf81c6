import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOGIN_PATH, REFRESH_PATH } from '@eka/auth-core';

/** Options of {@link createTokenBackend}. */
export interface TokenBackendOptions {
  /** Eka gateway base URL (the emulator's `gateway.url` in tests). */
  gatewayUrl: string;
  /** The app's Eka client id. */
  clientId: string;
  /** The app's Eka client secret: it stays in this server process and never reaches the page. */
  clientSecret: string;
  /** Settings the page reads from `GET /session/config` (no secrets: the page shows them). */
  publicConfig?: Record<string, unknown>;
}

/** A connect-style handler (Vite's dev/preview servers and a bare `node:http` server both take it). */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

interface Session {
  accessToken?: string;
  refreshToken?: string;
}

const COOKIE = 'spa-session';

/**
 * The example's backend ("backend for frontend"): the only place that knows the client secret and
 * the refresh token. The page asks it for an access token; it logs in to Eka (or refreshes with the
 * rotating refresh token it keeps in the server-side session) and answers `{ accessToken, expiresIn }`.
 *
 * - `POST /session/signin` starts a session (stands in for your own user sign-in) and sets an
 *   HttpOnly, SameSite=Strict cookie.
 * - `POST /session/token` `{ reason: 'login' | 'refresh' }` → `{ accessToken, expiresIn }`, 401 without a
 *   session. JSON only, same origin only (a cross-site form cannot post JSON without a preflight).
 * - `POST /session/signout` ends the session.
 * - `GET /session/config` → `publicConfig`.
 */
export function createTokenBackend(options: TokenBackendOptions): Middleware {
  const sessions = new Map<string, Session>();
  const base = options.gatewayUrl.replace(/\/+$/, '');

  const tokenCall = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      redirect: 'error',
    });
    const data = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { ok: response.ok && typeof data.access_token === 'string', status: response.status, data };
  };

  const obtain = async (session: Session, reason: unknown) => {
    if (reason === 'refresh' && session.refreshToken && session.accessToken) {
      const refreshed = await tokenCall(
        REFRESH_PATH,
        { refresh_token: session.refreshToken, access_token: session.accessToken },
        { authorization: `Bearer ${session.accessToken}`, 'client-id': options.clientId },
      );
      if (refreshed.ok) return refreshed;
      // Only a rejected refresh token (4xx) falls back to a login; an outage is reported as one.
      if (refreshed.status >= 500) return refreshed;
    }
    return tokenCall(LOGIN_PATH, { client_id: options.clientId, client_secret: options.clientSecret });
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    'GET /session/config': async (_req, res) => send(res, 200, options.publicConfig ?? {}),
    'POST /session/signin': async (_req, res) => {
      const id = randomUUID();
      sessions.set(id, {});
      res.setHeader('set-cookie', `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/session`);
      send(res, 204);
    },
    'POST /session/signout': async (req, res) => {
      sessions.delete(sessionId(req) ?? '');
      res.setHeader('set-cookie', `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/session; Max-Age=0`);
      send(res, 204);
    },
    'POST /session/token': async (req, res) => {
      const session = sessions.get(sessionId(req) ?? '');
      if (!session) return send(res, 401, { error: 'sign in first' });
      const { reason } = JSON.parse((await readBody(req)) || '{}');
      const answer = await obtain(session, reason);
      if (!answer.ok) return send(res, answer.status >= 500 ? 502 : 401, { error: 'Eka refused the login' });
      session.accessToken = String(answer.data.access_token);
      session.refreshToken = (answer.data.refresh_token as string | undefined) ?? session.refreshToken;
      // The refresh token stays here: the page only ever holds the short-lived access token.
      send(res, 200, { accessToken: session.accessToken, expiresIn: answer.data.expires_in });
    },
  };

  return (req, res, next) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes[`${req.method} ${path}`];
    if (!route) return next();
    if (req.method === 'POST' && !sameOriginJson(req))
      return send(res, 403, { error: 'same-origin JSON only' });
    route(req, res).catch(() => {
      if (!res.headersSent) send(res, 502, { error: 'token backend failed' });
      else res.end();
    });
  };
}

function sameOriginJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'] ?? '';
  const origin = req.headers.origin;
  return type.startsWith('application/json') && (!origin || new URL(origin).host === req.headers.host);
}

function sessionId(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === COOKIE && value) return value;
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 10_000) throw new Error('body too large');
  }
  return text;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.statusCode = status;
  res.setHeader('cache-control', 'no-store');
  if (body === undefined) return void res.end();
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
