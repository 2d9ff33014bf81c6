import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEkaAuth, type EkaAuth, EkaAuthError } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import axios, { type AxiosInstance } from 'axios';
import oldestAxios from 'axios-oldest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachEkaAuth } from '../src/index';

let gateway: EkaGateway;
let auth: EkaAuth;

beforeEach(async () => {
  gateway = await startEkaGateway();
  auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    header: 'both',
    backoff: { baseMs: 20, maxMs: 100 },
  });
});
afterEach(async () => {
  auth.dispose();
  await gateway.close();
});

/** A third origin that answers 302 (or `?status=`) to `?to=` and records the headers it received. */
async function startBouncer(): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const query = new URL(req.url!, 'http://x').searchParams;
    req
      .resume()
      .on('end', () =>
        res.writeHead(Number(query.get('status') ?? 302), { location: query.get('to')! }).end(),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const handlers = (instance: AxiosInstance) => ({
  request: [...((instance.interceptors.request as any).handlers ?? [])],
  response: [...((instance.interceptors.response as any).handlers ?? [])],
});

describe.each([
  ['newest', axios],
  ['oldest', oldestAxios as unknown as typeof axios],
])('attachEkaAuth with axios %s', (_label, library) => {
  it('works on the default export (no baseURL) and detach restores it', async () => {
    const before = handlers(library);
    const detach = attachEkaAuth(library, auth);
    try {
      const { data } = await library.get(`${gateway.url}/api/echo`);
      expect(data.generation).toBe(1);
      expect(gateway.stats.wrongPlace).toBe(0);
    } finally {
      detach();
    }
    expect(handlers(library)).toEqual(before);
    await expect(library.get(`${gateway.url}/api/echo`)).rejects.toMatchObject({ response: { status: 401 } });
  });

  it('resolves baseURL, relative url and params the way axios does', async () => {
    const api = library.create({ baseURL: `${gateway.url}/api` });
    attachEkaAuth(api, auth);
    const { data } = await api.get('echo', { params: { page: 2, q: 'a b' } });
    expect(data).toMatchObject({ path: '/api/echo', query: { page: '2', q: 'a b' }, generation: 1 });

    const foreign = library.create({ baseURL: gateway.foreignUrl });
    attachEkaAuth(foreign, auth);
    expect((await foreign.get('/landing')).data).toMatchObject({
      receivedAuth: false,
      receivedAuthorization: false,
    });
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it('attaching and detaching 10,000 times leaves the interceptor arrays exactly as they were', () => {
    const api = library.create();
    api.interceptors.request.use((config) => config);
    api.interceptors.response.use((response) => response);
    const before = handlers(api);
    for (let i = 0; i < 10_000; i++) attachEkaAuth(api, auth)();
    expect(handlers(api)).toEqual(before);
    expect(handlers(api).request).toHaveLength(1);
  });

  it('detach leaves interceptors registered after it working, with their ids', async () => {
    const api = library.create();
    const detach = attachEkaAuth(api, auth);
    const seen: string[] = [];
    const id = api.interceptors.request.use((config) => {
      seen.push('later');
      return config;
    });
    detach();
    detach();
    const response = await api.get(`${gateway.url}/api/echo`, { validateStatus: () => true });
    expect(response.status).toBe(401);
    expect(seen).toEqual(['later']);
    api.interceptors.request.eject(id);
    await api.get(`${gateway.url}/api/echo`, { validateStatus: () => true });
    expect(seen).toEqual(['later']);
  });

  it('re-sends once through the same instance and never loops', async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    await api.get('/api/echo');
    gateway.control.alwaysUnauthorized(true);
    const error = await api.get('/api/echo').catch((e) => e);
    expect(error).toBeInstanceOf(EkaAuthError);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.requestId).toBeTruthy();
    expect(gateway.stats.apiCalls.unauthorized).toBe(2);
    expect(gateway.stats.refreshes.ok).toBe(1);
  });

  it('interceptors added before attach see every attempt; ones added after run once, on the outcome', async () => {
    const api = library.create({ baseURL: gateway.url });
    const before: number[] = [];
    const after: Array<number | string> = [];
    api.interceptors.response.use(
      (response) => {
        before.push(response.status);
        return response;
      },
      (error) => {
        before.push(error.response?.status);
        return Promise.reject(error);
      },
    );
    attachEkaAuth(api, auth);
    const id = api.interceptors.response.use(
      (response) => {
        after.push(response.status);
        return response.data;
      },
      (error) => {
        after.push(error.code);
        return Promise.reject(error);
      },
    );
    await api.get('/api/echo');
    gateway.control.revokeAllAccessTokens();
    before.length = after.length = 0;
    // An "unwrap data" interceptor added after attach: applied once, to the re-sent response.
    const data: any = await api.get('/api/echo');
    expect(data.generation).toBe(2);
    expect(before).toEqual([401, 200]);
    expect(after).toEqual([200]);

    gateway.control.alwaysUnauthorized(true);
    before.length = after.length = 0;
    await expect(api.get('/api/echo')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(before).toEqual([401, 401]);
    expect(after).toEqual(['UNAUTHORIZED']);
    // The handler arrays and their ids are untouched by the re-send.
    api.interceptors.response.eject(id);
    expect(handlers(api).response.filter(Boolean)).toHaveLength(2);
  });

  it('a plain object axios turns into a body (postForm, multipart) is re-sent, transformed afresh once', async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    const fields = { name: 'x', note: 'plain object' };
    const sent = (await api.postForm('/api/echo', fields)).data.bodyText;
    expect(sent).toContain('plain object');
    gateway.control.revokeAllAccessTokens();
    // axios turns it into a multipart stream: refused as NON_REPLAYABLE_BODY before the fix.
    const { data } = await api.postForm('/api/echo', fields);
    expect(data.generation).toBe(2);
    // Byte-identical but for the multipart boundary (its first line), which each transform draws anew.
    const unbound = (text: string) => text.split(text.slice(0, text.indexOf('\r\n'))).join('--B');
    expect(unbound(data.bodyText)).toBe(unbound(sent));

    gateway.control.revokeAllAccessTokens();
    const form = { headers: { 'Content-Type': 'multipart/form-data' } };
    expect((await api.post('/api/echo', fields, form)).data.generation).toBe(3);

    // A transform that is not idempotent sees the caller's data on each attempt, never its own output.
    gateway.control.revokeAllAccessTokens();
    const seen: unknown[] = [];
    const transformRequest = [
      (body: unknown) => {
        seen.push(body);
        return JSON.stringify({ wrapped: body });
      },
      ...(api.defaults.transformRequest as any[]),
    ];
    const wrapped = await api.post('/api/echo', { visit: 42 }, { transformRequest });
    expect(wrapped.data).toMatchObject({ generation: 4, bodyText: '{"wrapped":{"visit":42}}' });
    expect(seen).toEqual([{ visit: 42 }, { visit: 42 }]);
  });

  it('a fs.createReadStream body is not re-sent: NON_REPLAYABLE_BODY, token refreshed', async () => {
    const file = join(tmpdir(), `eka-axios-${process.pid}-${Math.random()}.bin`);
    await writeFile(file, Buffer.alloc(50_000, 7));
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    await api.get('/api/echo');
    gateway.control.revokeAllAccessTokens();
    const error = await api.post('/api/upload', createReadStream(file)).catch((e) => e);
    expect(error.code).toBe('NON_REPLAYABLE_BODY');
    expect(gateway.stats.apiCalls.unauthorized).toBe(1);
    expect(gateway.stats.refreshes.ok).toBe(1);
    expect((await api.post('/api/upload', createReadStream(file))).data.bytes).toBe(50_000);
  });

  it('a 401 answered as a stream (responseType "stream") is released and retried', async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    await api.get('/api/echo');
    gateway.control.revokeAllAccessTokens();
    const response = await api.get('/api/echo', { responseType: 'stream' });
    let text = '';
    for await (const chunk of response.data) text += chunk;
    expect(JSON.parse(text).generation).toBe(2);
  });

  it("the request's timeout also bounds the HTTP attempt after a slow login", async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    gateway.control.setLatency('login', 1_000);
    const started = Date.now();
    const error = await api.get('/api/slow?ms=5000', { timeout: 1_500 }).catch((e) => e);
    expect(error.code).toBe('ECONNABORTED');
    // One deadline: ~1.5 s in all. A fresh timeout per attempt would end after 1 s + 1.5 s.
    expect(Date.now() - started).toBeLessThan(2_300);
    expect((await api.get('/api/slow?ms=10', { timeout: 1_500 })).status).toBe(200);
  });

  it("a back-off longer than the request's timeout fails at once with TRANSIENT, not a timeout", async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    // A Retry-After above the in-flight cap: the login gives up and the next attempt is 30 s away.
    gateway.control.failNext('login', 1, { status: 429, retryAfterSec: 30 });
    const first = await api.get('/api/echo', { timeout: 2_000 }).catch((e) => e);
    expect(first).toMatchObject({ code: 'TRANSIENT', status: 429 });
    const started = Date.now();
    const second = await api.get('/api/echo', { timeout: 2_000 }).catch((e) => e);
    expect(second.code).toBe('TRANSIENT');
    expect(second.retryAfterMs).toBeGreaterThan(20_000);
    // At once: it did not wait its 2 s out.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it('strips the token on a hop to another origin, never re-attaches it, and chains beforeRedirect', async () => {
    const bouncer = await startBouncer();
    try {
      const hops: string[] = [];
      const api = library.create({
        baseURL: gateway.url,
        validateStatus: () => true,
        beforeRedirect: (options) => void hops.push(options.href),
      });
      attachEkaAuth(api, auth);
      // gateway → bouncer (another origin) → back to the gateway: the gateway must see no token.
      const back = encodeURIComponent(`${gateway.url}/api/echo`);
      const to = encodeURIComponent(`${bouncer.url}/?to=${back}`);
      const response = await api.get(`/api/redirect?to=${to}`);
      expect(response.status).toBe(401);
      expect(bouncer.seen[0]).not.toHaveProperty('auth');
      expect(bouncer.seen[0]).not.toHaveProperty('authorization');
      expect(bouncer.seen[0]).not.toHaveProperty('client-id');
      expect(hops).toEqual([`${bouncer.url}/?to=${back}`, `${gateway.url}/api/echo`]);
      // …and that 401 was not ours: no refresh.
      expect(gateway.stats.refreshes.ok + gateway.stats.logins.ok).toBe(1);
    } finally {
      bouncer.server.close();
    }
  });

  it("a foreign origin's 401 after a redirect triggers nothing", async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    const to = encodeURIComponent(`${gateway.foreignUrl}/unauthorized`);
    const error = await api.get(`/api/redirect?to=${to}`).catch((e) => e);
    expect(error.response.status).toBe(401);
    expect(error.response.data).toMatchObject({
      foreign: true,
      receivedAuth: false,
      receivedAuthorization: false,
    });
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it('an interceptor that rewrites the URL to another origin after ours does not get the token', async () => {
    const api = library.create({ baseURL: gateway.url });
    // Registered before attach: with axios' default ordering it runs after ours.
    api.interceptors.request.use((config) => ({
      ...config,
      baseURL: gateway.foreignUrl,
      url: config.url === '/api/echo' ? '/landing' : '/unauthorized',
    }));
    attachEkaAuth(api, auth);
    const { data } = await api.get('/api/echo');
    expect(data).toMatchObject({ foreign: true, receivedAuth: false, receivedAuthorization: false });
    // …and a 401 from there is not ours.
    await expect(api.get('/api/forbidden')).rejects.toMatchObject({ response: { status: 401 } });
    expect(gateway.stats.tokenLeaks).toBe(0);
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
  });

  it("a request's own transform that rewrites the URL to another origin does not get the token", async () => {
    const api = library.create({ baseURL: gateway.url });
    attachEkaAuth(api, auth);
    // No other interceptor: only the request's own transformRequest can move it elsewhere.
    const { data } = await api.get('/api/echo', {
      transformRequest: [
        function (this: { baseURL?: string; url?: string }, body: unknown) {
          this.baseURL = gateway.foreignUrl;
          this.url = '/landing';
          return body;
        },
      ],
    });
    expect(data).toMatchObject({ foreign: true, receivedAuth: false, receivedAuthorization: false });
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it('leaves requests to other origins untouched', async () => {
    const api = library.create();
    attachEkaAuth(api, auth);
    const response = await api.post(`${gateway.foreignUrl}/landing`, 'x', { timeout: 1000 });
    expect(response.config.transformRequest).toEqual(api.defaults.transformRequest);
    expect(response.config.beforeRedirect).toBeUndefined();
    expect(response.config.timeout).toBe(1000);
    expect(gateway.stats.tokenEndpointCalls).toBe(0);
  });
});

describe("axios' fetch adapter: redirects followed by hand (env.fetch, axios >= 1.12)", () => {
  let bouncer: Awaited<ReturnType<typeof startBouncer>>;
  beforeEach(async () => {
    bouncer = await startBouncer();
  });
  afterEach(() => void bouncer.server.close());
  const via = (to: string) => `/api/redirect?to=${encodeURIComponent(to)}`;

  it('a hop to another origin loses auth, Authorization and client-id; the 401 found there is not ours', async () => {
    const api = axios.create({ baseURL: gateway.url, adapter: 'fetch', validateStatus: () => true });
    attachEkaAuth(api, auth);
    // gateway → bouncer (another origin) → back to the gateway: neither may see the token again.
    const response = await api.get(
      via(`${bouncer.url}/?to=${encodeURIComponent(`${gateway.url}/api/echo`)}`),
    );
    expect(bouncer.seen[0]).not.toHaveProperty('auth');
    expect(bouncer.seen[0]).not.toHaveProperty('authorization');
    expect(bouncer.seen[0]).not.toHaveProperty('client-id');
    expect(response.status).toBe(401);
    expect(gateway.stats.tokenEndpointCalls).toBe(1);
    // A same-origin redirect keeps it.
    expect((await api.get('/api/redirect-same')).data.generation).toBe(1);
  });

  it("the caller's own env.fetch sends every hop; maxRedirects is honoured", async () => {
    const urls: string[] = [];
    const own = (input: any, init?: RequestInit) => {
      urls.push(input.url ?? String(input));
      return fetch(input, init);
    };
    const api = axios.create({ baseURL: gateway.url, adapter: 'fetch', env: { fetch: own } as any });
    attachEkaAuth(api, auth);
    const landing = `${gateway.foreignUrl}/landing`;
    const { data } = await api.get(via(`${bouncer.url}/?to=${encodeURIComponent(landing)}`));
    expect(data).toMatchObject({ foreign: true, receivedAuth: false, receivedAuthorization: false });
    expect(urls.slice(1)).toEqual([`${bouncer.url}/?to=${encodeURIComponent(landing)}`, landing]);
    const tooMany = await api
      .get(via(`${bouncer.url}/?to=${encodeURIComponent(landing)}`), { maxRedirects: 1 })
      .catch((e) => e);
    expect(tooMany.code).toBe('ERR_NETWORK');
    expect(tooMany.cause.message).toMatch(/too many redirects/);
    const stopped = await api.get(via(landing), { maxRedirects: 0, validateStatus: () => true });
    expect(stopped.status).toBe(302);
    expect(gateway.stats.tokenLeaks).toBe(0);
  });

  it('a 307 between allowed origins re-sends method, body and token', async () => {
    const both = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
      header: 'both',
      allowedOrigins: [gateway.url, bouncer.url],
    });
    try {
      const api = axios.create({ adapter: 'fetch' });
      attachEkaAuth(api, both);
      const to = encodeURIComponent(`${gateway.url}/api/echo`);
      const { data } = await api.post(`${bouncer.url}/?status=307&to=${to}`, { visit: 42 });
      expect(data).toMatchObject({ method: 'POST', bodyText: '{"visit":42}', generation: 1 });
      expect(bouncer.seen[0]).toHaveProperty('auth');
    } finally {
      both.dispose();
    }
  });
});

