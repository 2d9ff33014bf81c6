import { isEkaAuthError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { AxiosError } from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { ApiError } from '../src/records-api';
import { main } from '../src/run';

describe('axios-existing-app example', () => {
  let gateway: EkaGateway;
  let app: ReturnType<typeof createApp>;
  let log: string[];
  /** Lines written by the app's request interceptor / response interceptor (success, error). */
  const sent = () => log.filter((l) => l.startsWith('→ '));
  const received = () => log.filter((l) => l.startsWith('← '));
  const failed = () => log.filter((l) => l.startsWith('✗ '));

  beforeEach(async () => {
    gateway = await startEkaGateway();
    log = [];
    app = createApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      log: (line) => log.push(line),
    });
  });
  afterEach(async () => {
    app.dispose();
    await gateway.close();
  });

  it('the existing module works against the emulator: one login, its interceptors ran once', async () => {
    const me = await app.records.whoAmI();
    expect(me).toEqual({ clientId: 'demo-client', generation: 1 });
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls.ok).toBe(1);
    expect(log).toEqual(['→ GET /api/echo', '← 200 GET /api/echo']);
  });

  it('a revoked token: 401 → one refresh → the POST is re-sent with its body; interceptors ran once per attempt', async () => {
    await app.records.whoAmI();
    gateway.control.revokeAllAccessTokens();
    log.length = 0;

    const note = await app.records.saveNote('hello');
    expect(note).toEqual({ received: { text: 'hello' }, generation: 2 });
    expect(gateway.stats.apiCalls.unauthorized).toBe(1);
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 0 });
    expect(gateway.stats.logins.ok).toBe(1);

    // Two attempts: the request interceptor ran twice, the response interceptor once per answer —
    // its error side for the 401, its success side for the retry.
    expect(sent()).toEqual(['→ POST /api/echo', '→ POST /api/echo']);
    expect(failed()).toHaveLength(1);
    expect(failed()[0]).toMatch(/^✗ 401 POST \/api\/echo: Unauthorized$/);
    expect(received()).toEqual(['← 200 POST /api/echo']);
    expect(log).toHaveLength(4);
  });

  it("other errors still come out of the app's own normaliser, untouched by the adapter", async () => {
    const error = await app.records.secret().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, message: 'records API: forbidden' });
    expect((error as ApiError).requestId).toMatch(/.+/);
    expect((error as ApiError).cause).toBeInstanceOf(AxiosError);
    expect(gateway.stats.apiCalls.forbidden).toBe(1);
    expect(gateway.stats.refreshes.ok).toBe(0); // a 403 is not an auth problem
    expect(sent()).toHaveLength(1);
    expect(failed()).toHaveLength(1);
  });

  it('an API that keeps answering 401: one re-send, then a typed UNAUTHORIZED error', async () => {
    gateway.control.alwaysUnauthorized(true);
    const error = await app.records.whoAmI().catch((e: unknown) => e);
    expect(isEkaAuthError(error, 'UNAUTHORIZED')).toBe(true);
    expect(gateway.stats.apiCalls.unauthorized).toBe(2);
    expect(sent()).toHaveLength(2);
    expect(failed()).toHaveLength(2);
  });

  it("a rejected login fails in the request interceptor, so axios hands it to the app's normaliser", async () => {
    const wrong = createApp({
      baseUrl: gateway.url,
      clientId: 'demo-client',
      clientSecret: 'not-the-secret-42',
      log: (l) => log.push(l),
    });
    try {
      const error = await wrong.records.whoAmI().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(isEkaAuthError((error as ApiError).cause, 'CREDENTIALS_REJECTED')).toBe(true);
      expect(log).toEqual([expect.stringMatching(/^✗ CREDENTIALS_REJECTED request: /)]); // nothing was sent
      expect(gateway.stats.logins.rejected).toBe(1);
      expect(gateway.stats.apiCalls.ok + gateway.stats.apiCalls.unauthorized).toBe(0);
      expect(log.join('\n')).not.toContain('not-the-secret-42');
    } finally {
      wrong.dispose();
    }
  });

  it('main() with no EKA_* variables runs on the embedded emulator and exits 0', async () => {
    const out: string[] = [];
    const code = await main({}, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('saveNote: the gateway received {"text":"hello"} with token #2');
    expect(text).toContain('secret: ApiError 403');
    expect(text).toContain('1 login, 1 × 401 → 1 refresh, 1 × 403');
  });
});
