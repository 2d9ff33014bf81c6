import { vi } from 'vitest';

/** A scripted Eka token endpoint behind an injected `fetch`, for unit tests (no network). */
export type Scripted =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'network'
  | 'hang'
  | ((call: Call) => Promise<Response> | Response);

export interface Call {
  url: string;
  kind: 'login' | 'refresh' | 'other';
  headers: Record<string, string>;
  body: any;
  signal: AbortSignal | undefined;
}

export const SECRET = 'sUp3r-s3cret-value';

export function jwt(payload: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}.c2lnbmF0dXJl`;
}

/**
 * Default behaviour: login issues `at-N`/`rt-N` with `expires_in` (seconds, default 1800);
 * refresh v2 rotates and rejects a reused refresh token (401) like a strict gateway.
 */
export function fakeEka(options: { expiresIn?: number | undefined; clock?: () => number } = {}) {
  let issued = 0;
  const live = new Set<string>();
  const used = new Set<string>();
  const queue: Record<'login' | 'refresh', Scripted[]> = { login: [], refresh: [] };
  const calls: Call[] = [];
  const stats = { logins: 0, refreshes: 0, reused: 0 };
  const issue = () => {
    issued++;
    const refresh = `rt-${issued}`;
    live.add(refresh);
    const body: Record<string, unknown> = { access_token: `at-${issued}`, refresh_token: refresh };
    if (options.expiresIn !== undefined) body.expires_in = options.expiresIn;
    else body.expires_in = 1800;
    return Response.json(body, { headers: { 'apigw-requestid': `req-${issued}` } });
  };
  const respond = async (call: Call, scripted: Scripted): Promise<Response> => {
    if (scripted === 'network') throw new TypeError('fetch failed');
    if (scripted === 'hang') {
      return new Promise((_, reject) => {
        call.signal?.addEventListener('abort', () => reject(call.signal!.reason ?? new Error('aborted')));
      });
    }
    if (typeof scripted === 'function') return scripted(call);
    return new Response(scripted.body === undefined ? '' : JSON.stringify(scripted.body), {
      status: scripted.status,
      headers: { 'content-type': 'application/json', ...scripted.headers },
    });
  };
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const kind = url.endsWith('/connect-auth/v1/account/login')
      ? 'login'
      : url.endsWith('/connect-auth/v1/account/refresh-token')
        ? 'refresh'
        : 'other';
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const call: Call = {
      url,
      kind,
      headers,
      body: JSON.parse(String(init.body ?? 'null')),
      signal: init.signal ?? undefined,
    };
    calls.push(call);
    if (kind === 'other') return new Response('not found', { status: 404 });
    const scripted = queue[kind].shift();
    if (kind === 'login') stats.logins++;
    else stats.refreshes++;
    if (scripted) return respond(call, scripted);
    if (kind === 'login') return issue();
    const presented = call.body.refresh_token;
    if (used.has(presented)) {
      stats.reused++;
      return Response.json({ code: 401, error: 'refresh token reused' }, { status: 401 });
    }
    if (!live.has(presented))
      return Response.json({ code: 401, error: 'unknown refresh token' }, { status: 401 });
    live.delete(presented);
    used.add(presented);
    return issue();
  });
  return {
    fetch: fetch as unknown as typeof globalThis.fetch & typeof fetch,
    calls,
    stats,
    /** Script the next answers of one endpoint. */
    next(kind: 'login' | 'refresh', ...answers: Scripted[]) {
      queue[kind].push(...answers);
    },
    /** A response held until `release()` (to control interleavings). */
    gate(kind: 'login' | 'refresh') {
      let release!: () => void;
      const opened = new Promise<void>((resolve) => (release = resolve));
      queue[kind].push(async (call) => {
        await opened;
        if (kind === 'login') return issue();
        live.delete(call.body.refresh_token);
        used.add(call.body.refresh_token);
        return issue();
      });
      return { release };
    },
  };
}

/** A manual clock. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  const clock = () => now;
  return {
    clock,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

export const flush = () => new Promise((resolve) => setImmediate(resolve));
