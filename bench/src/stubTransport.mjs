// The adapters' own cost, without the network: the same calls through an in-process stub transport
// that answers 200 {"ok":true} at once. Nothing but JavaScript runs, so these numbers hold steady on
// a busy machine where loopback throughput swings by ±20 %, and they say exactly how many CPU
// microseconds an adapter adds to each request.

import { PassThrough } from 'node:stream';
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import { createEkaAuth } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import got from 'got';
import createClient from 'openapi-fetch';
import { expect200, importAdapter, interleave, summarise, timed } from './harness.mjs';

const BASE_URL = 'https://api.eka.care';
const URL_ = `${BASE_URL}/mr/api/v1/patients/12345`;
const BODY = '{"ok":true}';

/** A session with a valid cached token and no network (bring-your-own-login mode). */
const stubAuth = () =>
  createEkaAuth({
    baseUrl: BASE_URL,
    clientId: 'bench-client',
    login: async () => ({ accessToken: 'bench-access-token', refreshToken: 'r', expiresIn: 3600 }),
  });

/** Run each variant's `send()` `n` times back to back. */
const sequential = (variant, n) =>
  timed(n, async () => {
    for (let i = 0; i < n; i++) await variant.send();
  });

const defaults = { rounds: 11, ops: 200, sampleSeconds: 0.15, warmup: 2 };

/**
 * fetch through a stub: bare (headers by hand) vs `createAuthFetch(auth, { fetch: stub })` vs
 * OAuth2Fetch's middleware with the stub as `next`.
 *
 * @param {{ rounds?: number, ops?: number, sampleSeconds?: number, warmup?: number }} [options]
 */
export async function benchFetchStub(options = {}) {
  const { rounds, ops, sampleSeconds, warmup } = { ...defaults, ...options };
  const auth = stubAuth();
  try {
    const headers = { ...(await auth.authorize(URL_)).headers };
    const stub = async () =>
      new Response(BODY, { status: 200, headers: { 'content-type': 'application/json' } });
    const authFetch = createAuthFetch(auth, { fetch: stub });
    const client = new OAuth2Client({ server: BASE_URL, clientId: 'bench-client' });
    const oauth = new OAuth2Fetch({
      client,
      getNewToken: async () => ({ accessToken: 'bench-access-token', refreshToken: null, expiresAt: null }),
    });
    const middleware = oauth.mw();
    const consume = async (promise, what) => {
      const response = await promise;
      expect200(response.status, what);
      await response.json();
    };
    const BARE = 'bare: stub(url, { headers })';
    const variants = [
      { name: BARE, send: () => consume(stub(URL_, { headers }), BARE) },
      { name: 'createAuthFetch(auth, { fetch: stub })', send: () => consume(authFetch(URL_), 'ours') },
      {
        name: 'peer: OAuth2Fetch — fetch(url) = mw()(new Request(url), stub)',
        send: () => consume(middleware(new Request(URL_), stub), 'peer'),
      },
      { name: 'A/A control: bare again', send: () => consume(stub(URL_, { headers }), 'control') },
    ];
    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: ops, sampleSeconds },
      sequential,
    );
    return { baseline: BARE, rounds, requestsPerSample: size, rows: summarise(samples, BARE) };
  } finally {
    auth.dispose();
  }
}

/**
 * axios with a stub `adapter`: bare (headers by hand) vs `attachEkaAuth` vs axios-auth-refresh.
 *
 * @param {{ rounds?: number, ops?: number, sampleSeconds?: number, warmup?: number }} [options]
 */
export async function benchAxiosStub(options = {}) {
  const { rounds, ops, sampleSeconds, warmup } = { ...defaults, ...options };
  const adapterModule = await importAdapter('@eka/auth-axios');
  if (adapterModule.missing) return { skipped: adapterModule.missing };
  const auth = stubAuth();
  try {
    const headers = { ...(await auth.authorize(URL_)).headers };
    const adapter = async (config) => ({
      data: BODY,
      status: 200,
      statusText: 'OK',
      headers: { 'content-type': 'application/json' },
      config,
      request: {},
    });
    const bare = axios.create({ headers, adapter });
    const ours = axios.create({ adapter });
    adapterModule.attachEkaAuth(ours, auth);
    const peer = axios.create({ adapter });
    peer.interceptors.request.use((request) => {
      request.headers.Authorization = `Bearer ${headers.authorization.slice('Bearer '.length)}`;
      return request;
    });
    createAuthRefresh(peer, () => Promise.resolve());
    const via = (instance, what) => async () => expect200((await instance.get(URL_)).status, what);
    const BARE = 'bare axios (stub adapter, headers by hand)';
    const variants = [
      { name: BARE, send: via(bare, BARE) },
      { name: 'axios + attachEkaAuth (stub adapter)', send: via(ours, 'ours') },
      { name: 'peer: axios + axios-auth-refresh (stub adapter)', send: via(peer, 'peer') },
      { name: 'A/A control: bare again', send: via(bare, 'control') },
    ];
    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: ops, sampleSeconds },
      sequential,
    );
    return { baseline: BARE, rounds, requestsPerSample: size, rows: summarise(samples, BARE) };
  } finally {
    auth.dispose();
  }
}

