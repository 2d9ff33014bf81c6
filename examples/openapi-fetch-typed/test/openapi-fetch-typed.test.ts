import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isEkaAuthError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import createClient from 'openapi-fetch';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import type { paths } from '../src/eka-api.generated';
import { main } from '../src/run';

describe('openapi-fetch-typed example', () => {
  let gateway: EkaGateway;
  let app: ReturnType<typeof createApp>;
  beforeEach(async () => {
    gateway = await startEkaGateway();
    app = createApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
    });
  });
  afterEach(async () => {
    app.dispose();
    await gateway.close();
  });

  it('the typed DELETE /privacy/v1/user is authenticated by the middleware (202)', async () => {
    const result = await app.requestPrivacyDeletion();
    expect(result).toEqual({ status: 202, accepted: true, error: undefined });
    // One login; the call carried token #1 and the client-id header the route requires.
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls).toMatchObject({ ok: 1, unauthorized: 0, byGeneration: { 1: 1 } });
  });

  it('after revokeAllAccessTokens() the 401 is answered by one refresh and one re-send', async () => {
    await app.requestPrivacyDeletion();
    gateway.control.revokeAllAccessTokens();

    const { data, error, response } = await app.client.DELETE('/privacy/v1/user');
    // { data, error, response } describe the retry, not the 401.
    expect(response.status).toBe(202);
    expect(error).toBeUndefined();
    expect(data).toBeUndefined();
    expect(gateway.stats.apiCalls.unauthorized).toBe(1);
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 0 });
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 1: 1, 2: 1 });
    expect(gateway.stats.protocolViolations).toEqual([]);
  });

  it('an API that keeps answering 401 rejects with a typed UNAUTHORIZED error', async () => {
    gateway.control.alwaysUnauthorized(true);
    const failure = await app.requestPrivacyDeletion().catch((error: unknown) => error);
    expect(isEkaAuthError(failure, 'UNAUTHORIZED')).toBe(true);
    expect(gateway.stats.apiCalls.unauthorized).toBe(2); // the first attempt and its one re-send
  });

  it('types: WithEkaAuth drops the required auth headers; paths are checked', () => {
    // Type-level only (tsc checks this file; nothing is sent).
    const typed = () => app.client.DELETE('/privacy/v1/user');
    // @ts-expect-error: without WithEkaAuth the spec makes Authorization and client-id required params
    const untyped = () => createClient<paths>({ baseUrl: gateway.url }).DELETE('/privacy/v1/user');
    // @ts-expect-error: no such path in Eka's spec
    const unknown = () => app.client.DELETE('/privacy/v1/users');
    expect([typed, untyped, unknown].every((f) => typeof f === 'function')).toBe(true);
  });

  it('src/eka-api.generated.ts is what `pnpm generate` produces from the spec', async () => {
    const require = createRequire(import.meta.url);
    const spec = require
      .resolve('@eka/auth-testing/package.json')
      .replace(/package\.json$/, 'openapi/authorization.openapi.yml');
    const committed = await readFile(new URL('../src/eka-api.generated.ts', import.meta.url), 'utf8');
    const generated = astToString(await openapiTS(pathToFileURL(spec)));
    expect(committed).toContain(generated);
  });

  it('main() with no EKA_* variables runs the typed call and the 401 retry on the embedded emulator', async () => {
    const out: string[] = [];
    const code = await main({}, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    expect(out.filter((l) => l.includes('→ HTTP 202 (accepted)'))).toHaveLength(2);
    expect(out.join('\n')).toContain('1 login, 1 × 401 answered by 1 refresh and one re-send');
  });

  it('main() with real-gateway variables logs in but sends no DELETE unless EKA_CONFIRM_PRIVACY_DELETE=yes', async () => {
    const env = {
      EKA_CLIENT_ID: gateway.credentials.clientId,
      EKA_CLIENT_SECRET: gateway.credentials.clientSecret,
      EKA_BASE_URL: gateway.url,
    };
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await main(env, io)).toBe(0);
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls.ok).toBe(0);
    expect(out.join('\n')).toContain('EKA_CONFIRM_PRIVACY_DELETE=yes');

    expect(await main({ ...env, EKA_CONFIRM_PRIVACY_DELETE: 'yes' }, io)).toBe(0);
    expect(gateway.stats.apiCalls.ok).toBe(1);
    expect(out.join('\n')).not.toContain(gateway.credentials.clientSecret);
  });
});
