import { attachEkaAuth } from '@eka/auth-axios';
import { createEkaAuth, type EkaAuth } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import axios, { type AxiosInstance } from 'axios';
import axiosRetry, { type IAxiosRetryConfig } from 'axios-retry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The README's advice on axios-retry next to attachEkaAuth, checked in this process (Node 20 is fine for
// both): which order to register them in, and what a retryCondition that includes 401 costs.
let gateway: EkaGateway;
let auth: EkaAuth;

beforeEach(async () => {
  gateway = await startEkaGateway();
  auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    onEvent: () => {},
  });
});
afterEach(async () => {
  auth.dispose();
  await gateway.close();
});

/** An axios instance with axios-retry and our interceptors, registered in `order`. */
function client(order: 'retry-first' | 'auth-first', retry: IAxiosRetryConfig = {}): AxiosInstance {
  const api = axios.create();
  if (order === 'auth-first') attachEkaAuth(api, auth);
  axiosRetry(api, { retries: 3, ...retry });
  if (order === 'retry-first') attachEkaAuth(api, auth);
  return api;
}

/** Log in, revoke, make one 503 happen, then GET: what the caller got and what the gateway counted. */
async function revokedAnd503(api: AxiosInstance) {
  await api.get(`${gateway.url}/api/echo`);
  gateway.control.revokeAllAccessTokens();
  gateway.control.failNext('api', 1, { status: 503 });
  const response = await api.get(`${gateway.url}/api/echo`);
  return { status: response.status, generation: response.data.generation, stats: gateway.stats };
}

describe('axios-retry next to attachEkaAuth', () => {
  for (const order of ['retry-first', 'auth-first'] as const) {
    it(`${order}: axios-retry answers the 503, we answer the 401 with one refresh`, async () => {
      const { status, generation, stats } = await revokedAnd503(client(order));
      expect({ status, generation }).toEqual({ status: 200, generation: 2 });
      expect(stats.injectedFailures).toBe(1);
      expect(stats.refreshes.ok).toBe(1);
      expect(stats.apiCalls.unauthorized).toBe(1);
    });
  }

  it('a retryCondition that includes 401 re-sends with the revoked token first (still one refresh)', async () => {
    const retryCondition = (error: any) =>
      error.response?.status === 401 || axiosRetry.isNetworkOrIdempotentRequestError(error);
    const api = client('retry-first', { retryCondition });
    await api.get(`${gateway.url}/api/echo`);
    gateway.control.revokeAllAccessTokens();
    const response = await api.get(`${gateway.url}/api/echo`);
    expect(response.status).toBe(200);
    expect(gateway.stats.refreshes.ok).toBe(1);
    // 1 + 3 axios-retry re-sends, all with the revoked token, before our interceptor sees the 401.
    expect(gateway.stats.apiCalls.unauthorized).toBe(4);
  });
});
