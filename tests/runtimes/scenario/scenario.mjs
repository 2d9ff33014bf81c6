// The runtime-matrix scenario: only web standards (fetch, URL, Headers, JSON), so the very same module
// runs on Node, Bun, Deno and Cloudflare workerd. It drives @eka/auth-core + @eka/auth-fetch against the
// Eka gateway emulator the host started; the host checks the emulator's own counters afterwards.
import { createEkaAuth } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';

/** Which runtime this is, and its version, as the runtime itself reports them. */
export function describeRuntime() {
  const g = globalThis;
  if (g.Bun) return { name: 'bun', version: g.Bun.version };
  if (g.Deno) return { name: 'deno', version: g.Deno.version.deno };
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return { name: 'workerd', version: 'workerd' };
  if (g.process?.versions?.node) return { name: 'node', version: g.process.versions.node };
  return { name: 'unknown', version: 'unknown' };
}

/**
 * @param {{ gatewayUrl: string, controlUrl: string, clientId: string, clientSecret: string,
 *   coreFetch?: 'default' | 'workers-safe-fetch' }} config
 * @returns {Promise<{ runtime: { name: string, version: string }, steps: Record<string, any>, error?: string }>}
 */
export async function runScenario(config) {
  const steps = {};
  const runtime = describeRuntime();
  // 'both' puts the token in `Authorization` *and* Eka's custom `auth` header: a redirect must drop both.
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.gatewayUrl,
    header: 'both',
    // The documented workaround of a known workerd issue (tests/runtimes/README.md): a plain-function fetch
    // (never called as a method) that maps `redirect: 'error'`, which workerd lacks, to 'manual'.
    ...(config.coreFetch === 'workers-safe-fetch' ? { fetch: workersSafeFetch } : {}),
  });
  const ekaFetch = createAuthFetch(auth);
  try {
    // 1. Log in.
    await auth.login();
    steps.login = { state: auth.state, generation: auth.getSnapshot().generation };

    // 2. An authenticated call with a JSON body.
    const call = await ekaFetch(`${config.gatewayUrl}/api/echo?step=call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: runtime.name }),
    });
    const echoed = await call.json();
    steps.call = { status: call.status, generation: echoed.generation, bodyText: echoed.bodyText };

    // 3. The gateway revokes every token: the next call gets a 401, one refresh, one retry.
    const revoked = await fetch(`${config.controlUrl}/revoke-access-tokens`, { method: 'POST' });
    if (revoked.status !== 204) throw new Error(`control server answered ${revoked.status}`);
    const retried = await ekaFetch(`${config.gatewayUrl}/api/echo?step=retry`);
    const retriedBody = await retried.json();
    steps.retry = {
      status: retried.status,
      generation: retriedBody.generation,
      snapshotGeneration: auth.getSnapshot().generation,
    };

    // 4. A redirect to another origin: followed, but without the token in either header.
    const redirected = await ekaFetch(`${config.gatewayUrl}/api/redirect`);
    const landing = await redirected.json();
    steps.redirect = {
      status: redirected.status,
      foreign: landing.foreign === true,
      receivedAuth: landing.receivedAuth,
      receivedAuthorization: landing.receivedAuthorization,
    };
    return { runtime, steps };
  } catch (error) {
    return { runtime, steps, error: describeError(error) };
  } finally {
    auth.dispose();
  }
}

/** @type {typeof fetch} */
const workersSafeFetch = (input, init) =>
  fetch(input, init?.redirect === 'error' ? { ...init, redirect: 'manual' } : init);

/** `Name: message`, followed by the chain of causes (a network error's cause says what really broke). */
function describeError(error) {
  const parts = [];
  for (let current = error, depth = 0; current !== undefined && depth < 4; current = current?.cause, depth++)
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
  return parts.join(' <- caused by ');
}
