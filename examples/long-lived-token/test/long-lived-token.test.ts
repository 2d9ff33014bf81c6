import { LongLivedTokenRejectedError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, handleFailure } from '../src/app';
import { main } from '../src/run';

describe('long-lived-token example', () => {
  let gateway: EkaGateway;
  let app: ReturnType<typeof createApp>;
  beforeEach(async () => {
    gateway = await startEkaGateway();
    app = createApp({
      baseUrl: gateway.url,
      longLivedToken: gateway.credentials.longLivedToken!,
      clientId: gateway.credentials.clientId,
      apiPath: '/api/echo',
    });
  });
  afterEach(async () => {
    app.dispose();
    await gateway.close();
  });

  it('calls the API with the long-lived token: no token endpoint is ever called', async () => {
    const first = await app.callApi();
    const second = await app.callApi();
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body).toMatchObject({ path: '/api/echo', generation: 0 }); // 0 = a long-lived token
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 0: 2 });
    expect(gateway.stats.tokenEndpointCalls).toBe(0);
    expect(gateway.stats.logins.ok).toBe(0);
    expect(app.auth.state).toBe('valid');
  });

  it('after revokeLongLived() a 401 is a typed LONG_LIVED_TOKEN_REJECTED: no refresh, no re-send', async () => {
    await app.callApi();
    gateway.control.revokeLongLived();

    const failure = await app.callApi().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LongLivedTokenRejectedError);
    expect(failure).toMatchObject({ code: 'LONG_LIVED_TOKEN_REJECTED', status: 401 });
    expect((failure as LongLivedTokenRejectedError).requestId).toMatch(/.+/); // apigw-requestid, for support
    expect(JSON.stringify(failure)).not.toContain(gateway.credentials.longLivedToken!);

    expect(gateway.stats.tokenEndpointCalls).toBe(0);
    expect(gateway.stats.apiCalls.unauthorized).toBe(1); // the one 401: it was not re-sent

    const handled = handleFailure(failure);
    expect(handled.retry).toBe(false);
    expect(handled.message).toMatch(
      /^LONG_LIVED_TOKEN_REJECTED \(HTTP 401, apigw-requestid .+\): create a new/,
    );
  });

  it('main() with no EKA_* variables shows the revoke on the embedded emulator and exits 0', async () => {
    const out: string[] = [];
    const code = await main({}, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('GET /api/echo → HTTP 200');
    expect(text).toContain('rejected: LONG_LIVED_TOKEN_REJECTED (HTTP 401');
    expect(text).toContain('0 token endpoint calls, 1 × 401 (no refresh, no re-send)');
    expect(text).not.toContain('demo-long-lived-token');
  });

  it('main() with EKA_LONG_LIVED_TOKEN talks to the configured gateway', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    const env = {
      EKA_LONG_LIVED_TOKEN: gateway.credentials.longLivedToken,
      EKA_BASE_URL: gateway.url,
      EKA_API_PATH: '/api/echo',
    };
    expect(await main(env, io)).toBe(0);
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 0: 1 });
    gateway.control.revokeLongLived();
    expect(await main(env, io)).toBe(1);
    expect(out.at(-1)).toMatch(/^LONG_LIVED_TOKEN_REJECTED/);
    expect(gateway.stats.tokenEndpointCalls).toBe(0);
  });
});
