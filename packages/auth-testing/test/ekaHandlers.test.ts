import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ekaHandlers } from '../src/msw';

const BASE = 'https://api.eka.test';
const eka = ekaHandlers({ baseUrl: BASE, foreignUrl: 'https://elsewhere.test' });
const server = setupServer(...eka.handlers);

const login = (secret = 'demo-secret') =>
  fetch(`${BASE}/connect-auth/v1/account/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'demo-client', client_secret: secret }),
  });

describe('ekaHandlers', () => {
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => eka.control.resetStats());
  afterAll(() => server.close());

  it('runs a login + echo + 401 flow like the HTTP server', async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
    const { access_token } = await res.json();
    const echo = await fetch(`${BASE}/api/echo?x=1`, {
      method: 'POST',
      headers: { auth: access_token },
      body: 'hi',
    });
    expect(await echo.json()).toMatchObject({
      path: '/api/echo',
      query: { x: '1' },
      bodyText: 'hi',
      clientId: 'demo-client',
    });
    eka.control.revokeAllAccessTokens();
    const denied = await fetch(`${BASE}/api/echo`, { headers: { authorization: `Bearer ${access_token}` } });
    expect([denied.status, await denied.json()]).toEqual([401, { message: 'Unauthorized' }]);
    expect(eka.stats).toMatchObject({ logins: { ok: 1 }, apiCalls: { ok: 1, unauthorized: 1 } });
  });

  it("answers bad credentials with Eka's 500 + code 400", async () => {
    const res = await login('wrong');
    expect([res.status, await res.json()]).toEqual([500, { message: 'invalid credentials', code: 400 }]);
  });

  it("turns 'reset' into a network error", async () => {
    eka.control.failNext('login', 1, 'reset');
    await expect(login()).rejects.toThrow(TypeError);
  });

  it("keeps a 'hang' pending until the client aborts", async () => {
    eka.control.failNext('api', 1, 'hang');
    const call = fetch(`${BASE}/api/echo`, { signal: AbortSignal.timeout(150) });
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('counts a token forwarded across a redirect to the foreign origin', async () => {
    const { access_token } = await (await login()).json();
    const res = await fetch(`${BASE}/api/redirect`, { headers: { auth: access_token } });
    expect(await res.json()).toMatchObject({ foreign: true, receivedAuth: true });
    expect(eka.stats.tokenLeaks).toBe(1);
  });

  it('refuses a foreign origin equal to the base URL', () => {
    expect(() => ekaHandlers({ baseUrl: BASE, foreignUrl: `${BASE}/x` })).toThrow(TypeError);
  });
});
