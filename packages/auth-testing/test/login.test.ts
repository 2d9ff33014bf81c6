import { describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../src';
import { api, jwtPayload, LOGIN, login, postJson, startGateway } from './helpers';

describe('login', () => {
  it('answers 200 with an access token, a refresh token and expiries in seconds', async () => {
    const gateway = await startGateway();
    const res = await fetch(
      `${gateway.url}${LOGIN}`,
      postJson({ client_id: 'demo-client', client_secret: 'demo-secret' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 1800,
      refresh_expires_in: 86_400,
    });
    expect(gateway.stats.logins).toEqual({ ok: 1, rejected: 0 });
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it('rejects bad credentials like Eka: HTTP 500, body code 400, with an apigw-requestid', async () => {
    const gateway = await startGateway();
    const res = await fetch(
      `${gateway.url}${LOGIN}`,
      postJson({ client_id: 'demo-client', client_secret: 'nope' }),
    );
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"message":"invalid credentials","code":400}');
    expect(res.headers.get('apigw-requestid')).toMatch(/^[\w-]{15}=$/);
    expect(gateway.stats.logins).toEqual({ ok: 0, rejected: 1 });
  });

  it('gives every response its own apigw-requestid', async () => {
    const gateway = await startGateway();
    const ids = new Set<string | null>();
    for (let i = 0; i < 5; i++)
      ids.add((await fetch(`${gateway.url}/api/echo`)).headers.get('apigw-requestid'));
    expect(ids.size).toBe(5);
    expect(ids.has(null)).toBe(false);
  });

  it('rejects an unknown sharing key as invalid credentials', async () => {
    const gateway = await startGateway();
    const body = { client_id: 'demo-client', client_secret: 'demo-secret', sharing_key: 'unknown' };
    const res = await fetch(`${gateway.url}${LOGIN}`, postJson(body));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'invalid credentials', code: 400 });
  });

  it('answers only { access_token } with minimalLoginResponse, like the 2024 capture', async () => {
    const gateway = await startGateway({ minimalLoginResponse: true });
    const body = await login(gateway);
    expect(Object.keys(body)).toEqual(['access_token']);
  });

  it('issues tokens for the shared workspace when a sharing key is used', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway, { sharing_key: DEMO_CREDENTIALS.sharingKey });
    expect(jwtPayload(access_token).ws).toBe('ws-partner');
    const echo = await (await api(gateway, '/api/echo', { token: access_token })).json();
    expect(echo).toMatchObject({ workspace: 'ws-partner', clientId: 'demo-client' });
  });

  it('accepts the legacy api_key / user_token fields but records a protocol note', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway, { api_key: 'demo-sharing-key' });
    expect(jwtPayload(access_token).ws).toBe('ws-partner');
    await login(gateway, { user_token: 'demo-sharing-key' });
    expect(gateway.stats.protocolViolations.map((v) => v.problem)).toEqual([
      expect.stringContaining('"api_key"'),
      expect.stringContaining('"user_token"'),
    ]);
  });

  it('records a violation when login carries an auth header', async () => {
    const gateway = await startGateway();
    const body = { client_id: 'demo-client', client_secret: 'demo-secret' };
    const res = await fetch(`${gateway.url}${LOGIN}`, postJson(body, { authorization: 'Bearer None' }));
    expect(res.status).toBe(200);
    expect(gateway.stats.protocolViolations).toEqual([
      { route: LOGIN, problem: expect.stringContaining('without') },
    ]);
  });

  it('accepts every configured client and nothing else', async () => {
    const clients = [
      { clientId: 'a', clientSecret: 'sa' },
      { clientId: 'b', clientSecret: 'sb' },
    ];
    const gateway = await startGateway({ clients });
    const attempt = (id: string, secret: string) =>
      fetch(`${gateway.url}${LOGIN}`, postJson({ client_id: id, client_secret: secret })).then(
        (r) => r.status,
      );
    expect(await attempt('a', 'sa')).toBe(200);
    expect(await attempt('b', 'sb')).toBe(200);
    expect(await attempt('a', 'sb')).toBe(500);
    expect(await attempt('demo-client', 'demo-secret')).toBe(500);
    expect(gateway.credentials.clientId).toBe('a');
  });
});