/**
 * got with a stub: a last `beforeRequest` hook answers with a response-like stream, which got accepts
 * in place of a real request (the way cache layers plug in). Bare (headers by hand) vs
 * `got.extend(ekaAuthHooks(auth))`; the stub hook comes after ours, so ours has set the headers.
 *
 * @param {{ rounds?: number, ops?: number, sampleSeconds?: number, warmup?: number }} [options]
 */
export async function benchGotStub(options = {}) {
  const { rounds, ops, sampleSeconds, warmup } = { ...defaults, ...options };
  const adapterModule = await importAdapter('@eka/auth-got');
  if (adapterModule.missing) return { skipped: adapterModule.missing };
  const auth = stubAuth();
  try {
    const headers = { ...(await auth.authorize(URL_)).headers };
    const stub = {
      hooks: {
        beforeRequest: [
          (request) => {
            if (!request.headers.authorization) throw new Error('got stub: no token header');
            const response = new PassThrough();
            Object.assign(response, {
              statusCode: 200,
              statusMessage: 'OK',
              headers: { 'content-type': 'application/json' },
              url: request.url.href,
            });
            response.end(BODY);
            return response;
          },
        ],
      },
    };
    const bare = got.extend({ headers }, stub);
    const ours = got.extend(adapterModule.ekaAuthHooks(auth), stub);
    const via = (instance, what) => async () =>
      expect200((await instance.get(URL_, { responseType: 'json' })).statusCode, what);
    const BARE = 'bare got (stub response, headers by hand)';
    const variants = [
      { name: BARE, send: via(bare, BARE) },
      { name: 'got.extend(ekaAuthHooks(auth)) (stub response)', send: via(ours, 'ours') },
      { name: 'A/A control: bare again', send: via(bare, 'control') },
    ];
    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: ops, sampleSeconds },
      sequential,
    );
    return { baseline: BARE, rounds, requestsPerSample: size, rows: summarise(samples, BARE) };
  } finally {
    auth.dispose();
  }
}

/**
 * openapi-fetch with a stub `fetch`: bare (headers by hand, as client `headers`) vs
 * `client.use(ekaAuthMiddleware(auth))`. Both build the same `Request`; the difference is the
 * middleware plus what openapi-fetch does for any middleware (an id, the options object, the awaits).
 *
 * @param {{ rounds?: number, ops?: number, sampleSeconds?: number, warmup?: number }} [options]
 */
export async function benchOpenapiFetchStub(options = {}) {
  const { rounds, ops, sampleSeconds, warmup } = { ...defaults, ...options };
  const adapterModule = await importAdapter('@eka/auth-openapi-fetch');
  if (adapterModule.missing) return { skipped: adapterModule.missing };
  const auth = stubAuth();
  try {
    const headers = { ...(await auth.authorize(URL_)).headers };
    const stub = async () =>
      new Response(BODY, { status: 200, headers: { 'content-type': 'application/json' } });
    const bare = createClient({ baseUrl: BASE_URL, fetch: stub, headers });
    const ours = createClient({ baseUrl: BASE_URL, fetch: stub });
    ours.use(adapterModule.ekaAuthMiddleware(auth));
    const via = (client, what) => async () => {
      const { response } = await client.GET('/mr/api/v1/patients/{id}', {
        params: { path: { id: '12345' } },
      });
      expect200(response.status, what);
    };
    const BARE = 'bare openapi-fetch (stub fetch, headers by hand)';
    const variants = [
      { name: BARE, send: via(bare, BARE) },
      { name: 'client.use(ekaAuthMiddleware(auth)) (stub fetch)', send: via(ours, 'ours') },
      { name: 'A/A control: bare again', send: via(bare, 'control') },
    ];
    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: ops, sampleSeconds },
      sequential,
    );
    return { baseline: BARE, rounds, requestsPerSample: size, rows: summarise(samples, BARE) };
  } finally {
    auth.dispose();
  }
}
