// Entry point of the long soak: `pnpm --filter @eka/bench soak` (builds the packages first).
// Env: SOAK_SEED (default random, printed), SOAK_SECONDS (single-shot phase, default 120),
// SOAK_BURST_SECONDS (other phases, default half of SOAK_SECONDS), SOAK_PHASES (default
// `single,burst`; `revokes` is a third, opt-in phase). Prints the markdown report, writes it to
// results/soak.md, and exits 1 when a check fails.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runSoak } from './runSoak.mjs';
import { soakChecks } from './soakChecks.mjs';
import { soakMarkdown } from './soakMarkdown.mjs';

const seed = process.env.SOAK_SEED
  ? Number(process.env.SOAK_SEED) >>> 0
  : Math.floor(Math.random() * 2 ** 32);
const seconds = Number(process.env.SOAK_SECONDS ?? 120);
const burstSeconds = Number(process.env.SOAK_BURST_SECONDS ?? Math.max(5, Math.round(seconds / 2)));
if (!(seconds > 0) || !(burstSeconds > 0)) throw new Error('SOAK_SECONDS and SOAK_BURST_SECONDS must be > 0');

console.error(
  `soak: seed ${seed}; phases ${process.env.SOAK_PHASES ?? 'single,burst'}; ${seconds} s single, ${burstSeconds} s others`,
);
const onProgress = (line) => console.error(line);
const phases = (process.env.SOAK_PHASES ?? 'single,burst').split(',').map((phase) => phase.trim());
const results = [];
for (const phase of phases) {
  results.push(
    await runSoak({ seed, seconds: phase === 'single' ? seconds : burstSeconds, phase, onProgress }),
  );
}

const checkLines = results.flatMap((result) =>
  soakChecks(result).map(
    (c) => `- ${c.ok ? 'ok  ' : 'FAIL'} ${result.phase}: ${c.name} = ${round4(c.actual)} (limit ${c.limit})`,
  ),
);
const failedChecks = checkLines.filter((line) => line.includes('FAIL')).length;
const markdown = [
  soakMarkdown(results, {
    lines: [
      `${new Date().toISOString()} · commit ${commit()} · Node ${process.version} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · load ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
      '',
    ],
  }),
  '## Checks',
  '',
  ...checkLines,
  '',
  ...results.flatMap((r) => [
    ...r.hung.slice(0, 5).map((h) => `- hung (${r.phase}): ${JSON.stringify(h)}`),
    ...r.untyped.slice(0, 5).map((u) => `- untyped (${r.phase}): ${JSON.stringify(u)}`),
    ...r.unhandled.slice(0, 5).map((u) => `- unhandled rejection (${r.phase}): ${u}`),
  ]),
].join('\n');

console.log(markdown);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/soak.md', import.meta.url), `${markdown}\n`);
console.error(
  `soak: wrote results/soak.md; ${failedChecks ? `${failedChecks} check(s) FAILED` : 'all checks passed'}`,
);
process.exitCode = failedChecks ? 1 : 0;

function round4(x) {
  return Number.isInteger(x) ? x : Number(x.toFixed(4));
}

/** The checked-out commit (the packages under test), or "unknown" outside a git work tree. */
function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
