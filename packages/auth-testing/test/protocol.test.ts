import { describe, expect, it } from 'vitest';
import { LOGIN, login, postJson, refresh, startGateway } from './helpers';

describe('protocol checks', () => {
  it('records every secret sent in a URL query string, without the secret itself', async () => {
    const gateway = await startGateway();
    const query = '?client_secret=demo-secret&sharing_key=demo-sharing-key';
    const res = await fetch(
      `${gateway.url}${LOGIN}${query}`,
      postJson({ client_id: 'demo-client', client_secret: 'demo-secret' }),
    );
    expect(res.status).toBe(200);
    const problems = gateway.stats.protocolViolations;
    expect(problems).toEqual([
      { route: LOGIN, problem: 'secret "client_secret" sent in the URL query string' },
      { route: LOGIN, problem: 'secret "sharing_key" sent in the URL query string' },
    ]);
    expect(JSON.stringify(gateway.stats)).not.toContain('demo-secret');
  });

  it('records a refresh token in the query of the refresh call', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    const url = `${gateway.url}/connect-auth/v1/account/refresh-token?refresh_token=${tokens.refresh_token}`;
    const headers = { authorization: `Bearer ${tokens.access_token}`, 'client-id': 'demo-client' };
    const res = await fetch(url, postJson({}, headers));
    expect(res.status).toBe(400);
    expect(gateway.stats.protocolViolations).toEqual([
      {
        route: '/connect-auth/v1/account/refresh-token',
        problem: 'secret "refresh_token" sent in the URL query string',
      },
    ]);
  });

  it('records an access token in the query of an API call', async () => {
    const gateway = await startGateway();
    await fetch(`${gateway.url}/api/echo?access_token=abc`);
    expect(gateway.stats.protocolViolations).toHaveLength(1);
  });

  it('records malformed token headers on API calls', async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    await fetch(`${gateway.url}/api/echo`, { headers: { authorization: access_token } });
    await fetch(`${gateway.url}/api/echo`, { headers: { auth: `Bearer ${access_token}` } });
    expect(gateway.stats.protocolViolations.map((v) => v.problem)).toEqual([
      'Authorization header without the Bearer scheme',
      'auth header must carry the bare token, without "Bearer "',
    ]);
  });

  it('records nothing for a client that follows the protocol', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    await refresh(gateway, tokens);
    expect(gateway.stats.protocolViolations).toEqual([]);
  });
});
