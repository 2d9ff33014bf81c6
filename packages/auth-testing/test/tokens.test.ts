import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, jwtPayload, login, refresh, startGateway, type TokenBody } from './helpers';

const T0 = Date.UTC(2030, 0, 1);

describe('access tokens', () => {
  it('are HS256 JWTs with exp, iat, c-id, jti and gen, signed with the configured secret', async () => {
    const gateway = await startGateway({ secret: 'test-secret', clock: () => T0 });
    const { access_token } = await login(gateway);
    const [header, payload, signature] = access_token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const expected = createHmac('sha256', 'test-secret').update(`${header}.${payload}`).digest('base64url');
    expect(signature).toBe(expected);
    expect(jwtPayload(access_token)).toEqual({
      iat: T0 / 1000,
      exp: T0 / 1000 + 1800,
      'c-id': 'demo-client',
      jti: expect.any(String),
      gen: 1,
    });
  });

  it('number generations across logins and refreshes of the whole gateway', async () => {
    const gateway = await startGateway();
    const first = await login(gateway);
    const second = await login(gateway);
    const third = (await (await refresh(gateway, first)).json()) as TokenBody;
    expect([first, second, third].map((t) => jwtPayload(t.access_token).gen)).toEqual([1, 2, 3]);
    expect(new Set([first, second, third].map((t) => jwtPayload(t.access_token).jti)).size).toBe(3);
  });

  it('expire by the injected clock, exactly at accessTokenTtlSec', async () => {
    let now = T0;
    const gateway = await startGateway({ clock: () => now, accessTokenTtlSec: 60 });
    const { access_token } = await login(gateway);
    now = T0 + 59_999;
    expect((await api(gateway, '/api/echo', { token: access_token })).status).toBe(200);
    now = T0 + 60_000;
    expect((await api(gateway, '/api/echo', { token: access_token })).status).toBe(401);
  });

  it('follow a clock replaced with control.setClock', async () => {
    const gateway = await startGateway({ clock: () => T0 });
    const { access_token } = await login(gateway);
    gateway.control.setClock(() => T0 + 1800 * 1000);
    expect((await api(gateway, '/api/echo', { token: access_token })).status).toBe(401);
    gateway.control.setClock(() => T0);
    expect((await api(gateway, '/api/echo', { token: access_token })).status).toBe(200);
  });

  it('report expires_in and refresh_expires_in from the options', async () => {
    const gateway = await startGateway({ accessTokenTtlSec: 5, refreshTokenTtlSec: 10 });
    const body = await login(gateway);
    expect([body.expires_in, body.refresh_expires_in]).toEqual([5, 10]);
  });

  it('reject a token signed with another secret', async () => {
    const gateway = await startGateway({ secret: 'one' });
    const other = await startGateway({ secret: 'two' });
    const { access_token } = await login(other);
    expect((await api(gateway, '/api/echo', { token: access_token })).status).toBe(401);
  });

  it('reject a token with a valid signature that this gateway never issued', async () => {
    const gateway = await startGateway({ secret: 'shared' });
    const other = await startGateway({ secret: 'shared' });
    const { access_token } = await login(other);
    expect((await api(gateway, '/api/echo', { token: access_token })).status).toBe(401);
  });
});
