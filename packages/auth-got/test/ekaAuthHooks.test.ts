import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEkaAuth, type EkaAuth, EkaAuthError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import got, { type Got } from 'got';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ekaAuthHooks, withEkaAuth } from '../src/index';

let gateway: EkaGateway;
let auth: EkaAuth;
let api: Got;

beforeEach(async () => {
  gateway = await startEkaGateway();
  auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    header: 'both',
    backoff: { baseMs: 20, maxMs: 100 },
  });
  api = withEkaAuth(got.extend({ prefixUrl: gateway.url }), auth);
});
afterEach(async () => {
  auth.dispose();
  await gateway.close();
});

/** A third origin that answers 302 to `?to=` and records the headers it received. */
async function startBouncer(): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const to = new URL(req.url!, 'http://x').searchParams.get('to')!;
    res.writeHead(302, { location: to }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('the re-send', () => {
  it('carries the new headers in the merged options, without asking authorize again', async () => {
    await api.get('api/echo');
    gateway.control.revokeAllAccessTokens();
    const authorize = vi.spyOn(auth, 'authorize');
    const response = await api.get('api/echo');
    expect(JSON.parse(response.body).generation).toBe(2);
    expect(authorize).toHaveBeenCalledTimes(1);
    const token = await auth.getAccessToken();
    expect(response.request.options.headers.authorization).toBe(`Bearer ${token}`);
    expect(response.request.options.headers.auth).toBe(token);
    expect(response.retryCount).toBe(1);
  });

  it('a back-off longer than timeout.request fails at once with TRANSIENT, not a timeout', async () => {
    // A Retry-After above the in-flight cap: the login gives up and the next attempt is 30 s away.
    gateway.control.failNext('login', 1, { status: 429, retryAfterSec: 30 });
    const options = { timeout: { request: 2_000 }, retry: { limit: 0 } };
    expect(await api('api/echo', options).catch((e) => e)).toMatchObject({ code: 'TRANSIENT', status: 429 });
    const started = Date.now();
    const error = await api('api/echo', options).catch((e) => e);
    expect(error.code).toBe('TRANSIENT');
    expect(error.retryAfterMs).toBeGreaterThan(20_000);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it("got's own retry (503) keeps working and causes no refresh", async () => {
    const client = api.extend({
      retry: { limit: 1, calculateDelay: ({ computedValue }) => (computedValue ? 10 : 0) },
    });
    await client.get('api/echo');
    gateway.control.failNext('api', 1, { status: 503 });
    const response = await client.get('api/echo');
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).generation).toBe(1);
    expect(gateway.stats.refreshes.ok).toBe(0);
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it("our re-send and got's retry compose, in either order", async () => {
    const client = api.extend({
      retry: { limit: 1, calculateDelay: ({ computedValue }) => (computedValue ? 10 : 0) },
    });
    await client.get('api/echo');
    const authorize = vi.spyOn(auth, 'authorize');
    // 503 → got retries with the revoked token → 401 → refresh → our re-send → 200.
    gateway.control.revokeAllAccessTokens();
    gateway.control.failNext('api', 1, { status: 503 });
    expect(JSON.parse((await client.get('api/echo')).body).generation).toBe(2);
    // 401 → refresh → our re-send → 503 → got retries it with the new token → 200.
    gateway.control.failNext('api', 1, { status: 401 });
    gateway.control.failNext('api', 1, { status: 503 });
    expect(JSON.parse((await client.get('api/echo')).body).generation).toBe(3);
    expect(gateway.stats.refreshes.ok).toBe(2);
    expect(authorize).toHaveBeenCalledTimes(2); // once per request, never for a retry
  });

  it('never loops: one re-send, then UNAUTHORIZED — also with throwHttpErrors: false', async () => {
    await api.get('api/echo');
    gateway.control.alwaysUnauthorized(true);
    for (const throwHttpErrors of [true, false]) {
      const error = await api.get('api/echo', { throwHttpErrors }).catch((e) => e);
      expect(error).toBeInstanceOf(EkaAuthError);
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.requestId).toBeTruthy();
    }
    // Two attempts each at most (the core's cool-down may answer the second one without a re-send).
    expect(gateway.stats.apiCalls.unauthorized).toBeLessThanOrEqual(4);
    expect(gateway.stats.refreshes.ok).toBeLessThanOrEqual(2);
  });

  it('with throwHttpErrors: false other statuses are returned, not thrown', async () => {
    const response = await api.get('api/forbidden', { throwHttpErrors: false });
    expect(response.statusCode).toBe(403);
    expect(gateway.stats.refreshes.ok).toBe(0);
  });

  it('works with .json() and got.paginate across a refresh', async () => {
    expect((await api.get('api/echo').json<{ generation: number }>()).generation).toBe(1);
    gateway.control.revokeAllAccessTokens();
    expect((await api.get('api/echo').json<{ generation: number }>()).generation).toBe(2);

    const pages: number[] = [];
    const items = await api.paginate.all<{ id: number; page: number }>('api/items?page=1', {
      pagination: {
        transform: (response) => {
          if (pages.length === 0) gateway.control.revokeAllAccessTokens(); // page 2 is answered 401 first
          const list = JSON.parse(response.body as string) as Array<{ id: number; page: number }>;
          pages.push(list[0]?.page ?? 0);
          return list;
        },
      },
    });
    expect(items.map((item) => item.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pages).toEqual([1, 2, 3]);
    expect(gateway.stats.refreshes.ok).toBe(2);
  });
});

describe('bodies', () => {
  it('a fs.createReadStream body is not re-sent: NON_REPLAYABLE_BODY, token refreshed', async () => {
    const file = join(tmpdir(), `eka-got-${process.pid}-${Math.random()}.bin`);
    await writeFile(file, Buffer.alloc(50_000, 7));
    await api.get('api/echo');
    gateway.control.revokeAllAccessTokens();
    const error = await api.post('api/upload', { body: createReadStream(file) }).catch((e) => e);
    expect(error).toBeInstanceOf(EkaAuthError);
    expect(error.code).toBe('NON_REPLAYABLE_BODY');
    expect(gateway.stats.refreshes.ok).toBe(1);
    expect(
      (await api.post('api/upload', { body: createReadStream(file) }).json<{ bytes: number }>()).bytes,
    ).toBe(50_000);
  });

  it('an async generator body is not re-sent either', async () => {
    await api.get('api/echo');
    gateway.control.revokeAllAccessTokens();
    async function* chunks() {
      yield Buffer.from('one ');
      yield Buffer.from('two');
    }
    const error = await api.post('api/upload', { body: chunks() }).catch((e) => e);
    expect(error.code).toBe('NON_REPLAYABLE_BODY');
  });

  it('a FormData body is re-encoded for the re-send (new boundary, same fields)', async () => {
    await api.get('api/echo');
    gateway.control.revokeAllAccessTokens();
    const form = new FormData();
    form.append('note', 'first visit ✓');
    const echo = await api.post('api/echo', { body: form }).json<{ contentType: string; bodyText: string }>();
    const boundary = echo.contentType.split('boundary=')[1]!;
    expect(echo.bodyText).toContain(`--${boundary}`);
    expect(echo.bodyText).toContain('first visit ✓');
    expect(gateway.stats.apiCalls.unauthorized).toBe(1);
  });
});

describe('redirects', () => {
  it('strips the token on a hop to another origin and never re-attaches it', async () => {
    const bouncer = await startBouncer();
    try {
      const hops: string[] = [];
      const client = api.extend({
        hooks: { beforeRedirect: [(options) => void hops.push(String(options.url))] },
      });
      const back = encodeURIComponent(`${gateway.url}/api/echo`);
      const to = encodeURIComponent(`${bouncer.url}/?to=${back}`);
      const response = await client.get(`api/redirect?to=${to}`, { throwHttpErrors: false });
      expect(response.statusCode).toBe(401); // back at the gateway without a token
      expect(bouncer.seen[0]).not.toHaveProperty('auth');
      expect(bouncer.seen[0]).not.toHaveProperty('authorization');
      expect(bouncer.seen[0]).not.toHaveProperty('client-id');
      expect(hops).toEqual([`${bouncer.url}/?to=${back}`, `${gateway.url}/api/echo`]);
      expect(gateway.stats.tokenEndpointCalls).toBe(1); // that 401 was not ours
    } finally {
      bouncer.server.close();
    }
  });

  it("a foreign origin's 401 after a redirect is handed back untouched", async () => {
    const to = encodeURIComponent(`${gateway.foreignUrl}/unauthorized`);
    const error = await api.get(`api/redirect?to=${to}`).catch((e) => e);
    expect(error.response.statusCode).toBe(401);
    expect(JSON.parse(error.response.body)).toMatchObject({
      receivedAuth: false,
      receivedAuthorization: false,
    });
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it('a request that starts at another origin never gets the token on a hop to ours', async () => {
    const bouncer = await startBouncer();
    try {
      const back = encodeURIComponent(`${gateway.url}/api/echo`);
      const response = await api.get(`${bouncer.url}/?to=${back}`, { prefixUrl: '', throwHttpErrors: false });
      expect(response.statusCode).toBe(401);
      expect(gateway.stats.tokenEndpointCalls).toBe(0);
    } finally {
      bouncer.server.close();
    }
  });
});

describe('composition', () => {
  it("the app's hooks run once per attempt; withEkaAuth leaves the original instance alone", async () => {
    const calls: string[] = [];
    const app = got.extend({
      prefixUrl: gateway.url,
      hooks: {
        beforeRequest: [
          (options) => void calls.push(`request ${options.headers.authorization ? 'with' : 'without'} token`),
        ],
        afterResponse: [
          (response) => {
            calls.push(`response ${response.statusCode}`);
            return response;
          },
        ],
      },
    });
    const authed = withEkaAuth(app, auth);
    await authed.get('api/echo');
    gateway.control.revokeAllAccessTokens();
    calls.length = 0;
    await authed.get('api/echo');
    // The app's beforeRequest runs before ours, so it sees no token on a first attempt.
    expect(calls).toEqual(['request without token', 'response 401', 'request with token', 'response 200']);
    await expect(app.get('api/echo')).rejects.toMatchObject({ response: { statusCode: 401 } });
  });

  it('ekaAuthHooks plugs into got.extend next to other options', async () => {
    const client = got.extend({ prefixUrl: gateway.url, responseType: 'json' }, ekaAuthHooks(auth));
    const { body } = await client.get<{ generation: number }>('api/echo');
    expect(body.generation).toBe(1);
    const foreign = await client.get(`${gateway.foreignUrl}/landing`, { prefixUrl: '' });
    expect(foreign.body).toMatchObject({ receivedAuth: false, receivedAuthorization: false });
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it("auth failures reject with the core's typed error, not got's RequestError", async () => {
    gateway.control.failNext('login', 1, 'bad-credentials');
    const error = await api.get('api/echo').catch((e) => e);
    expect(error).toBeInstanceOf(EkaAuthError);
    expect(error.code).toBe('CREDENTIALS_REJECTED');
    expect(error.requestId).toBeTruthy();
  });

  it('timeout.request bounds the wait for a token; a signal aborts it', async () => {
    gateway.control.setLatency('login', 2_000);
    const started = Date.now();
    const timedOut = await api.get('api/echo', { timeout: { request: 200 } }).catch((e) => e);
    expect(timedOut.code).toBe('ABORTED');
    expect(timedOut.cause?.name).toBe('TimeoutError');
    // got reacts to its own signal too, with its TimeoutError (code 23 from the DOMException).
    const aborted = await api.get('api/echo', { signal: AbortSignal.timeout(100) }).catch((e) => e);
    expect(aborted.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1_900); // not the 2 s login, twice
  });
});
