// `pnpm --filter @eka/tests-compat scenario [ky|ofetch|wretch|axios ...]`: runs the compat scenarios for
// each client named (default: all), each on the Node its packages need, and prints one line per client.
// Exit code 1 when a client's scenarios fail or break an invariant.

import { clients } from '../scenario/clients.mjs';
import { STORM_SIZE } from '../scenario/runScenarios.mjs';
import { checkResult } from './checkResult.mjs';
import { runClient } from './runClient.mjs';

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !clients[name]);
if (unknown.length > 0) {
  console.error(`unknown client(s): ${unknown.join(', ')}; choose from ${Object.keys(clients).join(', ')}`);
  process.exit(2);
}

let failed = false;
for (const client of wanted.length > 0 ? wanted : Object.keys(clients)) {
  const started = performance.now();
  try {
    const { result } = await runClient(client);
    const problems = Object.entries(checkResult(result)).flatMap(([scenario, list]) =>
      list.map((problem) => `${scenario}: ${problem}`),
    );
    const versions = result.packages.map((p) => `${p.name} ${p.version}`).join(' + ');
    const ms = Math.round(performance.now() - started);
    const storm = result.revokeStorm.stats;
    const leaks = result.foreignOrigin.stats?.tokenLeaks;
    console.log(
      `${client} (${versions}) on Node ${result.node}: ${problems.length === 0 ? 'ok' : 'FAILED'} — ` +
        `revoke storm of ${STORM_SIZE}: ${storm?.refreshes.ok ?? '?'} refresh, token leaks ${leaks ?? '?'} [${ms} ms]`,
    );
    for (const problem of problems) console.log(`  ✗ ${problem}`);
    failed ||= problems.length > 0;
  } catch (error) {
    console.log(`${client}: FAILED — ${error.message}`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
