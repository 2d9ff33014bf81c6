import { LOGIN_PATH, REFRESH_PATH } from '@eka/auth-core';

/** What one token-endpoint call looked like on the wire, free of secrets (tokens are kept apart). */
export interface ObservedCall {
  /** `login`, `refresh` (v2) or `other` (a path the core should never call). */
  kind: 'login' | 'refresh' | 'other';
  /** Epoch ms when the call started (local clock). */
  startedAt: number;
  /** Until the answer's body was read, or the call failed. */
  durationMs: number;
  /** HTTP status, when the gateway answered. */
  status?: number;
  /** The `Date` header, epoch ms (one-second resolution). */
  dateMs?: number;
  /** `apigw-requestid`. */
  requestId?: string;
  /** `Retry-After`, as sent. */
  retryAfter?: string;
  /** `Location` of a 3xx. */
  location?: string;
  /** `content-type` of the answer. */
  contentType?: string;
  /** Parsed JSON body facts (never a token). */
  body?: {
    /** The body had a non-empty `access_token`. */
    hasAccessToken: boolean;
    /** The body had a non-empty `refresh_token`. */
    hasRefreshToken: boolean;
    /** `expires_in`, seconds. */
    expiresInSec?: number;
    /** `refresh_expires_in`, seconds. */
    refreshExpiresInSec?: number;
    /** The body's own `code` (Eka answers bad credentials with HTTP 500 and `code: 400`). */
    code?: number;
    /** The body's `message`/`error` text, truncated (the caller redacts it before printing). */
    message?: string;
  };
  /** True when the body was not JSON (an HTML error page from a proxy, say). */
  notJson?: boolean;
  /** With a network failure: what failed, from the error chain. */
  network?: {
    /** The innermost error's name. */
    name: string;
    /** Its message, truncated. */
    message: string;
    /** The system or TLS error code (`ENOTFOUND`, `ECONNREFUSED`, `ERR_SSL_…`), when there is one. */
    code?: string;
  };
  /** The call was aborted (the core's timeout). */
  aborted?: boolean;
}

/** Tokens seen in answers, for redaction and the rotation check; never part of a report. */
interface SeenTokens {
  /** Access tokens, in the order received. */
  access: string[];
  /** Refresh tokens, in the order received. */
  refresh: string[];
}

/** A fetch for the core's token calls that records every call in `calls` (and tokens in `tokens`). */
export interface ObservedFetch {
  /** The wrapped fetch, to pass to `createEkaAuth`. */
  fetch: typeof fetch;
  /** Every call so far, in order. */
  calls: ObservedCall[];
  /** Every token seen so far. */
  tokens: SeenTokens;
}

/**
 * Wraps `base` (default `globalThis.fetch`, looked up per call) so the doctor sees what the core does
 * not report: the `Date` header, the body's lifetimes and code, and the network error behind a failure.
 * The answer is read once and handed to the core as a new, identical `Response`.
 */
export function observeFetch(base?: typeof fetch): ObservedFetch {
  const calls: ObservedCall[] = [];
  const tokens: SeenTokens = { access: [], refresh: [] };
  const observed = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const send = base ?? globalThis.fetch;
    const url = new URL(input instanceof Request ? input.url : String(input));
    const kind = url.pathname === LOGIN_PATH ? 'login' : url.pathname === REFRESH_PATH ? 'refresh' : 'other';
    const call: ObservedCall = { kind, startedAt: Date.now(), durationMs: 0 };
    calls.push(call);
    const signal = init?.signal ?? undefined;
    let response: Response;
    try {
      response = await send(input, init);
    } catch (error) {
      call.durationMs = Date.now() - call.startedAt;
      call.aborted = !!signal?.aborted;
      call.network = networkFacts(error);
      throw error;
    }
    call.status = response.status;
    const date = Date.parse(response.headers.get('date') ?? '');
    if (Number.isFinite(date)) call.dateMs = date;
    for (const [field, header] of [
      ['requestId', 'apigw-requestid'],
      ['retryAfter', 'retry-after'],
      ['location', 'location'],
      ['contentType', 'content-type'],
    ] as const) {
      const value = response.headers.get(header);
      if (value) call[field] = value.slice(0, 200);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      call.durationMs = Date.now() - call.startedAt;
      call.aborted = !!signal?.aborted;
      call.network = networkFacts(error);
      throw error;
    }
    call.durationMs = Date.now() - call.startedAt;
    inspectBody(call, text, tokens);
    // Statuses a Response cannot be built with (1xx, 0) never reach here from a token endpoint.
    const nullBody = response.status === 204 || response.status === 304 || text === '';
    return new Response(nullBody ? null : text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: observed as typeof fetch, calls, tokens };
}

function inspectBody(call: ObservedCall, text: string, tokens: SeenTokens): void {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    if (text.trim()) call.notJson = true;
    return;
  }
  if (!body || typeof body !== 'object') return;
  const access = typeof body.access_token === 'string' && body.access_token ? body.access_token : undefined;
  const refresh =
    typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : undefined;
  if (access) tokens.access.push(access);
  if (refresh) tokens.refresh.push(refresh);
  const facts: NonNullable<ObservedCall['body']> = { hasAccessToken: !!access, hasRefreshToken: !!refresh };
  const seconds = (value: unknown) => {
    const n = typeof value === 'string' ? Number(value) : value;
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const expiresInSec = seconds(body.expires_in);
  const refreshExpiresInSec = seconds(body.refresh_expires_in);
  if (expiresInSec !== undefined) facts.expiresInSec = expiresInSec;
  if (refreshExpiresInSec !== undefined) facts.refreshExpiresInSec = refreshExpiresInSec;
  if (typeof body.code === 'number') facts.code = body.code;
  const message = typeof body.message === 'string' ? body.message : body.error;
  if (typeof message === 'string' && message) facts.message = message.slice(0, 200);
  call.body = facts;
}

/** The innermost useful error of a fetch rejection (undici wraps the system error in `cause`). */
function networkFacts(error: unknown): NonNullable<ObservedCall['network']> {
  let current: any = error;
  let code: string | undefined;
  let deepest: any = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (typeof current.code === 'string') code = current.code;
    deepest = current;
    current = current.cause;
  }
  const facts: NonNullable<ObservedCall['network']> = {
    name: String(deepest?.name ?? 'Error'),
    // One line: OpenSSL's messages span lines and end in a source location.
    message: String(deepest?.message ?? deepest)
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/:$/, '')
      .slice(0, 200),
  };
  if (code) facts.code = code;
  return facts;
}
