// `node scenario/main.mjs <client>`: runs every compat scenario for one client in this Node process and
// prints the result as one JSON line on stdout (run by src/runClient.mjs on the Node the client needs).
import { runScenarios } from './runScenarios.mjs';

const result = await runScenarios(process.argv[2]);
process.stdout.write(`${JSON.stringify(result)}\n`);
