// One member of a test fleet: its own process, Redis connection, EkaAuth and authenticated fetch,
// built from the packages' dist exactly as an app would use them. Driven by its parent over IPC:
// 'run' starts request loops, 'stop' ends them and reports; everything noteworthy is sent as it happens.
import { createEkaAuth, LOGIN_PATH, REFRESH_PATH } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { redisStorage } from '../../dist/index.js';

const config = JSON.parse(process.env.FLEET_CONFIG ?? '{}');
const send = (message) => process.connected && process.send({ ...message, at: Date.now() });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = () => Date.now() + (config.skewMs ?? 0);

async function connect() {
  // Import only the library this member uses (each costs a noticeable share of a process start).
  const nodes = config.clusterNodes;
  if (config.client.startsWith('redis')) {
    const { createClient, createCluster } = await import(config.client);
    const socket = { reconnectStrategy: () => 100 };
    const client = nodes
      ? createCluster({ rootNodes: nodes.map(({ url }) => ({ url })), defaults: { socket } })
      : createClient({ url: config.redisUrl, socket });
    client.on('error', () => {});
    await client.connect();
    return { client, close: () => client.destroy() };
  }
  const { Cluster, Redis } = await import(config.client);
  const client = nodes
    ? new Cluster(
        nodes.map(({ host, port }) => ({ host, port })),
        { clusterRetryStrategy: () => 100, redisOptions: { maxRetriesPerRequest: 1 } },
      )
    : new Redis(config.redisUrl, { retryStrategy: () => 100, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  // Connected (for a cluster: with the slot map loaded) before the first command: on a loaded machine
  // that can take longer than a command timeout, and the fleet tests measure the fleet, not its start.
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return { client, close: () => client.disconnect() };
}

const redis = await connect();
const storage = redisStorage(redis.client, {
  prefix: config.prefix,
  lockTtlMs: config.lockTtlMs,
  commandTimeoutMs: config.commandTimeoutMs,
  retryIntervalMs: config.retryIntervalMs,
  clock,
  onWarning: (warning) => send({ type: 'warning', code: warning.code }),
});

/** The transport of login/refresh only: reports each call and its status. */
const tokenFetch = async (input, init) => {
  const path = new URL(String(input)).pathname;
  const kind = path === REFRESH_PATH ? 'refresh' : path === LOGIN_PATH ? 'login' : path;
  send({ type: 'token-call', kind, phase: 'start' });
  try {
    const response = await fetch(input, init);
    send({ type: 'token-call', kind, phase: 'end', status: response.status });
    return response;
  } catch (error) {
    send({ type: 'token-call', kind, phase: 'end', status: 0 });
    throw error;
  }
};

const auth = createEkaAuth({
  baseUrl: config.gatewayUrl,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  storage,
  clock,
  fetch: tokenFetch,
  onEvent: (event) => {
    if (event.type === 'token') send({ type: 'token', source: event.source, generation: event.generation });
    else if (event.type === 'failure') send({ type: 'failure', code: event.error.code });
    else if (event.type === 'warning') send({ type: 'core-warning', message: event.message });
  },
});
const attempts = new WeakMap();
const genOf = (headers) => {
  const token = new Headers(headers).get('authorization')?.split(' ')[1];
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).gen;
  } catch {
    return -1;
  }
};
const tracingFetch = async (input, init) => {
  const n = (attempts.get(init.headers) ?? 0) + 1;
  attempts.set(init.headers, n);
  const response = await fetch(input, init);
  if (response.status === 401) {
    send({ type: 'api-401', gen: genOf(init.headers), attempt: n, local: auth.getSnapshot().generation });
  }
  return response;
};
const authFetch = createAuthFetch(auth, { fetch: tracingFetch });

let running = false;
const loops = [];
const outcome = { ok: 0, failed: 0, errors: [] };

async function loop() {
  while (running) {
    try {
      const response = await authFetch(`${config.gatewayUrl}/api/echo`);
      await response.arrayBuffer();
      if (response.status === 200) outcome.ok++;
      else throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      outcome.failed++;
      if (outcome.errors.length < 5) outcome.errors.push(String(error?.code ?? error?.message ?? error));
    }
    if (config.pauseMs) await sleep(config.pauseMs);
  }
}

process.on('message', async (message) => {
  if (message.type === 'run') {
    running = true;
    for (let i = 0; i < (config.concurrency ?? 4); i++) loops.push(loop());
  } else if (message.type === 'stop') {
    running = false;
    await Promise.all(loops);
    send({ type: 'result', ...outcome });
    auth.dispose();
    await storage.close();
    await redis.close();
    process.disconnect();
  }
});

await storage.get('__fleet_ready__'); // connected
await sleep(100); // and subscribed
send({ type: 'ready' });
