import { createHash } from 'node:crypto';
import { createEkaAuth } from '@eka/auth-core';
import { startEkaGateway } from '@eka/auth-testing';
import createClient from 'openapi-fetch';
import oldestCreateClient from 'openapi-fetch-oldest';
import { describe, expect, it } from 'vitest';
import { ekaAuthMiddleware } from '../src/index';

type Create = typeof createClient;
const LIBRARIES = [
  ['0.17 (newest)', createClient],
  ['0.13.0 (oldest)', oldestCreateClient as unknown as Create],
] as const;

/** A gateway, an auth against it, and a `fetch` that records what each send got (real HTTP). */
async function setup() {
  const gateway = await startEkaGateway();
  const auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    header: 'authorization',
  });
  const sends: { url: string; headers: Record<string, string>; ext: unknown }[] = [];
  const recordingFetch = (...args: [Request, RequestInit?]) => {
    const [request, ext] = args;
    sends.push({ url: request.url, headers: Object.fromEntries(request.headers), ext });
    return fetch(request, ext);
  };
  /** Log in, then revoke the token, so that the next API call is answered 401 once. */
  const expire = async () => {
    await auth.getAccessToken();
    gateway.control.revokeAllAccessTokens();
    sends.length = 0;
  };
  const close = async () => {
    auth.dispose();
    await gateway.close();
  };
  return { gateway, auth, sends, recordingFetch, expire, close };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const idempotencyKey = {
  onRequest: ({ request }: { request: Request }) => void request.headers.set('idempotency-key', 'k-1'),
};

describe('ekaAuthMiddleware: every send of a call is the request as sent', () => {
  for (const [version, create] of LIBRARIES) {
    it(`the retry keeps headers a later middleware set in place, body byte-identical (openapi-fetch ${version})`, async () => {
      const { gateway, auth, sends, recordingFetch, expire, close } = await setup();
      try {
        const client = create({ baseUrl: gateway.url, fetch: recordingFetch as never });
        client.use({ onRequest: ({ request }) => void request.headers.set('x-before', 'b') });
        client.use(ekaAuthMiddleware(auth));
        client.use(idempotencyKey);
        const body = { a: 1, text: 'héllo' };
        const calls = [
          ['GET', () => client.GET('/api/echo' as never)],
          ['POST', () => client.POST('/api/echo' as never, { body } as never)],
        ] as const;
        for (const [method, call] of calls) {
          await expire();
          const { response, data } = await call();
          expect(response.status).toBe(200);
          expect(sends).toHaveLength(2);
          for (const { headers } of sends) {
            expect(headers).toMatchObject({ 'x-before': 'b', 'idempotency-key': 'k-1' });
          }
          // The retry differs from the first send in the token only.
          const [first, retry] = sends.map(({ headers: { authorization, ...rest } }) => ({
            authorization,
            rest,
          }));
          expect(retry?.authorization).not.toBe(first?.authorization);
          expect(retry?.rest).toEqual(first?.rest);
          expect(data).toMatchObject({ method });
          if (method === 'POST') {
            expect(data).toMatchObject({
              bodySha256: sha256(JSON.stringify(body)),
              contentType: 'application/json',
            });
          }
        }
      } finally {
        await close();
      }
    });
  }

  it('the retry and redirect hops get the requestInitExt the first send got (openapi-fetch 0.17)', async () => {
    const { gateway, auth, sends, recordingFetch, expire, close } = await setup();
    try {
      const requestInitExt = { marker: 'ext' };
      const client = createClient({ baseUrl: gateway.url, fetch: recordingFetch as never, requestInitExt });
      client.use(ekaAuthMiddleware(auth, { requestInitExt }));
      const echo = `${gateway.url}/api/echo`;
      const calls = [
        () => client.POST('/api/echo' as never, { body: { a: 1 } } as never),
        () => client.GET(`/api/redirect?to=${encodeURIComponent(echo)}` as never),
      ];
      for (const call of calls) {
        await expire();
        const { response } = await call();
        expect(response.status).toBe(200);
        expect(sends.length).toBeGreaterThanOrEqual(2);
        for (const send of sends) expect(send.ext).toBe(requestInitExt);
      }
      // The redirect: 401, retry (302), hop to the echo.
      expect(sends.map(({ url }) => new URL(url).pathname)).toEqual([
        '/api/redirect',
        '/api/redirect',
        '/api/echo',
      ]);
    } finally {
      await close();
    }
  });

  it('without requestInitExt, no send gets one: 0.13.0 calls fetch(request) alone', async () => {
    const { gateway, auth, sends, recordingFetch, expire, close } = await setup();
    try {
      const client = (oldestCreateClient as unknown as Create)({
        baseUrl: gateway.url,
        fetch: recordingFetch as never,
      });
      client.use(ekaAuthMiddleware(auth));
      await expire();
      const { response } = await client.POST('/api/echo' as never, { body: { a: 1 } } as never);
      expect(response.status).toBe(200);
      expect(sends.map(({ ext }) => ext)).toEqual([undefined, undefined]);
    } finally {
      await close();
    }
  });
});
