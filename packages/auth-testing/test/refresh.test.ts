import { describe, expect, it } from 'vitest';
import { REFRESH_PATH, REFRESH_V1_PATH } from '../src';
import { api, login, postJson, refresh, startGateway, type TokenBody } from './helpers';

const T0 = Date.UTC(2030, 0, 1);

describe('refresh (v2)', () => {
  it('rotates: every refresh issues a new refresh token and a working access token', async () => {
    const gateway = await startGateway();
    const first = await login(gateway);
    const res = await refresh(gateway, first);
    expect(res.status).toBe(200);
    const second = (await res.json()) as TokenBody;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second).toMatchObject({ expires_in: 1800, refresh_expires_in: 86_400 });
    expect((await api(gateway, '/api/echo', { token: second.access_token })).status).toBe(200);
    expect((await refresh(gateway, second)).status).toBe(200);
    expect(gateway.stats.refreshes).toEqual({ ok: 2, rejected: 0, reused: 0 });
  });

  it('answers 401 "refresh token reused" to a refresh token presented twice', async () => {
    const gateway = await startGateway();
    const first = await login(gateway);
    await refresh(gateway, first);
    const reused = await refresh(gateway, first);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toEqual({ code: 401, error: 'refresh token reused' });
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 1 });
  });

  it('lets exactly one of many concurrent refreshes with the same token win', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => refresh(gateway, tokens).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 7 });
  });

  it('accepts an expired access token in the Authorization header', async () => {
    let now = T0;
    const gateway = await startGateway({ clock: () => now, accessTokenTtlSec: 60 });
    const tokens = await login(gateway);
    now = T0 + 3_600_000;
    expect((await refresh(gateway, tokens)).status).toBe(200);
  });

  it('accepts a revoked access token in the header (revocation is what refresh is for)', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    gateway.control.revokeAllAccessTokens();
    expect((await refresh(gateway, tokens)).status).toBe(200);
  });

  it('rejects an unknown or expired refresh token with 401 and counts it as rejected', async () => {
    let now = T0;
    const gateway = await startGateway({ clock: () => now, refreshTokenTtlSec: 100 });
    const tokens = await login(gateway);
    const unknown = await refresh(gateway, { ...tokens, refresh_token: 'nope' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ code: 401, error: 'invalid refresh token' });
    now = T0 + 100_000;
    const expired = await refresh(gateway, tokens);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ code: 401, error: 'refresh token expired' });
    expect(gateway.stats.refreshes).toEqual({ ok: 0, rejected: 2, reused: 0 });
  });

  it('rejects every refresh token after control.revokeRefreshTokens()', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    gateway.control.revokeRefreshTokens();
    const res = await refresh(gateway, tokens);
    expect(res.status).toBe(401);
    expect(gateway.stats.refreshes.rejected).toBe(1);
    const fresh = await login(gateway);
    expect((await refresh(gateway, fresh)).status).toBe(200);
  });

  it('requires the header access token to be one it issued to that Client-Id', async () => {
    const gateway = await startGateway({ clients: [gatewayClient('a'), gatewayClient('b')] });
    const loginAs = async (id: string) =>
      (await (
        await fetch(
          `${gateway.url}/connect-auth/v1/account/login`,
          postJson({ client_id: id, client_secret: `s-${id}` }),
        )
      ).json()) as TokenBody;
    const a = await loginAs('a');
    const b = await loginAs('b');
    const foreign = await refresh(gateway, { access_token: 'not.a.jwt', refresh_token: a.refresh_token });
    expect(foreign.status).toBe(401);
    const mixed = await refresh(gateway, { access_token: b.access_token, refresh_token: a.refresh_token });
    expect(mixed.status).toBe(401);
    const wrongClient = await refresh(gateway, a, {
      headers: { authorization: `Bearer ${b.access_token}`, 'client-id': 'b' },
    });
    expect(await wrongClient.json()).toEqual({ code: 401, error: 'refresh token belongs to another client' });
    expect(
      (
        await refresh(gateway, a, {
          headers: { authorization: `Bearer ${a.access_token}`, 'client-id': 'a' },
        })
      ).status,
    ).toBe(200);
  });

  it('answers 400 and records a violation when Authorization or Client-Id is missing', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    const noHeaders = await refresh(gateway, tokens, { headers: {} });
    expect(noHeaders.status).toBe(400);
    expect(await noHeaders.json()).toEqual({ code: 400, error: expect.stringContaining('Client-Id') });
    const noClientId = await refresh(gateway, tokens, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(noClientId.status).toBe(400);
    expect(gateway.stats.protocolViolations).toEqual([
      { route: REFRESH_PATH, problem: 'missing required header Authorization: Bearer and Client-Id' },
      { route: REFRESH_PATH, problem: 'missing required header Client-Id' },
    ]);
    expect((await refresh(gateway, tokens)).status).toBe(200);
  });
});

describe('refresh (deprecated v1)', () => {
  it('answers like v2 but records a protocol violation and counts v1Refreshes', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    const res = await refresh(gateway, tokens, { v1: true });
    expect(res.status).toBe(200);
    const next = (await res.json()) as TokenBody;
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect((await refresh(gateway, tokens, { v1: true })).status).toBe(401);
    expect(gateway.stats.v1Refreshes).toBe(2);
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 1 });
    expect(gateway.stats.protocolViolations[0]).toEqual({
      route: REFRESH_V1_PATH,
      problem: expect.stringContaining('deprecated'),
    });
  });

  it('does not require the v2 headers', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    expect((await refresh(gateway, tokens, { v1: true, headers: {} })).status).toBe(200);
  });
});

function gatewayClient(id: string) {
  return { clientId: id, clientSecret: `s-${id}` };
}
