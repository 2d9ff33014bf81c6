import { describe, expect, it } from 'vitest';
import { createEkaAuth, isEkaAuthError } from '../src/index';
import { fakeEka, jwt, manualClock, SECRET } from './fakeEka';

const base = (eka: ReturnType<typeof fakeEka>, clock = manualClock()) => ({
  clientId: 'cid',
  clientSecret: SECRET,
  fetch: eka.fetch,
  clock: clock.clock,
  random: () => 0.5,
  // One call per flight, failing at once: these tests look at how one answer is classified.
  retry: { attempts: 1 },
  maxWaitMs: 0,
});

describe('Eka protocol', () => {
  it('logs in with POST /connect-auth/v1/account/login and a JSON body, no auth header, no query', async () => {
    const eka = fakeEka();
    const auth = createEkaAuth({ ...base(eka), sharingKey: 'share-1' });
    await auth.getAccessToken();
    const [call] = eka.calls;
    expect(call!.url).toBe('https://api.eka.care/connect-auth/v1/account/login');
    expect(call!.body).toEqual({ client_id: 'cid', client_secret: SECRET, sharing_key: 'share-1' });
    expect(call!.headers['content-type']).toBe('application/json');
    expect(call!.headers.authorization).toBeUndefined();
    expect(call!.headers.auth).toBeUndefined();
    expect(new URL(call!.url).search).toBe('');
  });

  it('omits sharing_key when none is configured', async () => {
    const eka = fakeEka();
    await createEkaAuth(base(eka)).getAccessToken();
    expect(eka.calls[0]!.body).toEqual({ client_id: 'cid', client_secret: SECRET });
  });

  it('refreshes with v2: Bearer old access token + Client-Id headers and {refresh_token, access_token}', async () => {
    const eka = fakeEka();
    const auth = createEkaAuth({ ...base(eka), baseUrl: 'https://api.dev.eka.care/' });
    await auth.getAccessToken();
    expect(await auth.getAccessToken({ forceRefresh: true })).toBe('at-2');
    const refresh = eka.calls[1]!;
    expect(refresh.url).toBe('https://api.dev.eka.care/connect-auth/v1/account/refresh-token');
    expect(refresh.headers.authorization).toBe('Bearer at-1');
    expect(refresh.headers['client-id']).toBe('cid');
    expect(refresh.body).toEqual({ refresh_token: 'rt-1', access_token: 'at-1' });
    expect(
      eka.calls.some((c) => c.url.includes('/account/refresh?') || c.url.endsWith('/account/refresh')),
    ).toBe(false);
  });

  it('stores the rotated refresh token and never presents one twice', async () => {
    const eka = fakeEka();
    const auth = createEkaAuth(base(eka));
    await auth.getAccessToken();
    for (let i = 0; i < 5; i++) await auth.getAccessToken({ forceRefresh: true });
    const presented = eka.calls.filter((c) => c.kind === 'refresh').map((c) => c.body.refresh_token);
    expect(presented).toEqual(['rt-1', 'rt-2', 'rt-3', 'rt-4', 'rt-5']);
    expect(eka.stats.reused).toBe(0);
  });

  it('tolerates a login response holding only access_token (opaque, no expiry known)', async () => {
    const eka = fakeEka();
    eka.next('login', { status: 200, body: { access_token: 'opaque-token' } });
    const clock = manualClock();
    const auth = createEkaAuth(base(eka, clock));
    expect(await auth.getAccessToken()).toBe('opaque-token');
    expect(auth.getSnapshot().expiresAt).toBeUndefined();
    clock.advance(365 * 24 * 3600_000);
    expect(await auth.getAccessToken()).toBe('opaque-token');
    expect(eka.stats.logins).toBe(1);
    // Without a refresh token, a 401 logs in again.
    const decision = await auth.authorize('https://api.eka.care/x');
    const outcome = await auth.handleUnauthorized(decision);
    expect(outcome.action).toBe('retry');
    expect(eka.stats.logins).toBe(2);
    expect(eka.stats.refreshes).toBe(0);
  });

  it('measures expiry from expires_in at receipt, not from the JWT exp', async () => {
    const clock = manualClock();
    const eka = fakeEka();
    const token = jwt({ exp: Math.floor(clock.clock() / 1000) + 99_999 });
    eka.next('login', { status: 200, body: { access_token: token, expires_in: 1800 } });
    const auth = createEkaAuth(base(eka, clock));
    await auth.getAccessToken();
    expect(auth.getSnapshot().expiresAt).toBe(clock.clock() + 1_800_000);
  });

  it('falls back to the JWT exp when expires_in is absent', async () => {
    const clock = manualClock();
    const eka = fakeEka();
    const exp = Math.floor(clock.clock() / 1000) + 600;
    eka.next('login', { status: 200, body: { access_token: jwt({ exp, iat: exp - 600, 'c-id': 'cid' }) } });
    const auth = createEkaAuth(base(eka, clock));
    await auth.getAccessToken();
    expect(auth.getSnapshot().expiresAt).toBe(exp * 1000);
  });

  it('treats a JWT exp already in the past on our clock as unknown (clock skew), not as expired', async () => {
    const clock = manualClock();
    const eka = fakeEka();
    eka.next('login', { status: 200, body: { access_token: jwt({ exp: 1000 }) } });
    const auth = createEkaAuth(base(eka, clock));
    await auth.getAccessToken();
    expect(auth.getSnapshot().expiresAt).toBeUndefined();
    await auth.getAccessToken();
    expect(eka.stats.logins).toBe(1);
  });

  it("classifies Eka's HTTP 500 with body code 400 as rejected credentials, with the request id", async () => {
    const eka = fakeEka();
    eka.next('login', {
      status: 500,
      body: { message: 'invalid credentials', code: 400 },
      headers: { 'apigw-requestid': 'abc-123' },
    });
    const auth = createEkaAuth(base(eka));
    const error = await auth.getAccessToken().catch((e) => e);
    expect(isEkaAuthError(error, 'CREDENTIALS_REJECTED')).toBe(true);
    expect(error.requestId).toBe('abc-123');
    expect(error.status).toBe(500);
    expect(error.message).toContain('abc-123');
    expect(error.message).toContain('invalid credentials');
    expect(auth.state).toBe('failed');
  });

  it('classifies a plain HTTP 500 as transient', async () => {
    const eka = fakeEka();
    eka.next('login', { status: 500, body: { message: 'internal' } });
    const error = await createEkaAuth(base(eka))
      .getAccessToken()
      .catch((e) => e);
    expect(isEkaAuthError(error, 'TRANSIENT')).toBe(true);
  });

  it('classifies a 2xx without access_token as transient (malformed answer)', async () => {
    const eka = fakeEka();
    eka.next('login', { status: 200, body: { hello: 'proxy page' } });
    const error = await createEkaAuth(base(eka))
      .getAccessToken()
      .catch((e) => e);
    expect(isEkaAuthError(error, 'TRANSIENT')).toBe(true);
  });

  it('never follows a redirect from a token endpoint: a 3xx is a transient failure', async () => {
    const eka = fakeEka();
    eka.next('login', { status: 302, headers: { location: 'https://evil.example/collect' } });
    const error = await createEkaAuth(base(eka))
      .getAccessToken()
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'TRANSIENT', status: 302 });
    expect(eka.calls).toHaveLength(1);
    expect(eka.fetch.mock.calls[0]![1]).toMatchObject({ redirect: 'manual' });
  });

  it('calls the injected fetch as a plain function (workerd rejects method-style calls)', async () => {
    const eka = fakeEka();
    const thisValues: unknown[] = [];
    const fetch = function (this: unknown, ...args: Parameters<typeof eka.fetch>) {
      thisValues.push(this);
      return eka.fetch(...args);
    } as typeof globalThis.fetch;
    await createEkaAuth({ ...base(eka), fetch }).getAccessToken();
    expect(thisValues).toEqual([undefined]);
  });
});
