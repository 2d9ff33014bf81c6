import { inspect } from 'node:util';
import { createEkaAuth, type EkaAuth, type HeaderMode } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import axios, { type AxiosError } from 'axios';
import oldestAxios from 'axios-oldest';
import axiosRetry from 'axios-retry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachEkaAuth } from '../src/index';

let gateway: EkaGateway;
const auths: EkaAuth[] = [];

beforeEach(async () => {
  gateway = await startEkaGateway();
});
afterEach(async () => {
  for (const auth of auths.splice(0)) auth.dispose();
  await gateway.close();
});

const makeAuth = (header: HeaderMode) => {
  const auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    header,
  });
  auths.push(auth);
  return auth;
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: AxiosError) => error,
  );

/** Every text a logger could make of `value`. */
const texts = (value: any) => [
  String(value),
  value.stack,
  JSON.stringify(value),
  inspect(value),
  inspect(value, { depth: Infinity }),
  inspect(value, { depth: Infinity, showHidden: true }),
];

describe.each([
  ['newest', axios],
  ['oldest', oldestAxios as unknown as typeof axios],
])('attachEkaAuth with axios %s: safe to log', (_label, library) => {
  it.each(['auth', 'authorization', 'both'] as const)(
    "an AxiosError's config, toJSON() and request read [redacted] (header %s)",
    async (header) => {
      const auth = makeAuth(header);
      const api = library.create({ baseURL: gateway.url });
      attachEkaAuth(api, auth);
      const error = await rejection(api.get('/api/forbidden'));
      const token = await auth.getAccessToken();
      expect(error.response?.status).toBe(403);
      for (const name of auth.tokenHeaders) {
        expect(error.config?.headers.get(name)).toBe('[redacted]');
        expect((error.toJSON() as any).config.headers[name]).toBe('[redacted]');
        expect((error.request as any).headers[name]).toBe('[redacted]');
        expect((error.response!.request as any).headers[name]).toBe('[redacted]');
      }
      expect(error.config?.headers.get('client-id')).toBe(gateway.credentials.clientId);
      expect(error.request).toMatchObject({ method: 'GET', url: `${gateway.url}/api/forbidden` });
      for (const text of texts(error)) expect(text).not.toContain(token);
    },
  );

  it('api.request(error.config) goes out with the current token, not the one the error saw', async () => {
    const auth = makeAuth('both');
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    gateway.control.failNext('api', 1, { status: 500 });
    const error = await rejection(api.get('/api/echo', { timeout: 5_000 }));
    gateway.control.revokeAllAccessTokens();
    expect((await api.get('/api/echo')).data.generation).toBe(2);
    const before = gateway.stats.apiCalls.unauthorized;
    const { data, config } = await api.request(error.config!);
    expect(data.generation).toBe(2);
    expect(gateway.stats.apiCalls.unauthorized).toBe(before);
    expect(config.timeout).toBeGreaterThan(4_000);
    expect(gateway.stats.protocolViolations).toEqual([]);
  });

  it('an error from our own re-send can be sent again too, with a full chance at a refresh', async () => {
    const auth = makeAuth('both');
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    await api.get('/api/echo');
    gateway.control.revokeAllAccessTokens();
    gateway.control.setLatency('refresh', 200);
    const failed = rejection(api.get('/api/echo'));
    while (gateway.stats.apiCalls.unauthorized < 1) await new Promise((r) => setTimeout(r, 5));
    gateway.control.failNext('api', 1, { status: 500 });
    const error = await failed;
    expect(error.response?.status).toBe(500);
    gateway.control.setLatency('refresh', 0);
    gateway.control.revokeAllAccessTokens();
    const { data } = await api.request(error.config!);
    expect(data.generation).toBe(3);
  });

  it("requests without our token keep the caller's own headers, also when sent again", async () => {
    const auth = makeAuth('both');
    const api = library.create();
    attachEkaAuth(api, auth);
    const headers = { authorization: 'Bearer not-ours' };
    const error = await rejection(api.get(`${gateway.foreignUrl}/unauthorized`, { headers }));
    expect(error.config?.headers.get('authorization')).toBe('Bearer not-ours');
    const again = await api.request({ ...error.config!, url: `${gateway.foreignUrl}/landing` });
    expect(again.data).toMatchObject({ receivedAuthorization: true, receivedAuth: false });
  });

  it("a successful response's config reads [redacted] and can be sent again", async () => {
    const auth = makeAuth('both');
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    const response = await api.get('/api/echo');
    const token = await auth.getAccessToken();
    expect(response.config.headers.get('authorization')).toBe('[redacted]');
    expect(inspect(response.config, { depth: Infinity })).not.toContain(token);
    expect((await api.request(response.config)).data.generation).toBe(1);
    expect(gateway.stats.apiCalls.unauthorized).toBe(0);
  });

  it.each(['before', 'after'] as const)(
    'axios-retry registered %s attachEkaAuth re-sends with a live token',
    async (order) => {
      const auth = makeAuth('both');
      const api = library.create({ baseURL: gateway.url });
      const retry = () =>
        axiosRetry(api as any, {
          retries: 2,
          retryDelay: () => 0,
          retryCondition: (error) => error.response?.status === 500,
          // The token is revoked between the attempts: the re-send meets a 401 and gets its refresh.
          onRetry: () => gateway.control.revokeAllAccessTokens(),
        });
      if (order === 'before') retry();
      attachEkaAuth(api, auth);
      if (order === 'after') retry();
      await api.get('/api/echo');
      gateway.control.failNext('api', 1, { status: 500 });
      const { data } = await api.get('/api/echo');
      expect(data.generation).toBe(2);
      expect(gateway.stats.refreshes.ok).toBe(1);
      expect(gateway.stats.protocolViolations).toEqual([]);
      expect(gateway.stats.wrongPlace).toBe(0);

      // Retries exhausted: the error that reaches the caller is redacted.
      gateway.control.failNext('api', 3, { status: 500 });
      const error = await rejection(api.get('/api/echo'));
      expect(error.response?.status).toBe(500);
      for (const text of texts(error)) expect(text).not.toContain(await auth.getAccessToken());
    },
  );
});
