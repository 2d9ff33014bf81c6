// `pnpm --filter @eka/tests-runtimes scenario [node|bun|deno|workerd ...]`: runs the scenario on each
// runtime named (default: all) and prints one line per run. A runtime with a known issue (KNOWN_ISSUES,
// see README.md) is run as is — its failure is reported as known — and again with the workaround.
// Exit code 1 when a run fails other than by a known issue.
import { describeOutcome, KNOWN_ISSUES, RUNTIMES, runOnRuntime } from './host.mjs';

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !RUNTIMES.includes(name));
if (unknown.length > 0) {
  console.error(`unknown runtime(s): ${unknown.join(', ')}; choose from ${RUNTIMES.join(', ')}`);
  process.exit(2);
}

let failed = false;
for (const runtime of wanted.length > 0 ? wanted : RUNTIMES) {
  const known = KNOWN_ISSUES[runtime];
  const runs = known ? ['default', known.workaround] : ['default'];
  for (const coreFetch of runs) {
    const started = performance.now();
    const outcome = await runOnRuntime(runtime, undefined, { coreFetch });
    let line = describeOutcome(outcome);
    const ms = Math.round(performance.now() - started);
    if (coreFetch !== 'default') line += ` [with the ${coreFetch} workaround]`;
    const knownFailure =
      known &&
      coreFetch === 'default' &&
      outcome.outcome === 'ran' &&
      known.symptom.test(outcome.result.error ?? '');
    if (knownFailure) line += `\n  ↳ KNOWN ISSUE: ${known.summary} (tests/runtimes/README.md)`;
    else failed ||= line.includes('FAILED');
    console.log(`${line} [${ms} ms]`);
  }
}
process.exitCode = failed ? 1 : 0;
