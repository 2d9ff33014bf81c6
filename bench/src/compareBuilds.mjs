// Before/after of one adapter in ONE process: `node --expose-gc src/compareBuilds.mjs <adapter> <before.js> [rounds]`,
// where <adapter> is fetch, axios, got or openapi-fetch and <before.js> is another build of that
// adapter's `dist/index.js` (e.g. from a worktree of main). The bare client, the other build, this
// workspace's build and the bare client again run interleaved on the stub transports of
// stubTransport.mjs, so a noisy machine moves all of them together. Prints CPU µs per request, the
// median per-round difference to bare (with p25–p75), and the median per-round "after − before".
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createEkaAuth } from '@eka/auth-core';
import axios from 'axios';
import got from 'got';
import createClient from 'openapi-fetch';
import { interleave, median, quantile, summarise, timed } from './harness.mjs';

const PACKAGES = {
  fetch: '@eka/auth-fetch',
  axios: '@eka/auth-axios',
  got: '@eka/auth-got',
  'openapi-fetch': '@eka/auth-openapi-fetch',
};
const [which, beforePath, roundsArg] = process.argv.slice(2);
if (!PACKAGES[which] || !beforePath) {
  console.error('usage: compareBuilds.mjs <fetch|axios|got|openapi-fetch> <before dist/index.js> [rounds]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 21);
const before = await import(pathToFileURL(beforePath).href);
const after = await import(PACKAGES[which]);

const BASE_URL = 'https://api.eka.care';
const URL_ = `${BASE_URL}/mr/api/v1/patients/12345`;
const BODY = '{"ok":true}';
const auth = createEkaAuth({
  baseUrl: BASE_URL,
  clientId: 'bench-client',
  login: async () => ({ accessToken: 'bench-access-token', refreshToken: 'r', expiresIn: 3600 }),
});
const headers = { ...(await auth.authorize(URL_)).headers };
const stubFetch = async () =>
  new Response(BODY, { status: 200, headers: { 'content-type': 'application/json' } });
const expectOk = (status) => {
  if (status !== 200) throw new Error(`expected HTTP 200, got ${status}`);
};

/** `send()` for the bare client (`adapter` null) or through one build of the adapter. */
const clients = {
  fetch(adapter) {
    const f = adapter
      ? adapter.createAuthFetch(auth, { fetch: stubFetch })
      : (url) => stubFetch(url, { headers });
    return async () => {
      const response = await f(URL_);
      expectOk(response.status);
      await response.json();
    };
  },
  axios(adapter) {
    const stub = async (config) => ({
      data: BODY,
      status: 200,
      statusText: 'OK',
      headers: { 'content-type': 'application/json' },
      config,
      request: {},
    });
    const instance = adapter ? axios.create({ adapter: stub }) : axios.create({ headers, adapter: stub });
    if (adapter) adapter.attachEkaAuth(instance, auth);
    return async () => expectOk((await instance.get(URL_)).status);
  },
  got(adapter) {
    const stub = {
      hooks: {
        beforeRequest: [
          (request) => {
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
    const instance = adapter ? got.extend(adapter.ekaAuthHooks(auth), stub) : got.extend({ headers }, stub);
    return async () => expectOk((await instance.get(URL_, { responseType: 'json' })).statusCode);
  },
  'openapi-fetch'(adapter) {
    const client = createClient({ baseUrl: BASE_URL, fetch: stubFetch, ...(adapter ? {} : { headers }) });
    if (adapter) client.use(adapter.ekaAuthMiddleware(auth));
    return async () => {
      const { response } = await client.GET('/mr/api/v1/patients/{id}', {
        params: { path: { id: '12345' } },
      });
      expectOk(response.status);
    };
  },
};

const variants = [
  { name: 'bare', send: clients[which](null) },
  { name: 'before', send: clients[which](before) },
  { name: 'after', send: clients[which](after) },
  { name: 'A/A: bare again', send: clients[which](null) },
];
const sequential = (variant, n) =>
  timed(n, async () => {
    for (let i = 0; i < n; i++) await variant.send();
  });
try {
  const { samples, size } = await interleave(
    variants,
    { rounds, warmup: 3, size: 500, sampleSeconds: 0.1 },
    sequential,
  );
  console.log(`${which}: ${rounds} interleaved rounds × ${size} requests per sample`);
  for (const row of summarise(samples, 'bare')) {
    const added = samples[row.name].map((s, i) => s.cpuUs - samples.bare[i].cpuUs);
    console.log(
      `${row.name.padEnd(16)} CPU ${row.cpuUs.toFixed(1).padStart(6)} µs/req  vs bare ${row.addedCpuUs >= 0 ? '+' : ''}${row.addedCpuUs.toFixed(1)}` +
        ` (p25 ${quantile(added, 0.25).toFixed(1)}, p75 ${quantile(added, 0.75).toFixed(1)})`,
    );
  }
  const gain = samples.after.map((s, i) => s.cpuUs - samples.before[i].cpuUs);
  console.log(`after − before (median of rounds): ${median(gain).toFixed(1)} µs/req`);
} finally {
  auth.dispose();
}
