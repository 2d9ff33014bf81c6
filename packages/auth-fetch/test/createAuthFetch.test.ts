import { createEkaAuth, type EkaAuth } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthFetch, installGlobalFetch } from '../src/index';

let gateway: EkaGateway;
let auth: EkaAuth;

beforeEach(async () => {
  gateway = await startEkaGateway();
  auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    header: 'both',
  });
});
afterEach(async () => {
  auth.dispose();
  await gateway.close();
});

describe('createAuthFetch', () => {
  it('accepts string, URL and Request inputs and merges the caller headers', async () => {
    const f = createAuthFetch(auth);
    const url = `${gateway.url}/api/echo`;
    for (const input of [url, new URL(url), new Request(url, { headers: { 'x-from-request': '1' } })]) {
      const response = await f(input, { headers: { 'x-caller': 'kept' } });
      expect(response.status).toBe(200);
      expect((await response.json()).generation).toBe(1);
    }
    expect(gateway.stats.wrongPlace).toBe(0);
    expect(gateway.stats.logins.ok).toBe(1);
  });

  it('sends the caller headers together with the token headers', async () => {
    const seen: Headers[] = [];
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Headers(init?.headers));
      return fetch(input, init);
    }) as typeof fetch;
    const f = createAuthFetch(auth, { fetch: spy });
    await f(`${gateway.url}/api/echo`, { headers: { 'x-caller': 'kept', 'content-type': 'text/plain' } });
    const headers = seen.at(-1)!;
    expect(headers.get('x-caller')).toBe('kept');
    expect(headers.get('content-type')).toBe('text/plain');
    expect(headers.get('authorization')).toMatch(/^Bearer /);
    expect(headers.get('auth')).toBeTruthy();
    expect(headers.get('client-id')).toBe(gateway.credentials.clientId);
  });

  it('replays a Request with a body after a 401 (from one clone), with its method', async () => {
    const f = createAuthFetch(auth);
    await f(`${gateway.url}/api/echo`);
    gateway.control.revokeAllAccessTokens();
    const request = new Request(`${gateway.url}/api/echo`, {
      method: 'PUT',
      body: JSON.stringify({ a: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    const response = await f(request);
    const echoed = await response.json();
    expect(echoed).toMatchObject({ method: 'PUT', generation: 2, bodyText: '{"a":1}' });
  });

  it("fetch(request, init): init's method, body and headers win, as with fetch itself", async () => {
    const f = createAuthFetch(auth);
    const url = `${gateway.url}/api/echo`;
    const a = await (await f(new Request(url), { method: 'POST', body: 'hello' })).json();
    expect(a).toMatchObject({ method: 'POST', bodyText: 'hello', generation: 1 });
    gateway.control.revokeAllAccessTokens();
    // A Request with a body overridden by init's, after a 401: replayed with init's body.
    const request = new Request(url, { method: 'PUT', body: 'orig', headers: { 'x-from': 'request' } });
    const b = await (await f(request, { body: 'override!', headers: { 'x-from': 'init' } })).json();
    expect(b).toMatchObject({ method: 'PUT', bodyText: 'override!', generation: 2 });
    expect(gateway.stats.wrongPlace).toBe(0);
  });

  it("fetch(request, { signal }): init's signal aborts the call", async () => {
    const f = createAuthFetch(auth);
    await f(`${gateway.url}/api/echo`);
    const started = Date.now();
    const error = await f(new Request(`${gateway.url}/api/slow?ms=5000`), {
      signal: AbortSignal.timeout(100),
    }).catch((e) => e);
    expect(error?.name).toMatch(/TimeoutError|AbortError/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a Request body survives a third send (a straggler retry refused too gets a second chance)', async () => {
    const bodies: string[] = [];
    let calls = 0;
    const scripted = (async (target: RequestInfo | URL) => {
      bodies.push(await (target as Request).text());
      calls++;
      // The first send's token is replaced meanwhile: its 401 is a straggler's.
      if (calls === 1) await auth.getAccessToken({ forceRefresh: true });
      return calls < 3 ? new Response('no', { status: 401 }) : new Response('ok');
    }) as typeof fetch;
    await auth.getAccessToken();
    const f = createAuthFetch(auth, { fetch: scripted });
    const response = await f(new Request(`${gateway.url}/api/x`, { method: 'POST', body: 'payload' }));
    expect(await response.text()).toBe('ok');
    expect(bodies).toEqual(['payload', 'payload', 'payload']);
  });

  it('replays a bodiless Request keeping its method', async () => {
    const f = createAuthFetch(auth);
    await f(`${gateway.url}/api/echo`);
    gateway.control.revokeAllAccessTokens();
    const response = await f(new Request(`${gateway.url}/api/echo`, { method: 'DELETE' }));
    expect(await response.json()).toMatchObject({ method: 'DELETE', generation: 2 });
  });

  it('does not clone or buffer anything on the happy path', async () => {
    const clone = vi.spyOn(Request.prototype, 'clone');
    const f = createAuthFetch(auth);
    for (let i = 0; i < 5; i++) {
      await (await f(`${gateway.url}/api/echo`, { method: 'POST', body: 'x'.repeat(10_000) })).text();
    }
    expect(clone).not.toHaveBeenCalled();
    clone.mockRestore();
  });

  it("respects the caller's own redirect mode", async () => {
    const f = createAuthFetch(auth);
    const to = encodeURIComponent(`${gateway.foreignUrl}/landing`);
    const manual = await f(`${gateway.url}/api/redirect?to=${to}`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    await expect(f(`${gateway.url}/api/redirect?to=${to}`, { redirect: 'error' })).rejects.toThrow();
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it("hands back a foreign origin's 401 reached through a redirect, without refreshing", async () => {
    const f = createAuthFetch(auth);
    await f(`${gateway.url}/api/echo`);
    const to = encodeURIComponent(`${gateway.foreignUrl}/unauthorized`);
    const response = await f(`${gateway.url}/api/redirect?to=${to}`);
    expect(response.status).toBe(401);
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it('turns 303 after POST into a GET without the body', async () => {
    const seen: string[] = [];
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(`${init?.method ?? 'GET'} ${String(input)}`);
      if (String(input).endsWith('/start')) {
        return new Response(null, { status: 303, headers: { location: '/api/echo' } });
      }
      return fetch(input, init);
    }) as typeof fetch;
    const f = createAuthFetch(auth, { fetch: spy });
    const response = await f(`${gateway.url}/start`, { method: 'POST', body: 'payload' });
    expect(await response.json()).toMatchObject({ method: 'GET', bodyLength: 0 });
    expect(seen.at(-1)).toBe(`GET ${gateway.url}/api/echo`);
  });

  it('passes other origins through untouched (same arguments)', async () => {
    const spy = vi.fn(async () => new Response('ok'));
    const f = createAuthFetch(auth, { fetch: spy as unknown as typeof fetch });
    const init = { method: 'POST', body: 'x', headers: { a: 'b' } };
    await f('https://example.org/x', init);
    expect(spy).toHaveBeenCalledWith('https://example.org/x', init);
  });
});

describe('installGlobalFetch', () => {
  it('authenticates unmodified fetch callers for Eka origins only, and uninstall restores fetch exactly', async () => {
    const original = globalThis.fetch;
    const uninstall = installGlobalFetch(auth);
    try {
      expect(globalThis.fetch).not.toBe(original);
      // An unmodified third-party SDK: plain fetch calls.
      const sdk = { get: (url: string) => fetch(url).then((r) => r.json()) };
      expect((await sdk.get(`${gateway.url}/api/echo`)).generation).toBe(1);
      expect(await sdk.get(`${gateway.foreignUrl}/landing`)).toMatchObject({
        receivedAuth: false,
        receivedAuthorization: false,
      });
      // The core's own login went straight to the network, never through the wrapper.
      expect(gateway.stats.logins.ok).toBe(1);
    } finally {
      uninstall();
    }
    expect(globalThis.fetch).toBe(original);
  });

  it('is idempotent for the same auth and refuses a second credential', () => {
    const original = globalThis.fetch;
    const uninstall = installGlobalFetch(auth);
    try {
      expect(installGlobalFetch(auth)).toBe(uninstall);
      const other = createEkaAuth({ clientId: 'x', clientSecret: 'y', baseUrl: gateway.url });
      expect(() => installGlobalFetch(other)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      other.dispose();
    } finally {
      uninstall();
      uninstall();
    }
    expect(globalThis.fetch).toBe(original);
  });

  it('leaves a later wrapper in place on uninstall and becomes a pass-through', async () => {
    const original = globalThis.fetch;
    const uninstall = installGlobalFetch(auth);
    const ours = globalThis.fetch;
    const later = ((input: RequestInfo | URL, init?: RequestInit) => ours(input, init)) as typeof fetch;
    globalThis.fetch = later;
    try {
      uninstall();
      expect(globalThis.fetch).toBe(later);
      const response = await fetch(`${gateway.url}/api/echo`);
      expect(response.status).toBe(401);
    } finally {
      globalThis.fetch = original;
    }
  });

  it("the core's own token calls pass through it untouched when something wraps fetch after us", async () => {
    const original = globalThis.fetch;
    const own = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
      timeoutMs: 1_000,
    });
    const uninstall = installGlobalFetch(own);
    const ours = globalThis.fetch;
    // An APM/tracing wrapper installed later: it carries no unwrap marker.
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => ours(input, init)) as typeof fetch;
    try {
      const response = await fetch(`${gateway.url}/api/echo`);
      expect(response.status).toBe(200);
      gateway.control.revokeAllAccessTokens();
      expect((await fetch(`${gateway.url}/api/echo`)).status).toBe(200);
      expect(gateway.stats.logins.ok).toBe(1);
      expect(own.state).toBe('valid');
    } finally {
      globalThis.fetch = original;
      uninstall();
      own.dispose();
    }
  });

  it('a createAuthFetch made after install never authenticates twice', async () => {
    const uninstall = installGlobalFetch(auth);
    try {
      const f = createAuthFetch(auth);
      await f(`${gateway.url}/api/echo`);
      gateway.control.revokeAllAccessTokens();
      const response = await f(`${gateway.url}/api/echo`);
      expect(response.status).toBe(200);
      expect(gateway.stats.tokenEndpointCalls).toBe(2);
      expect(gateway.stats.apiCalls.unauthorized).toBe(1);
      expect(gateway.stats.apiCalls.ok).toBe(2);
    } finally {
      uninstall();
    }
  });
});
