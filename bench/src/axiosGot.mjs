// 3a. axios and got overhead on the happy path: the bare client (same headers set by hand) vs our
// adapter, plus axios-auth-refresh set up as its README shows, over keep-alive loopback HTTP to the
// tiny server in a child process.
import http from 'node:http';
import { createEkaAuth, LOGIN_PATH } from '@eka/auth-core';
import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import got from 'got';
import { expect200, importAdapter, interleave, load, summarise } from './harness.mjs';
import { startTinyServer } from './servers/servers.mjs';
import { benchAxiosStub, benchGotStub } from './stubTransport.mjs';

export const AXIOS_BARE = 'bare axios (same headers by hand)';
export const AXIOS_OURS = 'axios + attachEkaAuth(instance, auth)';
export const AXIOS_PEER = 'peer: axios + axios-auth-refresh (README setup)';
/** The bare axios client measured twice: its "ratio" is the noise floor of the run (ideally 1.000). */
export const AXIOS_CONTROL = 'A/A control: bare axios again';
export const GOT_BARE = 'bare got (same headers by hand)';
export const GOT_OURS = 'got.extend(ekaAuthHooks(auth))';

const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret';

/** A keep-alive agent per client, so no variant borrows another's warm sockets. */
const keepAlive = () => new http.Agent({ keepAlive: true });

/**
 * Throughput of axios and got, bare vs with our adapter (and axios-auth-refresh as a peer).
 *
 * Also runs axios and got through an in-process stub transport (see stubTransport.mjs).
 *
 * @param {{ rounds?: number, requests?: number, sampleSeconds?: number, concurrency?: number,
 *   warmup?: number, stub?: object }} [options] `requests` is the batch size of the warm-up passes
 *   and the floor of the calibrated batch; `sampleSeconds: 0` keeps it fixed; `stub` holds the
 *   options of the stub-transport runs.
 */
export async function benchAxiosGot({
  rounds = 11,
  requests = 200,
  sampleSeconds = 0.3,
  concurrency = 16,
  warmup = 2,
  stub,
} = {}) {
  const server = await startTinyServer();
  const auth = createEkaAuth({ baseUrl: server.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const agents = [];
  const agent = () => {
    agents.push(keepAlive());
    return agents.at(-1);
  };
  try {
    const url = `${server.url}/api/echo`;
    const headers = { ...(await auth.authorize(url)).headers };
    const measure = (variant, n) => load(variant.send, { requests: n, concurrency });
    const options = { rounds, warmup, size: requests, sampleSeconds };

    const axiosAdapter = await importAdapter('@eka/auth-axios');
    let axiosResult = { skipped: axiosAdapter.missing };
    if (!axiosAdapter.missing) {
      const bareAxios = axios.create({ headers, httpAgent: agent() });
      const ourAxios = axios.create({ httpAgent: agent() });
      axiosAdapter.attachEkaAuth(ourAxios, auth);
      const peerAxios = await axiosAuthRefreshClient(server.url, agent());
      const viaAxios = (instance, what) => async () => expect200((await instance.get(url)).status, what);
      const { samples, size } = await interleave(
        [
          { name: AXIOS_BARE, send: viaAxios(bareAxios, AXIOS_BARE) },
          { name: AXIOS_OURS, send: viaAxios(ourAxios, AXIOS_OURS) },
          { name: AXIOS_PEER, send: viaAxios(peerAxios, AXIOS_PEER) },
          { name: AXIOS_CONTROL, send: viaAxios(bareAxios, AXIOS_CONTROL) },
        ],
        options,
        measure,
      );
      axiosResult = {
        baseline: AXIOS_BARE,
        requestsPerSample: size,
        rounds,
        rows: summarise(samples, AXIOS_BARE),
      };
    }

    const gotAdapter = await importAdapter('@eka/auth-got');
    let gotResult = { skipped: gotAdapter.missing };
    if (!gotAdapter.missing) {
      const bareGot = got.extend({ headers, agent: { http: agent() } });
      const ourGot = got.extend({ agent: { http: agent() } }, gotAdapter.ekaAuthHooks(auth));
      const viaGot = (instance, what) => async () => {
        const response = await instance.get(url, { responseType: 'json' });
        expect200(response.statusCode, what);
      };
      const { samples, size } = await interleave(
        [
          { name: GOT_BARE, send: viaGot(bareGot, GOT_BARE) },
          { name: GOT_OURS, send: viaGot(ourGot, GOT_OURS) },
        ],
        options,
        measure,
      );
      gotResult = { baseline: GOT_BARE, requestsPerSample: size, rounds, rows: summarise(samples, GOT_BARE) };
    }

    return {
      config: { rounds, requests, sampleSeconds, concurrency, warmup },
      server: 'tiny node:http server in a child process (checks the Bearer token, answers {"ok":true})',
      axios: axiosResult,
      got: gotResult,
      axiosStub: await benchAxiosStub(stub),
      gotStub: await benchGotStub(stub),
      server401s: (await server.stats()).unauthorized,
    };
  } finally {
    auth.dispose();
    for (const a of agents) a.destroy();
    await server.close();
  }
}

/**
 * axios-auth-refresh as its README wires it: a request interceptor that reads the current token,
 * and `createAuthRefresh(instance, refreshAuthLogic)`. Against the tiny server the refresh logic
 * simply logs in again (it never runs on the happy path).
 */
async function axiosAuthRefreshClient(baseUrl, httpAgent) {
  const login = () =>
    axios.post(
      `${baseUrl}${LOGIN_PATH}`,
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      { httpAgent },
    );
  let token = (await login()).data.access_token;
  const instance = axios.create({ httpAgent });
  instance.interceptors.request.use((request) => {
    request.headers.Authorization = `Bearer ${token}`;
    return request;
  });
  createAuthRefresh(instance, (failedRequest) =>
    login().then((response) => {
      token = response.data.access_token;
      failedRequest.response.config.headers.Authorization = `Bearer ${token}`;
    }),
  );
  return instance;
}
