// The compat scenarios, run in one Node process for one client against fresh emulators on loopback.
// Each scenario gets its own gateway and EkaAuth, so its counters are its own. The result is plain JSON
// (the test asserts on it; the CLI prints it): what the client saw and what the gateway counted.
import { readFileSync } from 'node:fs';
import { createEkaAuth } from '@eka/auth-core';
import { startEkaGateway } from '@eka/auth-testing';
import { clients } from './clients.mjs';

/** How many requests the revoke storm sends at once. */
export const STORM_SIZE = 40;

/** The JSON body of the replay scenario (unicode and nesting, so a re-encoded body would differ). */
export const REPLAY_BODY = { patient: 'Zoë Ä.', vitals: [{ bpm: 72 }, { bpm: 75 }], note: 'line 1\nline 2' };

/** A secret-free summary of what a call threw: its name, our `code`, and the code of its cause chain. */
function describeError(error) {
  const codes = [];
  for (let e = error, depth = 0; e && depth < 5; e = e.cause, depth++) if (e.code) codes.push(String(e.code));
  return { name: error?.name, message: String(error?.message ?? error).slice(0, 200), codes };
}

/** The client's packages as installed: versions and `engines.node`. */
function packagesOf(name) {
  return clients[name].packages.map((pkg) => {
    // Read from node_modules: ky's `exports` does not list ./package.json.
    const manifest = JSON.parse(
      readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8'),
    );
    return { name: pkg, version: manifest.version, engines: manifest.engines?.node ?? null };
  });
}

/** A fresh gateway, an EkaAuth on it and the client; always closed/disposed. */
async function withClient(name, authOptions, body) {
  const gateway = await startEkaGateway();
  const auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    timeoutMs: 3_000,
    backoff: { baseMs: 20, maxMs: 100 },
    onEvent: () => {},
    ...authOptions,
  });
  try {
    const client = await clients[name].create(auth);
    return await body({ gateway, client });
  } finally {
    auth.dispose();
    await gateway.close();
  }
}

/** Many concurrent requests right after the gateway revoked the token they carry: one refresh in total. */
const revokeStorm = (name) =>
  withClient(name, {}, async ({ gateway, client }) => {
    const warm = await client.get(`${gateway.url}/api/echo`);
    gateway.control.revokeAllAccessTokens();
    const replies = await Promise.allSettled(
      Array.from({ length: STORM_SIZE }, (_, i) => client.get(`${gateway.url}/api/echo?i=${i}`)),
    );
    return {
      warmGeneration: warm.body.generation,
      statuses: replies.map((r) => (r.status === 'fulfilled' ? r.value.status : 'rejected')),
      errors: replies.filter((r) => r.status === 'rejected').map((r) => describeError(r.reason)),
      generations: [...new Set(replies.map((r) => r.value?.body?.generation))],
      stats: gateway.stats,
    };
  });

/** A JSON POST whose first attempt gets a 401: the retry carries byte-identical JSON. */
const jsonReplay = (name) =>
  withClient(name, {}, async ({ gateway, client }) => {
    await client.get(`${gateway.url}/api/echo`);
    gateway.control.revokeAllAccessTokens();
    const sent = JSON.stringify(REPLAY_BODY);
    const echo = await client.postJson(`${gateway.url}/api/echo`, REPLAY_BODY);
    return {
      status: echo.status,
      method: echo.body.method,
      contentType: echo.body.contentType,
      bodyText: echo.body.bodyText,
      bodyLength: echo.body.bodyLength,
      sentLength: Buffer.byteLength(sent),
      sent,
      generation: echo.body.generation,
      stats: gateway.stats,
    };
  });

/**
 * No token to a foreign origin: a redirect from Eka's origin to the foreign one, and a direct call to
 * it. `header: 'both'` attaches `Authorization` and the custom `auth` header, which fetch itself would
 * forward across a redirect.
 */
const foreignOrigin = (name) =>
  withClient(name, { header: 'both' }, async ({ gateway, client }) => {
    const redirected = await client.get(`${gateway.url}/api/redirect`);
    const direct = await client.get(`${gateway.foreignUrl}/direct`);
    return { redirected: redirected.body, direct: direct.body, stats: gateway.stats };
  });

/** The client's own retry meets ours: one 503 (the client retries it), then a 401 (we refresh once). */
const ownRetry = (name) =>
  withClient(name, {}, async ({ gateway, client }) => {
    await client.get(`${gateway.url}/api/echo`);
    gateway.control.revokeAllAccessTokens();
    gateway.control.failNext('api', 1, { status: 503 });
    try {
      const echo = await client.get(`${gateway.url}/api/echo`);
      return { status: echo.status, generation: echo.body.generation, stats: gateway.stats };
    } catch (error) {
      return { status: 'rejected', error: describeError(error), stats: gateway.stats };
    }
  });

/** An API that answers 401 even to fresh tokens: the call fails with our typed error; token calls stay bounded. */
const unauthorizedForever = (name) =>
  withClient(name, {}, async ({ gateway, client }) => {
    await client.get(`${gateway.url}/api/echo`);
    gateway.control.alwaysUnauthorized(true);
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      try {
        outcomes.push({ status: (await client.get(`${gateway.url}/api/echo`)).status });
      } catch (error) {
        outcomes.push({ status: 'rejected', error: describeError(error) });
      }
    }
    return { outcomes, stats: gateway.stats };
  });

/** A scenario's result, or `{ threw }` (what it threw) when the client rejected where it must not. */
async function settle(scenario, name) {
  try {
    return await scenario(name);
  } catch (error) {
    return { threw: describeError(error) };
  }
}

/** Every scenario for the client `name`, in order, with the runtime and package versions. */
export async function runScenarios(name) {
  if (!clients[name])
    throw new Error(`unknown client ${name}; choose from ${Object.keys(clients).join(', ')}`);
  const started = performance.now();
  const result = {
    client: name,
    node: process.version,
    packages: packagesOf(name),
    revokeStorm: await settle(revokeStorm, name),
    jsonReplay: await settle(jsonReplay, name),
    foreignOrigin: await settle(foreignOrigin, name),
    ownRetry: await settle(ownRetry, name),
    unauthorizedForever: { ...(await settle(unauthorizedForever, name)), errors: clients[name].errors },
  };
  return { ...result, durationMs: Math.round(performance.now() - started) };
}
