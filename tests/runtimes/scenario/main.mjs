// Entry point for Node, Bun and Deno: the config arrives as one JSON argument; the result leaves as one
// JSON line on stdout (prefixed, so runtime warnings on stdout cannot be mistaken for it).
import { runScenario } from './scenario.mjs';

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const result = await runScenario(JSON.parse(args[0]));
console.log(`EKA_SCENARIO_RESULT ${JSON.stringify(result)}`);
