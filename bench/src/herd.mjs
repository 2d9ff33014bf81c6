// 3b. The concurrent-401 herd: a session whose access token was just revoked at the gateway meets
// 50 requests. Counted at the gateway emulator (main thread, so its stats are readable): refresh
// calls, logins, token-endpoint calls, 401s served, and requests that failed at the caller.
import http from 'node:http';
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import { createEkaAuth, LOGIN_PATH, REFRESH_PATH } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { startEkaGateway } from '@eka/auth-testing';
import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import got from 'got';
import { importAdapter, median } from './harness.mjs';

export const HERD_OURS_AXIOS = 'ours: axios + attachEkaAuth';

/**
 * The scenarios. `burst`: every request starts at once right after the revocation. `staggered`:
 * one request per `spacingMs`, API answers take `apiLatencyMs` and the refresh `refreshLatencyMs`,
 * so 401s arrive before, during and after the refresh (stragglers carrying the old token).
 */
export const HERD_SCENARIOS = {
  burst: { spacingMs: 0, apiLatencyMs: 0, refreshLatencyMs: 0 },
  staggered: { spacingMs: 1, apiLatencyMs: 20, refreshLatencyMs: 5 },
};

/**
 * Clients under test. Each `create` logs in (one warm request) and returns `{ send, dispose }`;
 * `send()` resolves to the final HTTP status or rejects.
 */
const SETUPS = [
  {
    name: HERD_OURS_AXIOS,
    adapter: '@eka/auth-axios',
    create: async (gateway, { attachEkaAuth }) => {
      const auth = ekaAuth(gateway);
      const instance = axios.create({ httpAgent: new http.Agent({ keepAlive: true }) });
      attachEkaAuth(instance, auth);
      return {
        send: async (url) => (await instance.get(url)).status,
        dispose: () => auth.dispose(),
      };
    },
  },
  {
    name: 'ours: got.extend(ekaAuthHooks(auth))',
    adapter: '@eka/auth-got',
    create: async (gateway, { ekaAuthHooks }) => {
      const auth = ekaAuth(gateway);
      const instance = got.extend(
        { agent: { http: new http.Agent({ keepAlive: true }) } },
        ekaAuthHooks(auth),
      );
      return {
        send: async (url) => (await instance.get(url, { responseType: 'json' })).statusCode,
        dispose: () => auth.dispose(),
      };
    },
  },
  {
    name: 'ours: createAuthFetch(auth)',
    create: async (gateway) => {
      const auth = ekaAuth(gateway);
      const authFetch = createAuthFetch(auth);
      return {
        send: async (url) => {
          const response = await authFetch(url);
          await response.arrayBuffer();
          return response.status;
        },
        dispose: () => auth.dispose(),
      };
    },
  },
  {
    name: 'peer: axios + axios-auth-refresh (README setup)',
    create: async (gateway) => axiosAuthRefreshClient(gateway, {}),
  },
  {
    name: 'peer: axios + axios-auth-refresh (deduplicateRefresh: false)',
    create: async (gateway) => axiosAuthRefreshClient(gateway, { deduplicateRefresh: false }),
  },
  {
    name: 'peer: OAuth2Fetch (getNewToken = Eka login)',
    create: async (gateway) => oauth2FetchClient(gateway),
  },
];

const ekaAuth = (gateway) =>
  createEkaAuth({
    baseUrl: gateway.url,
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
  });

/** Eka login with the gateway's demo credentials, through the default axios instance. */
const ekaLogin = async (gateway) => {
  const { clientId, clientSecret } = gateway.credentials;
  const { data } = await axios.post(`${gateway.url}${LOGIN_PATH}`, {
    client_id: clientId,
    client_secret: clientSecret,
  });
  return { accessToken: data.access_token, refreshToken: data.refresh_token, expiresIn: data.expires_in };
};

/**
 * axios-auth-refresh wired as its README shows (request interceptor reading the current token;
 * `createAuthRefresh(instance, refreshAuthLogic, options)`), with a refreshAuthLogic that calls Eka's
 * refresh v2 correctly (Bearer + Client-Id headers, the current rotating refresh token) and updates
 * the header. The refresh goes through the default axios instance, as in the README (and marked
 * `skipAuthRefresh`, which the README asks for when `deduplicateRefresh` is off).
 */
async function axiosAuthRefreshClient(gateway, options) {
  const { clientId } = gateway.credentials;
  let session = await ekaLogin(gateway);
  const instance = axios.create({ httpAgent: new http.Agent({ keepAlive: true }) });
  instance.interceptors.request.use((request) => {
    request.headers.Authorization = `Bearer ${session.accessToken}`;
    return request;
  });
  const refreshAuthLogic = (failedRequest) =>
    axios
      .post(
        `${gateway.url}${REFRESH_PATH}`,
        { refresh_token: session.refreshToken, access_token: session.accessToken },
        {
          headers: { Authorization: `Bearer ${session.accessToken}`, 'Client-Id': clientId },
          skipAuthRefresh: true,
        },
      )
      .then(({ data }) => {
        session = { accessToken: data.access_token, refreshToken: data.refresh_token };
        failedRequest.response.config.headers.Authorization = `Bearer ${session.accessToken}`;
      });
  createAuthRefresh(instance, refreshAuthLogic, options);
  return { send: async (url) => (await instance.get(url)).status, dispose: () => {} };
}

