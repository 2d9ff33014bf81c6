import { describe, expect, it } from 'vitest';
import { api, LOGIN, login, postJson, refresh, startGateway } from './helpers';

const demoLogin = postJson({ client_id: 'demo-client', client_secret: 'demo-secret' });

describe('fault injection', () => {
  it('answers the next N logins with 503, then normally', async () => {
    const gateway = await startGateway();
    gateway.control.failNext('login', 2, { status: 503 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${gateway.url}${LOGIN}`, demoLogin)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(gateway.stats.injectedFailures).toBe(2);
    expect(gateway.stats.logins).toEqual({ ok: 1, rejected: 0 });
    expect(gateway.stats.tokenEndpointCalls).toBe(3);
  });

  it('answers 429 with Retry-After in seconds', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    gateway.control.failNext('refresh', 1, { status: 429, retryAfterSec: 7 });
    const res = await refresh(gateway, tokens);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
    expect(await res.json()).toEqual({ code: 429, error: 'injected failure' });
    expect((await refresh(gateway, tokens)).status).toBe(200);
  });

  it('sends a custom body: strings verbatim as text, others as JSON', async () => {
    const gateway = await startGateway();
    gateway.control.failNext('login', 1, { status: 502, body: '<html>Bad Gateway</html>' });
    gateway.control.failNext('login', 1, { status: 400, body: { code: 400, error: 'nope' } });
    const html = await fetch(`${gateway.url}${LOGIN}`, demoLogin);
    expect([html.status, await html.text()]).toEqual([502, '<html>Bad Gateway</html>']);
    const json = await fetch(`${gateway.url}${LOGIN}`, demoLogin);
    expect(await json.json()).toEqual({ code: 400, error: 'nope' });
  });

  it("answers 'bad-credentials' with Eka's 500 + code 400 on the refresh route", async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    gateway.control.failNext('refresh', 1, 'bad-credentials');
    const res = await refresh(gateway, tokens);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'invalid credentials', code: 400 });
  });

  it("destroys the connection on 'reset' (fetch rejects) and keeps serving", async () => {
    const gateway = await startGateway();
    gateway.control.failNext('login', 1, 'reset');
    await expect(fetch(`${gateway.url}${LOGIN}`, demoLogin)).rejects.toThrow(TypeError);
    expect((await fetch(`${gateway.url}${LOGIN}`, demoLogin)).status).toBe(200);
  });

  it("never answers on 'hang'; the client can abort and close() is still fast", async () => {
    const gateway = await startGateway();
    const { access_token } = await login(gateway);
    gateway.control.failNext('api', 1, 'hang');
    const started = Date.now();
    const call = api(gateway, '/api/echo', { token: access_token, signal: AbortSignal.timeout(200) });
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const closing = Date.now();
    await gateway.close();
    expect(Date.now() - closing).toBeLessThan(500);
  });

  it("close() ends a 'hang' the client is still waiting for", async () => {
    const gateway = await startGateway();
    gateway.control.failNext('login', 1, 'hang');
    const call = fetch(`${gateway.url}${LOGIN}`, demoLogin);
    const outcome = call.then(
      () => 'answered',
      () => 'rejected',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = Date.now();
    await gateway.close();
    expect(Date.now() - closing).toBeLessThan(500);
    expect(await outcome).toBe('rejected');
  });

  it('counts injected API 401s and 403s in apiCalls', async () => {
    const gateway = await startGateway();
    gateway.control.failNext('api', 1, { status: 401, body: { message: 'Unauthorized' } });
    gateway.control.failNext('api', 1, { status: 403 });
    expect((await api(gateway, '/api/echo')).status).toBe(401);
    expect((await api(gateway, '/api/echo')).status).toBe(403);
    expect(gateway.stats.apiCalls).toMatchObject({ unauthorized: 1, forbidden: 1, ok: 0 });
  });

  it('delays answers by the latency set per route', async () => {
    const gateway = await startGateway();
    gateway.control.setLatency('login', 800);
    let started = Date.now();
    const { access_token } = await login(gateway);
    expect(Date.now() - started).toBeGreaterThanOrEqual(790);
    started = Date.now();
    await api(gateway, '/api/echo', { token: access_token });
    expect(Date.now() - started).toBeLessThan(790);
    gateway.control.setLatency('login', 0);
    started = Date.now();
    await login(gateway);
    expect(Date.now() - started).toBeLessThan(790);
  });

  it('validates control arguments', async () => {
    const gateway = await startGateway();
    expect(() => gateway.control.failNext('login', 1, { status: 99 })).toThrow(TypeError);
    expect(() => gateway.control.failNext('login', -1, 'reset')).toThrow(TypeError);
    expect(() => gateway.control.failNext('nope' as 'login', 1, 'reset')).toThrow(TypeError);
    expect(() => gateway.control.setLatency('api', Number.NaN)).toThrow(TypeError);
  });
});
