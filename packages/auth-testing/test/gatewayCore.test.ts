import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGatewayCore, DEMO_CREDENTIALS } from '../src';

const BASE = 'https://api.eka.test';
const loginRequest = () =>
  new Request(`${BASE}/connect-auth/v1/account/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'demo-client', client_secret: 'demo-secret' }),
  });

describe('createGatewayCore', () => {
  it('answers web Requests without any server', async () => {
    const core = createGatewayCore();
    const login = await core.handle(loginRequest());
    expect(login).toBeInstanceOf(Response);
    const { access_token } = await (login as Response).json();
    const echo = await core.handle(new Request(`${BASE}/api/echo`, { headers: { auth: access_token } }));
    expect(await (echo as Response).json()).toMatchObject({ path: '/api/echo', generation: 1 });
    expect(core.stats.requests).toBe(2);
  });

  it("returns 'reset' and 'hang' for the transport to carry out", async () => {
    const core = createGatewayCore();
    core.control.failNext('login', 1, 'reset');
    core.control.failNext('login', 1, 'hang');
    expect(await core.handle(loginRequest())).toBe('reset');
    expect(await core.handle(loginRequest())).toBe('hang');
  });

  it('answers the foreign origin and counts leaked tokens', async () => {
    const core = createGatewayCore();
    const clean = core.handleForeign(new Request('http://foreign.test/landing'));
    const leaked = core.handleForeign(new Request('http://foreign.test/landing', { headers: { auth: 't' } }));
    expect(await clean.json()).toMatchObject({ foreign: true, receivedAuth: false });
    expect(await leaked.json()).toMatchObject({ receivedAuth: true, receivedAuthorization: false });
    expect(core.stats).toMatchObject({ tokenLeaks: 1, foreignRequests: 2 });
  });

  it('redirects to the configured foreign origin by default', async () => {
    const core = createGatewayCore({ foreignUrl: 'http://elsewhere.test:8080/ignored' });
    const token = DEMO_CREDENTIALS.longLivedToken;
    const res = (await core.handle(
      new Request(`${BASE}/api/redirect`, { headers: { auth: token } }),
    )) as Response;
    expect(res.headers.get('location')).toBe('http://elsewhere.test:8080/landing');
  });

  it('turns a broken request body into an answer, not a throw', async () => {
    const core = createGatewayCore();
    const body = new ReadableStream({
      pull(controller) {
        controller.error(new Error('boom'));
      },
    });
    const init = { method: 'POST', headers: { auth: DEMO_CREDENTIALS.longLivedToken }, body, duplex: 'half' };
    const res = (await core.handle(new Request(`${BASE}/api/upload`, init as RequestInit))) as Response;
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 500, error: 'emulator error: boom' });
  });

  it('refuses invalid options', () => {
    expect(() => createGatewayCore({ clients: [] })).toThrow(TypeError);
    expect(() => createGatewayCore({ accessTokenTtlSec: 0 })).toThrow(TypeError);
    expect(() => createGatewayCore({ acceptHeader: 'cookie' as 'auth' })).toThrow(TypeError);
    expect(() => createGatewayCore({ secret: '' })).toThrow(TypeError);
    expect(() => createGatewayCore({ maxBodyBytes: -1 })).toThrow(TypeError);
  });

  it('exposes the credentials it accepts', () => {
    expect(createGatewayCore().credentials).toEqual({ ...DEMO_CREDENTIALS });
    const custom = createGatewayCore({
      clients: [{ clientId: 'x', clientSecret: 'y' }],
      sharingKeys: {},
      longLivedTokens: [],
    });
    expect(custom.credentials).toMatchObject({
      clientId: 'x',
      sharingKey: undefined,
      longLivedToken: undefined,
    });
  });

  it('uses only web standards in the transport-independent modules', () => {
    const webOnly = [
      'apiRoutes.ts',
      'base64Url.ts',
      'demoCredentials.ts',
      'ekaHandlers.ts',
      'gatewayContext.ts',
      'gatewayCore.ts',
      'gatewayStats.ts',
      'jsonResponse.ts',
      'jwtSigner.ts',
      'readBody.ts',
      'sha256.ts',
      'sleep.ts',
      'tokenRoutes.ts',
      'tokenStore.ts',
      'types.ts',
    ];
    for (const file of webOnly) {
      const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/from 'node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });
});
