// 2. fetch overhead on the happy path: bare fetch (the same headers, set by hand) vs
// createAuthFetch(auth), with @badgateway/oauth2-client's OAuth2Fetch as a peer, over keep-alive
// loopback HTTP. Servers run in child processes so the client's event loop and CPU are what get measured.
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import { createEkaAuth } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { expect200, interleave, load, summarise } from './harness.mjs';
import { startGatewayProcess, startTinyServer } from './servers/servers.mjs';
import { benchFetchStub, benchOpenapiFetchStub } from './stubTransport.mjs';

/** The overhead target of the issue: adapter throughput ≥ 97 % of bare fetch. */
export const FETCH_TARGET_RATIO = 0.97;

const BARE = 'bare fetch (same headers by hand)';
/** The bare client measured twice: its "ratio" is the noise floor of the run (ideally 1.000). */
const CONTROL = 'A/A control: bare fetch again';
const OURS = 'createAuthFetch(auth)';
const PEER = 'peer: OAuth2Fetch (@badgateway/oauth2-client)';

/** One fetch call whose body is read as JSON; throws on anything but 200. */
const consume = async (responsePromise, what) => {
  const response = await responsePromise;
  expect200(response.status, what);
  await response.json();
};

/**
 * Throughput of bare fetch vs `createAuthFetch` (and OAuth2Fetch against the tiny server).
 *
 * Also runs the same calls through an in-process stub transport (see stubTransport.mjs).
 *
 * @param {{ rounds?: number, emulatorRounds?: number, requests?: number, sampleSeconds?: number,
 *   concurrency?: number, warmup?: number, servers?: Array<'tiny' | 'emulator'>, stub?: object }} [options]
 *   `requests` is the batch size of the warm-up passes and the floor of the calibrated batch;
 *   `sampleSeconds: 0` keeps it fixed; `stub` holds the options of the stub-transport run.
 */
export async function benchFetch({
  rounds = 11,
  emulatorRounds = 7,
  requests = 200,
  sampleSeconds = 0.3,
  concurrency = 16,
  warmup = 2,
  servers = ['tiny', 'emulator'],
  stub,
} = {}) {
  const config = { rounds, emulatorRounds, requests, sampleSeconds, concurrency, warmup };
  const result = { config, targetRatio: FETCH_TARGET_RATIO, servers: {} };
  if (servers.includes('tiny')) result.servers.tiny = await againstTinyServer(config);
  if (servers.includes('emulator')) result.servers.emulator = await againstEmulator(config);
  result.stub = await benchFetchStub(stub);
  result.openapiStub = await benchOpenapiFetchStub(stub);
  return result;
}

async function againstTinyServer({ rounds, requests, sampleSeconds, concurrency, warmup }) {
  const server = await startTinyServer();
  const auth = createEkaAuth({ baseUrl: server.url, clientId: 'bench-client', clientSecret: 'bench-secret' });
  // The README's client-credentials setup, against the tiny server's /token.
  const client = new OAuth2Client({
    server: server.url,
    clientId: 'bench-client',
    clientSecret: 'bench-secret',
    tokenEndpoint: '/token',
    authenticationMethod: 'client_secret_post',
  });
  const oauth = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() });
  try {
    const url = `${server.url}/api/echo`;
    const headers = { ...(await auth.authorize(url)).headers };
    const authFetch = createAuthFetch(auth);
    const variants = [
      { name: BARE, send: () => consume(fetch(url, { headers }), BARE) },
      { name: OURS, send: () => consume(authFetch(url), OURS) },
      { name: PEER, send: () => consume(oauth.fetch(url), PEER) },
      { name: CONTROL, send: () => consume(fetch(url, { headers }), CONTROL) },
    ];
    const before = await server.stats();
    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: requests, sampleSeconds },
      (variant, n) => load(variant.send, { requests: n, concurrency }),
    );
    const after = await server.stats();
    return {
      server: 'tiny node:http server in a child process (checks the Bearer token, answers {"ok":true})',
      baseline: BARE,
      requestsPerSample: size,
      rounds,
      rows: summarise(samples, BARE),
      server401s: after.unauthorized - before.unauthorized,
      tokenCalls: after.tokenCalls,
    };
  } finally {
    auth.dispose();
    await server.close();
  }
}

async function againstEmulator({ emulatorRounds: rounds, requests, sampleSeconds, concurrency, warmup }) {
  const gateway = await startGatewayProcess();
  const { clientId, clientSecret } = gateway.credentials;
  const auth = createEkaAuth({ baseUrl: gateway.url, clientId, clientSecret });
  try {
    const url = `${gateway.url}/api/echo`;
    const headers = { ...(await auth.authorize(url)).headers };
    const authFetch = createAuthFetch(auth);
    const variants = [
      { name: BARE, send: () => consume(fetch(url, { headers }), BARE) },
      { name: OURS, send: () => consume(authFetch(url), OURS) },
    ];
    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: requests, sampleSeconds },
      (variant, n) => load(variant.send, { requests: n, concurrency }),
    );
    return {
      server: 'Eka gateway emulator (@eka/auth-testing) GET /api/echo, in a child process',
      baseline: BARE,
      requestsPerSample: size,
      rounds,
      rows: summarise(samples, BARE),
    };
  } finally {
    auth.dispose();
    await gateway.close();
  }
}
