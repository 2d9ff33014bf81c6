import { createEkaAuth, type EkaAuth, type EkaAuthEvent, isEkaAuthError } from '@eka/auth-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type EkaGateway, startEkaGateway } from '../src/index';

let gateway: EkaGateway | undefined;
let auth: EkaAuth | undefined;
afterEach(async () => {
  auth?.dispose();
  await gateway?.close();
});

/** A clock both sides share, so expiry can be jumped without sleeping. */
function sharedClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, jump: (ms: number) => (offset += ms) };
}

describe('@eka/auth-core against the emulator over loopback', () => {
  it('login → expiry → refresh → rotation → revoke → login fallback, speaking the protocol exactly', async () => {
    const clock = sharedClock();
    gateway = await startEkaGateway({ accessTokenTtlSec: 600, clock: clock.now });
    const events: EkaAuthEvent[] = [];
    auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
      clock: clock.now,
      onEvent: (e) => events.push(e),
    });
    const api = async () => {
      const decision = await auth!.authorize(`${gateway!.url}/api/echo`);
      let response = await fetch(`${gateway!.url}/api/echo`, { headers: { ...decision.headers } });
      if (response.status === 401) {
        const outcome = await auth!.handleUnauthorized(decision);
        if (outcome.action !== 'retry') throw new Error(`unexpected ${outcome.action}`);
        response = await fetch(`${gateway!.url}/api/echo`, { headers: { ...outcome.decision.headers } });
      }
      return response.json();
    };

    // Login.
    expect((await api()).generation).toBe(1);
    expect(gateway.stats.logins.ok).toBe(1);
    // Expiry (measured from expires_in at receipt) → refresh v2, which rotates the refresh token.
    clock.jump(600_000);
    expect((await api()).generation).toBe(2);
    clock.jump(600_000);
    expect((await api()).generation).toBe(3);
    expect(gateway.stats.refreshes).toMatchObject({ ok: 2, reused: 0 });
    // Server-side revoke → one forced refresh.
    gateway.control.revokeAllAccessTokens();
    expect((await api()).generation).toBe(4);
    expect(gateway.stats.refreshes.ok).toBe(3);
    // Refresh tokens revoked too → refresh rejected → one login with the credentials.
    gateway.control.revokeRefreshTokens();
    gateway.control.revokeAllAccessTokens();
    expect((await api()).generation).toBe(5);
    expect(gateway.stats.logins.ok).toBe(2);
    expect(gateway.stats.refreshes.rejected).toBe(1);
    expect(events.some((e) => e.type === 'warning' && /refresh token rejected/.test(e.message))).toBe(true);
    // Eka's protocol exactly: no deprecated v1, no secrets in URLs, headers where the spec wants them.
    expect(gateway.stats.protocolViolations).toEqual([]);
    expect(gateway.stats.v1Refreshes).toBe(0);
    expect(gateway.stats.wrongPlace).toBe(0);
  });

  it('works from the 2024 captured login response (access_token only, JWT exp fallback)', async () => {
    gateway = await startEkaGateway({ minimalLoginResponse: true, accessTokenTtlSec: 900 });
    auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
    });
    await auth.getAccessToken();
    const expiresAt = auth.getSnapshot().expiresAt!;
    expect(Math.abs(expiresAt - (Date.now() + 900_000))).toBeLessThan(5_000);
    // No refresh token: a forced refresh logs in again.
    await auth.getAccessToken({ forceRefresh: true });
    expect(gateway.stats.logins.ok).toBe(2);
    expect(gateway.stats.refreshes.ok).toBe(0);
  });

  it("bad credentials: Eka's HTTP 500 {code:400} becomes CREDENTIALS_REJECTED with the request id", async () => {
    gateway = await startEkaGateway();
    auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: 'wrong',
      baseUrl: gateway.url,
    });
    const error = await auth.getAccessToken().catch((e) => e);
    expect(isEkaAuthError(error, 'CREDENTIALS_REJECTED')).toBe(true);
    expect(error.status).toBe(500);
    expect(error.requestId).toMatch(/.+/);
    expect(auth.state).toBe('failed');
  });

  it('a sharing key yields tokens that act on the other workspace', async () => {
    gateway = await startEkaGateway();
    auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      sharingKey: gateway.credentials.sharingKey!,
      baseUrl: gateway.url,
    });
    const decision = await auth.authorize(`${gateway.url}/api/echo`);
    const body = await (await fetch(`${gateway.url}/api/echo`, { headers: { ...decision.headers } })).json();
    expect(body.workspace).toBe(gateway.credentials.sharedWorkspaceId);
  });

  it('a hanging token endpoint: one hang is retried unseen; hangs on every attempt time out', async () => {
    gateway = await startEkaGateway();
    gateway.control.failNext('login', 1, 'hang');
    auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
      timeoutMs: 300,
      maxWaitMs: 0,
    });
    expect(await auth.getAccessToken()).toBeTruthy();
    expect(gateway.stats.logins.ok).toBe(1);
    auth.dispose();
    gateway.control.failNext('login', 3, 'hang');
    auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
      timeoutMs: 300,
      maxWaitMs: 0,
    });
    const started = Date.now();
    const error = await auth.getAccessToken().catch((e) => e);
    expect(error.code).toBe('TIMEOUT');
    // Three attempts of 300 ms and two short pauses — not a hang.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
