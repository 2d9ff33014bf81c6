import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, login, startGateway } from './helpers';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('API routes', () => {
  it('/api/echo reports a binary body byte-exact', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const body = new Uint8Array([...Array.from({ length: 256 }, (_, i) => i), ...randomBytes(10_000)]);
    const res = await api(gateway, '/api/echo?a=1&b=two', {
      method: 'PUT',
      token: access_token,
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(await res.json()).toEqual({
      method: 'PUT',
      path: '/api/echo',
      query: { a: '1', b: 'two' },
      contentType: 'application/octet-stream',
      bodyLength: body.byteLength,
      bodySha256: sha256(body),
      generation: 1,
      workspace: null,
      clientId: 'demo-client',
    });
  });

  it.each(['GET', 'POST', 'PATCH', 'DELETE'])(
    '/api/echo answers %s with bodyText for UTF-8 bodies',
    async (method) => {
      const gateway = await startGateway();
      const { access_token } = await login(gateway);
      const body = method === 'GET' ? undefined : 'héllo ✓';
      const res = await api(gateway, '/api/echo', { method, token: access_token, body });
      expect(await res.json()).toMatchObject({ method, bodyText: body ?? '', bodyLength: body ? 10 : 0 });
    },
  );

  it('/api/echo answers 405 to other methods', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const res = await api(gateway, '/api/echo', { method: 'PROPFIND', token: access_token });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, PUT, PATCH, DELETE');
  });

  it('/api/upload hashes a streamed body larger than maxBodyBytes', async () => {
    const gateway = await startGateway({ maxBodyBytes: 1024 });
    const { access_token } = await login(gateway);
    const chunks = Array.from({ length: 40 }, () => randomBytes(64 * 1024 + 3));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const expected = createHash('sha256');
    for (const chunk of chunks) expected.update(chunk);
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const digest = expected.digest('hex');
    const init = { method: 'POST', token: access_token, body: stream, duplex: 'half' } as RequestInit;
    const res = await api(gateway, '/api/upload', init);
    expect(await res.json()).toEqual({ bytes: total, sha256: digest });
  });

  it('/api/redirect sends a forwarded `auth` token to the foreign origin, counted as a leak', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const res = await fetch(`${gateway.url}/api/redirect`, { headers: { auth: access_token } });
    expect(res.url).toBe(`${gateway.foreignUrl}/landing`);
    expect(await res.json()).toEqual({
      foreign: true,
      path: '/landing',
      receivedAuth: true,
      receivedAuthorization: false,
    });
    expect(gateway.stats.tokenLeaks).toBe(1);
    expect(gateway.stats.foreignRequests).toBe(1);
  });

  it('/api/redirect: Node fetch itself drops a Bearer Authorization on the cross-origin hop', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const res = await api(gateway, '/api/redirect', { token: access_token });
    expect(await res.json()).toMatchObject({ foreign: true, receivedAuthorization: false });
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it('/api/redirect with redirect: manual shows the 302 and leaks nothing', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const res = await api(gateway, '/api/redirect', { token: access_token, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${gateway.foreignUrl}/landing`);
    const landing = await fetch(res.headers.get('location')!);
    expect(await landing.json()).toMatchObject({ receivedAuth: false, receivedAuthorization: false });
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it('/api/redirect?to= redirects anywhere absolute and refuses anything else', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const to = encodeURIComponent('https://example.test/x?y=1');
    const ok = await api(gateway, `/api/redirect?to=${to}`, { token: access_token, redirect: 'manual' });
    expect(ok.headers.get('location')).toBe('https://example.test/x?y=1');
    const bad = await api(gateway, '/api/redirect?to=/relative', { token: access_token, redirect: 'manual' });
    expect(bad.status).toBe(400);
  });

  it('/api/redirect needs a valid token like every API route', async () => {
    const gateway = await startGateway();
    const res = await fetch(`${gateway.url}/api/redirect`, { redirect: 'manual' });
    expect(res.status).toBe(401);
  });

  it('/api/redirect-same redirects to /api/echo on the same origin', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const res = await fetch(`${gateway.url}/api/redirect-same`, { headers: { auth: access_token } });
    expect(res.url).toBe(`${gateway.url}/api/echo`);
    expect(await res.json()).toMatchObject({ path: '/api/echo', generation: 1 });
  });

  it('/api/items pages through 6 items with RFC 5988 Link headers', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const ids: number[] = [];
    let next: string | undefined = `${gateway.url}/api/items`;
    while (next) {
      const res: Response = await fetch(next, { headers: { auth: access_token } });
      ids.push(...((await res.json()) as Array<{ id: number }>).map((item) => item.id));
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    expect(gateway.stats.apiCalls.ok).toBe(3);
  });

  it('/api/items refuses a bad page and is empty past the end', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    expect((await api(gateway, '/api/items?page=0', { token: access_token })).status).toBe(400);
    expect(await (await api(gateway, '/api/items?page=4', { token: access_token })).json()).toEqual([]);
  });

  it('/api/forbidden answers 403, counted as forbidden', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const res = await api(gateway, '/api/forbidden', { token: access_token });
    expect(res.status).toBe(403);
    expect(gateway.stats.apiCalls).toMatchObject({ ok: 0, forbidden: 1, byGeneration: { 1: 1 } });
  });

  it('/api/slow answers after ms milliseconds', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    const started = Date.now();
    const res = await api(gateway, '/api/slow?ms=120', { token: access_token });
    expect(await res.json()).toEqual({ sleptMs: 120 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('answers 404 for an unknown API route with a valid token, 401 without', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    expect((await api(gateway, '/api/nope', { token: access_token })).status).toBe(404);
    expect((await api(gateway, '/api/nope')).status).toBe(401);
  });

  it('answers CORS preflights and exposes apigw-requestid to browsers', async () => {
    const gateway = await startGateway();
    const preflight = await fetch(`${gateway.url}/api/echo`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Auth');
    const res = await fetch(`${gateway.url}/api/echo`, { headers: { origin: 'http://app.test' } });
    expect(res.headers.get('access-control-expose-headers')).toContain('apigw-requestid');
  });
});
