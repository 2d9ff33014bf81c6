// The HTTP clients people already use, each set up with Eka auth the way its README's "Other HTTP clients"
// line says — and nothing else changed from the client's defaults (its own retries stay on). Every client
// is reduced to the same three calls so one scenario drives them all.
import { attachEkaAuth } from '@eka/auth-axios';
import { createAuthFetch } from '@eka/auth-fetch';

/**
 * @typedef {import('@eka/auth-core').EkaAuth} EkaAuth
 * @typedef {{ status: number, body: any }} Reply
 * @typedef {{
 *   get(url: string): Promise<Reply>,
 *   postJson(url: string, body: unknown): Promise<Reply>,
 * }} CompatClient
 * @typedef {{
 *   packages: string[],
 *   errors: 'as-is' | 'wrapped',
 *   create(auth: EkaAuth): Promise<CompatClient>,
 * }} ClientSetup
 */

/** ky 2: `ky.create({ fetch: createAuthFetch(auth) })`. ky hands fetch a `Request` (with its own timeout signal). */
async function createKy(auth) {
  const { default: ky } = await import('ky');
  const api = ky.create({ fetch: createAuthFetch(auth) });
  return {
    get: async (url) => reply(await api.get(url)),
    postJson: async (url, body) => reply(await api.post(url, { json: body })),
  };
}

/** ofetch: `createFetch({ fetch: createAuthFetch(auth) })` (its `ofetch.create()` keeps the global fetch). */
async function createOfetch(auth) {
  const { createFetch } = await import('ofetch');
  const api = createFetch({ fetch: createAuthFetch(auth) });
  return {
    get: async (url) => replyRaw(await api.raw(url)),
    postJson: async (url, body) => replyRaw(await api.raw(url, { method: 'POST', body })),
  };
}

/**
 * wretch 3: `wretch(base).fetchPolyfill(createAuthFetch(auth))` (v3 has no `.polyfills()` any more).
 * wretch retries nothing by default; its `retry` middleware is how its users add retries, so it is on.
 */
async function createWretch(auth) {
  const { default: wretch } = await import('wretch');
  const { retry } = await import('wretch/middlewares');
  const api = wretch()
    .fetchPolyfill(createAuthFetch(auth))
    .middlewares([retry({ delayTimer: 20, maxAttempts: 3 })]);
  return {
    get: async (url) => reply(await api.url(url).get().res()),
    postJson: async (url, body) => reply(await api.url(url).post(body).res()),
  };
}

/** axios with axios-retry: `axiosRetry(api)` first, then `attachEkaAuth(api, auth)` (ours runs last). */
async function createAxios(auth) {
  const { default: axios } = await import('axios');
  const { default: axiosRetry } = await import('axios-retry');
  const api = axios.create();
  axiosRetry(api, { retries: 2 });
  attachEkaAuth(api, auth);
  return {
    get: async (url) => {
      const response = await api.get(url);
      return { status: response.status, body: response.data };
    },
    postJson: async (url, body) => {
      const response = await api.post(url, body);
      return { status: response.status, body: response.data };
    },
  };
}

/** A fetch `Response` read as `{ status, body }` (JSON when it parses). */
async function reply(response) {
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** ofetch's raw response: the body is already parsed into `_data`. */
function replyRaw(response) {
  return { status: response.status, body: response._data };
}

/**
 * Every client in the compat suite, by name: the npm packages it is made of (their versions and
 * `engines` are reported), whether it rejects with our errors as they are or wraps them in its own
 * (ours as `cause`), and how to build it on an `EkaAuth`.
 * @type {Record<string, ClientSetup>}
 */
export const clients = {
  ky: { packages: ['ky'], errors: 'as-is', create: createKy },
  ofetch: { packages: ['ofetch'], errors: 'wrapped', create: createOfetch },
  wretch: { packages: ['wretch'], errors: 'as-is', create: createWretch },
  axios: { packages: ['axios', 'axios-retry'], errors: 'as-is', create: createAxios },
};
