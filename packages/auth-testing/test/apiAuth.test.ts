import { describe, expect, it } from 'vitest';
import { EKA_UNAUTHORIZED_BODIES } from '../src';
import { api, login, refresh, startGateway, type TokenBody } from './helpers';

const inAuth = (token: string) => ({ headers: { auth: token } });
const inAuthorization = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('API authentication', () => {
  it("accepts the token in either header with acceptHeader 'both' (the default)", async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    expect((await api(gateway, '/api/echo', inAuth(access_token))).status).toBe(200);
    expect((await api(gateway, '/api/echo', inAuthorization(access_token))).status).toBe(200);
    expect(gateway.stats.apiCalls).toMatchObject({ ok: 2, unauthorized: 0, byGeneration: { 1: 2 } });
  });

  it("with acceptHeader 'auth', answers 401 to a Bearer token and counts wrongPlace", async () => {
    const gateway = await startGateway({ acceptHeader: 'auth' });
    const { access_token } = await login(gateway);
    expect((await api(gateway, '/api/echo', inAuthorization(access_token))).status).toBe(401);
    expect((await api(gateway, '/api/echo', inAuth(access_token))).status).toBe(200);
    expect(gateway.stats.wrongPlace).toBe(1);
    expect(gateway.stats.apiCalls).toMatchObject({ ok: 1, unauthorized: 1 });
  });

  it("with acceptHeader 'authorization', answers 401 to an auth header and counts wrongPlace", async () => {
    const gateway = await startGateway({ acceptHeader: 'authorization' });
    const { access_token } = await login(gateway);
    expect((await api(gateway, '/api/echo', inAuth(access_token))).status).toBe(401);
    expect((await api(gateway, '/api/echo', inAuthorization(access_token))).status).toBe(200);
    expect(gateway.stats.wrongPlace).toBe(1);
  });

  it('answers 401 with an Eka 401 body when no token is sent', async () => {
    const gateway = await startGateway();
    const res = await api(gateway, '/api/echo');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
    expect(gateway.stats.apiCalls.unauthorized).toBe(1);
    expect(gateway.stats.wrongPlace).toBe(0);
  });

  it('sends the configured unauthorizedBody', async () => {
    const gateway = await startGateway({ unauthorizedBody: EKA_UNAUTHORIZED_BODIES[2] });
    const res = await api(gateway, '/api/echo', inAuth('garbage'));
    expect(await res.json()).toEqual({ error: [{ error_code: 'auth_error' }] });
  });

  it('answers 401 to every token issued before revokeAllAccessTokens(), not to later ones', async () => {
    const gateway = await startGateway();
    const old = await login(gateway);
    gateway.control.revokeAllAccessTokens();
    expect((await api(gateway, '/api/echo', inAuth(old.access_token))).status).toBe(401);
    const next = (await (await refresh(gateway, old)).json()) as TokenBody;
    expect((await api(gateway, '/api/echo', inAuth(next.access_token))).status).toBe(200);
  });

  it('answers 401 to every token issued before expireAccessTokens()', async () => {
    const gateway = await startGateway();
    const old = await login(gateway);
    gateway.control.expireAccessTokens();
    expect((await api(gateway, '/api/echo', inAuth(old.access_token))).status).toBe(401);
    const fresh = await login(gateway);
    expect((await api(gateway, '/api/echo', inAuth(fresh.access_token))).status).toBe(200);
  });

  it('answers 401 even to fresh tokens while alwaysUnauthorized is on', async () => {
    const gateway = await startGateway();
    gateway.control.alwaysUnauthorized(true);
    const { access_token } = await login(gateway);
    expect((await api(gateway, '/api/echo', inAuth(access_token))).status).toBe(401);
    gateway.control.alwaysUnauthorized(false);
    expect((await api(gateway, '/api/echo', inAuth(access_token))).status).toBe(200);
  });

  it('accepts long-lived tokens as generation 0 until revokeLongLived()', async () => {
    const gateway = await startGateway();
    const token = gateway.credentials.longLivedToken!;
    const res = await api(gateway, '/api/echo', inAuthorization(token));
    expect(await res.json()).toMatchObject({ generation: 0, clientId: null, workspace: null });
    gateway.control.revokeLongLived();
    expect((await api(gateway, '/api/echo', inAuthorization(token))).status).toBe(401);
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 0: 1 });
  });

  it('counts API calls per token generation', async () => {
    const gateway = await startGateway();
    const first = await login(gateway);
    const second = (await (await refresh(gateway, first)).json()) as TokenBody;
    await api(gateway, '/api/echo', inAuth(first.access_token));
    await api(gateway, '/api/echo', inAuth(second.access_token));
    await api(gateway, '/api/echo', inAuth(second.access_token));
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 1: 1, 2: 2 });
    expect(JSON.parse(JSON.stringify(gateway.stats)).apiCalls.byGeneration).toEqual({ 1: 1, 2: 2 });
  });

  it('zeroes stats in place with resetStats()', async () => {
    const gateway = await startGateway();
    const stats = gateway.stats;
    const { access_token } = await login(gateway);
    await api(gateway, '/api/echo?client_secret=x', inAuth(access_token));
    gateway.control.resetStats();
    expect(gateway.stats).toBe(stats);
    expect(stats).toMatchObject({ requests: 0, logins: { ok: 0 }, protocolViolations: [] });
    expect(stats.apiCalls.byGeneration).toEqual({});
    expect((await api(gateway, '/api/echo', inAuth(access_token))).status).toBe(200);
    expect(stats.apiCalls.byGeneration).toEqual({ 1: 1 });
  });
});
