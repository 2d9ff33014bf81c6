// One member process of the fleet bench: an EkaAuth (shared Redis storage, or its own memory) and an
// authenticated fetch that sends one request every `intervalMs` (open loop, so a request that waits
// for a token does not hold back the schedule). Reports every latency and token call when stopped.
import { createEkaAuth, REFRESH_PATH } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { load, loadStorage } from './deps.mjs';

const config = JSON.parse(process.env.FLEET_MEMBER ?? '{}');
const send = (message) => process.connected && process.send(message);

let storage;
let running = true;
const warnings = [];
let close = async () => {};
if (config.storage === 'redis') {
  const { Redis } = await load('ioredis');
  const { redisStorage } = await loadStorage();
  const client = new Redis(config.redisUrl);
  storage = redisStorage(client, {
    prefix: config.prefix,
    onWarning: (w) => running && warnings.push(w.code),
  });
  close = async () => {
    await storage.close();
    client.disconnect();
  };
}

const refreshCalls = [];
let tokens = 0; // tokens this member went through: login + one per expiry
const tokenFetch = async (input, init) => {
  const started = Date.now();
  const response = await fetch(input, init);
  if (new URL(String(input)).pathname === REFRESH_PATH) refreshCalls.push([started, Date.now()]);
  return response;
};
const auth = createEkaAuth({
  baseUrl: config.gatewayUrl,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  storage,
  fetch: tokenFetch,
  onEvent: (event) => {
    if (event.type === 'token') tokens++;
  },
});
const authFetch = createAuthFetch(auth);

const samples = []; // [sentAt (epoch ms), latency ms, ok]
const errors = {}; // error code → count
const inFlight = new Set();
let timer;

function fire() {
  const sentAt = Date.now();
  const started = performance.now();
  const request = authFetch(`${config.gatewayUrl}/api/echo`)
    .then(async (response) => {
      await response.arrayBuffer();
      return response.status === 200;
    })
    .catch((error) => {
      const code = error?.code ?? error?.name ?? 'error';
      errors[code] = (errors[code] ?? 0) + 1;
      return false;
    })
    .then((ok) => {
      samples.push([sentAt, performance.now() - started, ok]);
      inFlight.delete(request);
    });
  inFlight.add(request);
}

process.on('message', async (message) => {
  if (message.type === 'run') {
    timer = setInterval(fire, config.intervalMs);
  } else if (message.type === 'stop') {
    clearInterval(timer);
    await Promise.all(inFlight);
    running = false;
    send({ type: 'result', samples, refreshCalls, errors, warnings, tokens });
    auth.dispose();
    await close();
    process.disconnect();
  }
});

if (storage) await storage.get('__bench_ready__');
send({ type: 'ready' });
