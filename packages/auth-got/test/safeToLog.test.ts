import { inspect } from 'node:util';
import { createEkaAuth, type EkaAuth, type HeaderMode } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import got, { type HTTPError, type RequestError } from 'got';
import oldestGot from 'got-oldest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withEkaAuth } from '../src/index';

let gateway: EkaGateway;
const auths: EkaAuth[] = [];
// A promise of ours left rejected and unhandled (e.g. the one behind `.json()`) would crash a server.
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  process.on('unhandledRejection', record);
});
afterAll(() => {
  process.off('unhandledRejection', record);
});
beforeEach(async () => {
  gateway = await startEkaGateway();
});
afterEach(async () => {
  for (const auth of auths.splice(0)) auth.dispose();
  await gateway.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(unhandled.splice(0).map(String)).toEqual([]);
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

const rejection = <E = RequestError>(promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: E) => error,
  );

/** Every text a logger could make of `value`. */
const texts = (value: any) => [
  String(value),
  value.stack,
  JSON.stringify(value),
  inspect(value),
  inspect(value, { depth: Infinity }),
];

describe.each([
  ['newest', got],
  ['oldest', oldestGot as unknown as typeof got],
])('ekaAuthHooks with got %s: safe to log', (_label, library) => {
  it.each(['auth', 'authorization', 'both'] as const)(
    "an HTTPError's options, request and response read [redacted] (header %s)",
    async (header) => {
      const auth = makeAuth(header);
      const api = withEkaAuth(library.extend({ prefixUrl: gateway.url, retry: { limit: 0 } }), auth);
      const token = await auth.getAccessToken();
      for (const call of [() => api.get('api/forbidden'), () => api.get('api/forbidden').json()]) {
        const error = await rejection<HTTPError>(call());
        expect(error.response.statusCode).toBe(403);
        expect(error.response.body).toContain('forbidden');
        for (const name of auth.tokenHeaders) expect(error.options.headers[name]).toBe('[redacted]');
        expect(error.options.headers['client-id']).toBe(gateway.credentials.clientId);
        expect(error.request).toMatchObject({ options: error.options, retryCount: 0 });
        expect(error.response.request).toBe(error.request);
        for (const text of texts(error)) expect(text).not.toContain(token);
      }
    },
  );

  it('an aborted signal and a timeout reject with redacted errors too', async () => {
    const auth = makeAuth('both');
    const api = withEkaAuth(library.extend({ prefixUrl: gateway.url, retry: { limit: 0 } }), auth);
    const token = await auth.getAccessToken();
    const aborted = await rejection(api.get('api/slow?ms=2000', { signal: AbortSignal.timeout(100) }));
    const timedOut = await rejection(api.get('api/slow?ms=2000', { timeout: { request: 100 } }));
    for (const error of [aborted, timedOut]) {
      expect(error.options.headers.authorization).toBe('[redacted]');
      for (const text of texts(error)) expect(text).not.toContain(token);
    }
  });

  it("invalid options still reject with got's own error", async () => {
    const api = withEkaAuth(library.extend({ prefixUrl: gateway.url }), makeAuth('both'));
    const error = await rejection(api.get('api/echo', { retry: 'never' as never }));
    expect(error.message).toMatch(/retry/);
  });

  it('a stream request emits a redacted error', async () => {
    const auth = makeAuth('both');
    const api = withEkaAuth(library.extend({ prefixUrl: gateway.url, retry: { limit: 0 } }), auth);
    const token = await auth.getAccessToken();
    const error = await new Promise<RequestError>((resolve) => {
      api.stream('api/forbidden').on('error', resolve).resume();
    });
    expect(error.options.headers.auth).toBe('[redacted]');
    for (const text of texts(error)) expect(text).not.toContain(token);
  });

  it('an aborted stream request emits a redacted error (got runs no hook for it)', async () => {
    const auth = makeAuth('both');
    const api = withEkaAuth(library.extend({ prefixUrl: gateway.url, retry: { limit: 0 } }), auth);
    const token = await auth.getAccessToken();
    const error = await new Promise<RequestError>((resolve) => {
      api
        .stream('api/slow?ms=2000', { signal: AbortSignal.timeout(100) })
        .on('error', resolve)
        .resume();
    });
    expect(error.options.headers.authorization).toBe('[redacted]');
    for (const text of texts(error)) expect(text).not.toContain(token);
  });

  it("got's own retries go out with the live token; the error after the last one is redacted", async () => {
    const auth = makeAuth('both');
    const api = withEkaAuth(
      library.extend({
        prefixUrl: gateway.url,
        retry: { limit: 2, backoffLimit: 1 },
        // The token is revoked before each retry after a 500: the retry meets a 401 and gets its refresh.
        hooks: {
          beforeRetry: [
            (error) => {
              if (error.response?.statusCode === 500) gateway.control.revokeAllAccessTokens();
            },
          ],
        },
      }),
      auth,
    );
    await api.get('api/echo');
    gateway.control.failNext('api', 1, { status: 500 });
    const body = await api.get('api/echo').json<{ generation: number }>();
    expect(body.generation).toBe(2);
    expect(gateway.stats.protocolViolations).toEqual([]);

    gateway.control.failNext('api', 3, { status: 500 });
    const error = await rejection<HTTPError>(api.get('api/echo'));
    expect(error.response.statusCode).toBe(500);
    expect(error.request.retryCount).toBe(2);
    for (const text of texts(error)) expect(text).not.toContain(await auth.getAccessToken());
    // The instance is unharmed: the next call carries the live token.
    expect((await api.get('api/echo').json<{ generation: number }>()).generation).toBe(3);
    expect(gateway.stats.wrongPlace).toBe(0);
  });
});