/**
 * OAuth2Fetch with `getNewToken` doing an Eka login (Eka's refresh is not OAuth2's form-encoded
 * refresh grant, so the token carries no refresh token and every renewal is a login).
 */
async function oauth2FetchClient(gateway) {
  const client = new OAuth2Client({ server: gateway.url, clientId: gateway.credentials.clientId });
  const oauth = new OAuth2Fetch({
    client,
    getNewToken: async () => {
      const { accessToken, expiresIn } = await ekaLogin(gateway);
      return { accessToken, refreshToken: null, expiresAt: Date.now() + expiresIn * 1000 };
    },
  });
  return {
    send: async (url) => {
      const response = await oauth.fetch(url);
      await response.arrayBuffer();
      return response.status;
    },
    dispose: () => {},
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One trial: fresh client, warm request (login), revoke, reset stats, then the herd. */
async function trial(gateway, setup, adapter, scenario, requests) {
  const url = `${gateway.url}/api/echo`;
  const client = await setup.create(gateway, adapter);
  try {
    const warm = await client.send(url);
    if (warm !== 200) throw new Error(`${setup.name}: warm-up request answered ${warm}`);
    gateway.control.setLatency('api', scenario.apiLatencyMs);
    gateway.control.setLatency('refresh', scenario.refreshLatencyMs);
    gateway.control.revokeAllAccessTokens();
    gateway.control.resetStats();
    const start = performance.now();
    const pending = [];
    for (let i = 0; i < requests; i++) {
      if (scenario.spacingMs && i > 0) await sleep(scenario.spacingMs);
      // Settle each outcome right away: with spacing, an early rejection must not go unhandled.
      pending.push(
        client.send(url).then(
          (status) => status === 200,
          () => false,
        ),
      );
    }
    const outcomes = await Promise.all(pending);
    const elapsedMs = performance.now() - start;
    const { stats } = gateway;
    return {
      refreshCalls: stats.refreshes.ok + stats.refreshes.rejected + stats.refreshes.reused,
      refreshesRejected: stats.refreshes.rejected + stats.refreshes.reused,
      logins: stats.logins.ok + stats.logins.rejected,
      tokenEndpointCalls: stats.tokenEndpointCalls,
      unauthorizedServed: stats.apiCalls.unauthorized,
      failed: outcomes.filter((ok) => !ok).length,
      elapsedMs,
    };
  } finally {
    gateway.control.setLatency('api', 0);
    gateway.control.setLatency('refresh', 0);
    await client.dispose();
  }
}

/**
 * Run every setup `trials` times per scenario against one emulator.
 *
 * @param {{ trials?: number, requests?: number, scenarios?: Array<keyof typeof HERD_SCENARIOS>,
 *   setups?: string[] }} [options] `setups` filters by name (default: all).
 */
export async function benchHerd({
  trials = 5,
  requests = 50,
  scenarios = Object.keys(HERD_SCENARIOS),
  setups = SETUPS.map((s) => s.name),
} = {}) {
  const gateway = await startEkaGateway({ accessTokenTtlSec: 3600 });
  const rows = [];
  try {
    for (const scenarioName of scenarios) {
      const scenario = HERD_SCENARIOS[scenarioName];
      for (const setup of SETUPS.filter((s) => setups.includes(s.name))) {
        const adapter = setup.adapter ? await importAdapter(setup.adapter) : {};
        if (adapter.missing) {
          rows.push({ scenario: scenarioName, setup: setup.name, skipped: adapter.missing });
          continue;
        }
        const results = [];
        for (let i = 0; i < trials; i++)
          results.push(await trial(gateway, setup, adapter, scenario, requests));
        const pick = (key) => results.map((r) => r[key]);
        rows.push({
          scenario: scenarioName,
          setup: setup.name,
          trials,
          refreshCalls: summary(pick('refreshCalls')),
          refreshesRejected: summary(pick('refreshesRejected')),
          logins: summary(pick('logins')),
          tokenEndpointCalls: summary(pick('tokenEndpointCalls')),
          unauthorizedServed: summary(pick('unauthorizedServed')),
          failed: summary(pick('failed')),
          failedTotal: pick('failed').reduce((a, b) => a + b, 0),
          elapsedMs: median(pick('elapsedMs')),
        });
      }
    }
  } finally {
    await gateway.close();
  }
  return {
    config: { trials, requests, scenarios: Object.fromEntries(scenarios.map((s) => [s, HERD_SCENARIOS[s]])) },
    rows,
  };
}

const summary = (values) => ({
  min: Math.min(...values),
  median: median(values),
  max: Math.max(...values),
  values,
});
