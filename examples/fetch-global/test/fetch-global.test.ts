import { isEkaAuthError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApp } from '../src/app';
import { main } from '../src/run';

describe('fetch-global example', () => {
  let gateway: EkaGateway;
  beforeEach(async () => {
    gateway = await startEkaGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('authenticates the unmodified SDK for Eka only, then restores the original fetch', async () => {
    const before = globalThis.fetch;
    const lines: string[] = [];
    const result = await runApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      apiPath: '/api/echo',
      telemetryUrl: `${gateway.foreignUrl}/telemetry`,
      log: (line) => lines.push(line),
    });

    // The SDK's Eka call went out with a token: one login, one authenticated API call.
    expect(result.installed).toBe(true);
    expect(result.eka.status).toBe(200);
    expect(result.eka.body).toMatchObject({ path: '/api/echo', clientId: 'demo-client', generation: 1 });
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls.byGeneration[1]).toBe(1);

    // The call to the other origin reached it without any token header.
    expect(result.telemetry.status).toBe(200);
    expect(result.telemetry.body).toMatchObject({
      foreign: true,
      path: '/telemetry',
      receivedAuth: false,
      receivedAuthorization: false,
    });
    expect(gateway.stats.foreignRequests).toBe(1);
    expect(gateway.stats.tokenLeaks).toBe(0);

    // uninstall() restored the very same function: the SDK is back to unauthenticated calls.
    expect(result.restored).toBe(true);
    expect(globalThis.fetch).toBe(before);
    expect(result.afterUninstall.status).toBe(401);
    expect(gateway.stats.apiCalls.unauthorized).toBe(1);
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.protocolViolations).toEqual([]);
    expect(lines.join('\n')).not.toContain(gateway.credentials.clientSecret);
  });

  it('a rejected login rejects the SDK call, and fetch is restored all the same', async () => {
    const before = globalThis.fetch;
    const failure = await runApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: 'not-the-secret-42',
      apiPath: '/api/echo',
      telemetryUrl: `${gateway.foreignUrl}/telemetry`,
    }).catch((error: unknown) => error);
    expect(isEkaAuthError(failure, 'CREDENTIALS_REJECTED')).toBe(true);
    expect(String(failure)).not.toContain('not-the-secret-42');
    expect(globalThis.fetch).toBe(before);
    expect(gateway.stats.logins.rejected).toBe(1);
    expect(gateway.stats.foreignRequests).toBe(0);
  });

  it('main() with no EKA_* variables runs against the embedded emulator and exits 0', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main({}, { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/embedded Eka gateway emulator/);
    expect(out.join('\n')).toMatch(/1 login, 1 request\(s\) to the other origin, 0 carrying a token/);
  });

  it('main() refuses half-set credentials and a missing EKA_API_PATH for the real gateway', async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(await main({ EKA_CLIENT_ID: 'x' }, io)).toBe(1);
    expect(await main({ EKA_CLIENT_ID: 'x', EKA_CLIENT_SECRET: 'y' }, io)).toBe(1);
    expect(err[0]).toMatch(/both EKA_CLIENT_ID and EKA_CLIENT_SECRET/);
    expect(err[1]).toMatch(/EKA_API_PATH/);
  });
});
