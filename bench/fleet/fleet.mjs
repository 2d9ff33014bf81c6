// The fleet matrix: N member processes share one Eka session (Redis storage) or each keep their own
// (memory storage), against one gateway emulator in this process, through several token expiries.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const MEMBER = fileURLToPath(new URL('./member.mjs', import.meta.url));
const GATEWAY = new URL('./gatewayThread.mjs', import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const FLEET_DEFAULTS = {
  sizes: [1, 4, 8, 16],
  storages: ['redis', 'memory'],
  /** Access-token lifetime at the emulator. */
  ttlSec: 2,
  /** Token expiries each run goes through. */
  expiries: 3,
  /** One request per member every `intervalMs` (open loop). */
  intervalMs: 200,
  /** Latency the emulator adds to login and refresh (a real gateway is not on loopback). */
  tokenLatencyMs: 100,
};

/** Run every (size, storage) pair, one after the other. */
export async function benchFleet(redisUrl, options = {}) {
  const o = { ...FLEET_DEFAULTS, ...options };
  const rows = [];
  for (const size of o.sizes) {
    for (const storage of o.storages) {
      const row = await runFleet(redisUrl, { ...o, size, storage });
      rows.push(row);
      console.log(
        `  N=${String(size).padStart(2)} ${storage.padEnd(6)} logins ${row.logins}, refreshes/expiry ` +
          `${row.refreshesPerExpiry.toFixed(1)}, p99 through expiry ${row.p99ExpiryMs.toFixed(1)} ms, failed ${row.failed} ${JSON.stringify(row.errors)}, ` +
          `members that fell back to memory ${row.degradedMembers}`,
      );
    }
  }
  return { options: o, rows };
}

async function runFleet(redisUrl, o) {
  const gateway = await startGateway(o);
  const members = [];
  const prefix = `bench-${Date.now()}-${o.size}:`;
  try {
    for (let i = 0; i < o.size; i++) members.push(spawnMember(redisUrl, gateway, { ...o, prefix }));
    await Promise.all(members.map((m) => m.next('ready')));
    for (const m of members) m.child.send({ type: 'run' });
    // Login, then `expiries` refreshes ~0.85 of a lifetime apart, then a little more.
    await sleep(o.ttlSec * 1000 * (0.85 * o.expiries + 0.35) + o.tokenLatencyMs);
    const results = await Promise.all(
      members.map((m) => {
        const result = m.next('result');
        m.child.send({ type: 'stop' });
        return result;
      }),
    );
    return summarise(o, await gateway.stats(), results);
  } finally {
    for (const m of members) if (m.child.exitCode === null) m.child.kill('SIGKILL');
    await gateway.close();
  }
}

async function startGateway(o) {
  const thread = new Worker(GATEWAY, { workerData: { ttlSec: o.ttlSec, tokenLatencyMs: o.tokenLatencyMs } });
  const [{ url, credentials }] = await once(thread, 'message');
  return {
    url,
    credentials,
    async stats() {
      thread.postMessage('stats');
      const [{ stats }] = await once(thread, 'message');
      return stats;
    },
    async close() {
      thread.postMessage('close');
      await once(thread, 'exit');
    },
  };
}

function spawnMember(redisUrl, gateway, o) {
  const config = {
    storage: o.storage,
    redisUrl,
    prefix: o.prefix,
    gatewayUrl: gateway.url,
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    intervalMs: o.intervalMs,
  };
  const child = fork(MEMBER, [], {
    env: { ...process.env, FLEET_MEMBER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  child.on('message', (message) => waiting.get(message.type)?.(message));
  const next = (type) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`member: no ${type} within 60 s`)), 60_000);
      waiting.set(type, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  return { child, next };
}

/** Counts from the gateway; refresh rounds = refresh calls clustered in time; latency percentiles. */
function summarise(o, stats, results) {
  const calls = results.flatMap((r) => r.refreshCalls).sort((a, b) => a[0] - b[0]);
  const rounds = [];
  for (const [start, end] of calls) {
    const last = rounds.at(-1);
    if (last && start - last.end < o.ttlSec * 400) last.end = Math.max(last.end, end);
    else rounds.push({ start, end });
  }
  // Expiries the fleet went through: the most tokens any member used, less its first (the login).
  const expiries = Math.max(0, ...results.map((r) => r.tokens - 1));
  const samples = results.flatMap((r) => r.samples);
  const inRound = samples.filter(([sentAt]) =>
    rounds.some((r) => sentAt >= r.start - 300 && sentAt <= r.end + 300),
  );
  const latencies = (list) => list.map(([, ms]) => ms).sort((a, b) => a - b);
  const all = latencies(samples);
  const expiry = latencies(inRound);
  return {
    size: o.size,
    storage: o.storage,
    logins: stats.logins.ok,
    refreshes: stats.refreshes.ok,
    refreshesRejected: stats.refreshes.rejected + stats.refreshes.reused,
    expiries,
    refreshesPerExpiry: expiries ? stats.refreshes.ok / expiries : 0,
    requests: samples.length,
    failed: samples.filter(([, , ok]) => !ok).length,
    errors: mergeCounts(results.map((r) => r.errors)),
    degradedMembers: results.filter((r) => r.warnings.includes('REDIS_UNAVAILABLE')).length,
    p50Ms: quantile(all, 0.5),
    p99Ms: quantile(all, 0.99),
    p99ExpiryMs: quantile(expiry, 0.99),
    maxExpiryMs: expiry.at(-1) ?? 0,
  };
}

function quantile(sorted, q) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function mergeCounts(list) {
  const total = {};
  for (const counts of list)
    for (const [code, n] of Object.entries(counts)) total[code] = (total[code] ?? 0) + n;
  return total;
}
