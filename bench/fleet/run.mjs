// Fleet benchmark entry point: `node bench/fleet/run.mjs [--quick]` (needs redis-server and the built
// packages: `pnpm turbo run build --filter=@eka/auth-storage-redis...`). Starts its own redis-server,
// measures lock wake-up (pub/sub vs polling), then the fleet matrix, and writes
// bench/results/fleet.md and bench/results/fleet.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchFleet } from './fleet.mjs';
import { startRedisServer } from './redisServer.mjs';
import { fleetMarkdown, fleetSvg, machineLine } from './report.mjs';
import { benchWake } from './wake.mjs';

const quick = process.argv.includes('--quick');
const started = performance.now();
const machine = machineLine();
const redis = await startRedisServer();
let wake;
let fleet;
try {
  console.log('lock wake-up, pub/sub vs polling:');
  wake = await benchWake(redis.url, quick ? { waiters: [4], trials: 3 } : undefined);
  console.log('fleet: shared Redis session vs one session per process:');
  fleet = await benchFleet(redis.url, quick ? { sizes: [1, 4], expiries: 1 } : undefined);
} finally {
  await redis.stop();
}
const seconds = Math.round((performance.now() - started) / 1000);
const results = new URL('../results/', import.meta.url);
mkdirSync(results, { recursive: true });
writeFileSync(new URL('fleet.md', results), fleetMarkdown({ machine, wake, fleet, seconds }));
writeFileSync(new URL('fleet.svg', results), fleetSvg(fleet));
console.log(`wrote bench/results/fleet.md and bench/results/fleet.svg (${seconds} s)`);