it('an existing app gains auth with one line; its interceptors run once per attempt', async () => {
  // The app as it was: its own instance, a logging request interceptor, an error normaliser.
  class ApiError extends Error {
    constructor(
      readonly status: number,
      options: { cause: unknown },
    ) {
      super(`API error ${status}`, options);
    }
  }
  const log: string[] = [];
  const normalised: number[] = [];
  const sent: Array<string | undefined> = [];
  const api = axios.create({ baseURL: gateway.url, headers: { 'x-app': 'clinic-dashboard' } });
  api.interceptors.request.use((config) => {
    log.push(`${config.method?.toUpperCase()} ${config.url}`);
    return config;
  });
  api.interceptors.response.use(
    (response) => {
      normalised.push(response.status);
      sent.push(response.config.headers.get('x-app') as string | undefined);
      return response;
    },
    (error) => {
      normalised.push(error.response?.status ?? 0);
      return Promise.reject(new ApiError(error.response?.status ?? 0, { cause: error }));
    },
  );
  const before = handlers(api);
  await expect(api.get('/api/echo')).rejects.toBeInstanceOf(ApiError);

  const detach = attachEkaAuth(api, auth); // ← the one line
  log.length = normalised.length = 0;

  expect((await api.get('/api/echo')).data.generation).toBe(1);
  expect(log).toEqual(['GET /api/echo']);
  expect(normalised).toEqual([200]);

  gateway.control.revokeAllAccessTokens();
  log.length = normalised.length = 0;
  const { data } = await api.post('/api/echo', { visit: 42 });
  expect(data).toMatchObject({ generation: 2, bodyText: '{"visit":42}' });
  expect(log).toEqual(['POST /api/echo', 'POST /api/echo']); // first attempt + re-send
  expect(normalised).toEqual([401, 200]); // the normaliser saw each attempt once
  expect(sent.at(-1)).toBe('clinic-dashboard');

  // Auth failures reach the app as typed errors, past its normaliser.
  gateway.control.alwaysUnauthorized(true);
  const failure = await api.get('/api/echo').catch((e) => e);
  expect(failure).toBeInstanceOf(EkaAuthError);
  expect(failure.code).toBe('UNAUTHORIZED');

  // Other errors are the app's as before.
  gateway.control.alwaysUnauthorized(false);
  await expect(api.get('/api/forbidden')).rejects.toMatchObject({ status: 403 });

  detach();
  expect(handlers(api)).toEqual(before);
});
