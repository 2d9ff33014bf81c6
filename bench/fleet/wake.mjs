// How fast do processes waiting for the refresh lock wake once the holder releases it? The holder
// keeps the lock 50 ms; K waiters (each its own storage and Redis connection, as K processes would)
// are queued; we time from the end of the holder's work to the first waiter entering and to the last
// one leaving (each waiter re-reads the stored session, as the core does under the lock).
import { load, loadStorage } from './deps.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const WAKE_MODES = [
  { name: 'pub/sub release message (default)', options: { lockWake: 'pubsub' } }, // + 250 ms fallback poll
  { name: 'polling every 10 ms', options: { lockWake: 'poll', pollIntervalMs: 10 } },
  { name: 'polling every 50 ms', options: { lockWake: 'poll', pollIntervalMs: 50 } },
  { name: 'polling every 100 ms', options: { lockWake: 'poll', pollIntervalMs: 100 } },
];

export async function benchWake(redisUrl, { waiters = [1, 8], trials = 15 } = {}) {
  const { Redis } = await load('ioredis');
  const { redisStorage } = await loadStorage();
  const rows = [];
  for (const mode of WAKE_MODES) {
    for (const count of waiters) {
      const clients = Array.from({ length: count + 1 }, () => new Redis(redisUrl));
      const storages = clients.map((c) => redisStorage(c, { ...mode.options, prefix: 'bench-wake:' }));
      const first = [];
      const last = [];
      try {
        for (let trial = 0; trial < trials + 2; trial++) {
          const key = `k${count}-${trial}-${mode.name}`;
          const unsubscribe = storages.map((s) => s.subscribe(key, () => {})); // as the core does
          await sleep(30);
          const timing = await oneTrial(storages, key);
          for (const off of unsubscribe) off();
          if (trial >= 2) {
            first.push(timing.first);
            last.push(timing.last);
          }
        }
      } finally {
        await Promise.all(storages.map((s) => s.close()));
        for (const c of clients) c.disconnect();
      }
      const row = { mode: mode.name, waiters: count, firstMs: median(first), lastMs: median(last) };
      row.lastMaxMs = Math.max(...last);
      row.pollsPerSecond = 1000 / (mode.options.pollIntervalMs ?? 250);
      rows.push(row);
      console.log(
        `  ${mode.name.padEnd(34)} ${count} waiter(s): first wakes ${row.firstMs.toFixed(1)} ms, ` +
          `all through ${row.lastMs.toFixed(1)} ms`,
      );
    }
  }
  return rows;
}

async function oneTrial([holder, ...waiters], key) {
  const signal = new AbortController().signal;
  let releasedAt = 0;
  let entered;
  const inside = new Promise((resolve) => (entered = resolve));
  const held = holder.lock(
    key,
    async () => {
      entered();
      await sleep(40 + Math.random() * 100);
      releasedAt = performance.now();
    },
    { signal },
  );
  await inside;
  const starts = [];
  const ends = [];
  await Promise.all(
    waiters.map((w) =>
      w.lock(
        key,
        async () => {
          starts.push(performance.now());
          await w.get(key);
          ends.push(performance.now());
        },
        { signal },
      ),
    ),
  );
  await held;
  return { first: Math.min(...starts) - releasedAt, last: Math.max(...ends) - releasedAt };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
