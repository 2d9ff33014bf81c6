import { createEkaAuth, type EkaAuth, isEkaAuthError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEkaGot, type Item, type JobConfig, type JobResult, syncItems } from '../src/job';
import { main } from '../src/run';

const ALL_ITEMS = [1, 2, 3, 4, 5, 6].map((id) => ({ id, name: `item-${id}`, page: Math.ceil(id / 2) }));

describe('got-service example', () => {
  let gateway: EkaGateway;
  let config: JobConfig;
  let log: string[];
  beforeEach(async () => {
    gateway = await startEkaGateway();
    log = [];
    config = {
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      retry: { backoffLimitMs: 100 },
      log: (line) => log.push(line),
    };
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('got.paginate follows Link rel="next" over every page with one login', async () => {
    const result = await syncItems(config);
    expect(result.items).toEqual(ALL_ITEMS);
    expect(result.pages).toBe(3);
    expect(result.retries).toEqual([]);
    expect(log.filter((l) => l.startsWith('← 200'))).toHaveLength(3);
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls.ok).toBe(3);
    expect(gateway.stats.apiCalls.byGeneration).toEqual({ 1: 3 });
  });

  it("a 503 from the gateway is retried by got's own retry; no refresh, still one login", async () => {
    gateway.control.failNext('api', 1, { status: 503 });
    const result = await syncItems(config);

    expect(result.items).toEqual(ALL_ITEMS);
    expect(gateway.stats.injectedFailures).toBe(1);
    expect(result.retries).toHaveLength(1);
    expect(result.retries[0]).toMatchObject({ kind: 'got-retry', retryCount: 1, status: 503 });
    expect(result.retries[0]!.url).toMatch(/\/api\/items\?page=1$/);
    expect(log.filter((l) => l.startsWith('↻ got retry #1 after 503'))).toHaveLength(1);

    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.tokenEndpointCalls).toBe(1); // a 503 is not an auth problem: no refresh
    expect(gateway.stats.apiCalls.ok).toBe(3);
    expect(gateway.stats.protocolViolations).toEqual([]);
  });

  describe('with a revoke in the middle of the pagination', () => {
    let auth: EkaAuth;
    beforeEach(() => {
      auth = createEkaAuth({
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        baseUrl: gateway.url,
      });
    });
    afterEach(() => auth.dispose());

    it('page 2 gets a 401 → one refresh → re-sent; all items still arrive', async () => {
      const retries: JobResult['retries'] = [];
      const eka = createEkaGot(config, auth, retries);
      const items: Item[] = [];
      for await (const item of eka.paginate<Item>('api/items', { searchParams: { page: 1 } })) {
        items.push(item);
        if (item.id === 2) gateway.control.revokeAllAccessTokens(); // before page 2 is requested
      }
      expect(items).toEqual(ALL_ITEMS);
      expect(gateway.stats.apiCalls.unauthorized).toBe(1);
      expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 0 });
      expect(gateway.stats.logins.ok).toBe(1);
      expect(gateway.stats.apiCalls.byGeneration).toEqual({ 1: 1, 2: 2 });
      // got reports the adapter's re-send to beforeRetry hooks too (as a RetryError), not as its own retry.
      expect(retries).toEqual([
        { kind: 'auth-resend', retryCount: 1, status: 401, url: expect.stringMatching(/page=2$/) },
      ]);
    });

    it('an outage longer than got’s retry limit fails the job with got’s HTTPError', async () => {
      gateway.control.failNext('api', 3, { status: 503 });
      const error = await syncItems({ ...config, retry: { limit: 2, backoffLimitMs: 50 } }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'HTTPError', response: { statusCode: 503 } });
      expect(isEkaAuthError(error)).toBe(false);
      expect(gateway.stats.injectedFailures).toBe(3);
    });
  });

  it('main() with no EKA_* variables runs the job on the embedded emulator and exits 0', async () => {
    const out: string[] = [];
    const code = await main({}, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('↻ got retry #1 after 503');
    expect(text).toContain('synced 6 items from 3 pages');
    expect(text).toContain('1 login, 1 × 503 retried by got (1 retry), 3 page requests');
  });
});
