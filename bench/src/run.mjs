// Entry point: `node --expose-gc src/run.mjs <all|authorize|fetch|axios-got|stub> [--quick]`.
// `all` also writes results/latest.json and results/latest.md; the others only print.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { benchAuthorize } from './authorize.mjs';
import { benchAxiosGot } from './axiosGot.mjs';
import { benchFetch } from './fetch.mjs';
import { benchHerd } from './herd.mjs';
import {
  authorizeMarkdown,
  axiosGotMarkdown,
  fetchMarkdown,
  herdMarkdown,
  machineInfo,
  machineMarkdown,
  stubMarkdown,
} from './report.mjs';
import { benchAxiosStub, benchFetchStub, benchGotStub, benchOpenapiFetchStub } from './stubTransport.mjs';

const QUICK = {
  authorize: { rounds: 3, ops: 20_000, sampleSeconds: 0, warmup: 1 },
  fetch: {
    rounds: 2,
    emulatorRounds: 2,
    requests: 100,
    sampleSeconds: 0,
    concurrency: 8,
    warmup: 1,
    stub: { rounds: 2, ops: 200, sampleSeconds: 0, warmup: 1 },
  },
  axiosGot: {
    rounds: 2,
    requests: 100,
    sampleSeconds: 0,
    concurrency: 8,
    warmup: 1,
    stub: { rounds: 2, ops: 200, sampleSeconds: 0, warmup: 1 },
  },
  herd: { trials: 1 },
  stub: { rounds: 2, ops: 200, sampleSeconds: 0, warmup: 1 },
};

/** The stub-only run: more rounds than the stub tables of the full run, as it is the one to quote. */
const STUB = { rounds: 15, ops: 300, sampleSeconds: 0.15, warmup: 2 };

const METHOD = [
  'Method: every sample is a timed batch; the variants of a table run interleaved in one process',
  '(round r starts with variant r mod n), after warm-up passes, with a GC between samples. Tables show',
  'the median of the rounds; ratios and CPU differences are medians of per-round pairs, so a noisy',
  'round moves both sides. HTTP runs are closed-loop (N requests, C in flight) over keep-alive',
  'loopback to a server in a child process; each "bare" client sends the same headers our adapter',
  'would, set by hand. "CPU" is this process\'s user+system time per operation (process.cpuUsage):',
  "with the server in another process it is the client's own cost, and it is much less sensitive",
  'than wall-clock rates to other load on the machine.',
].join('\n');

const SECTIONS = {
  authorize: async (quick) => {
    const result = await benchAuthorize(quick ? QUICK.authorize : undefined);
    return { json: { authorize: result }, markdown: authorizeMarkdown(result) };
  },
  fetch: async (quick) => {
    const result = await benchFetch(quick ? QUICK.fetch : undefined);
    return { json: { fetch: result }, markdown: fetchMarkdown(result) };
  },
  'axios-got': async (quick) => {
    const overhead = await benchAxiosGot(quick ? QUICK.axiosGot : undefined);
    const herd = await benchHerd(quick ? QUICK.herd : undefined);
    return {
      json: { axiosGot: overhead, herd },
      markdown: `${axiosGotMarkdown(overhead)}\n\n${herdMarkdown(herd)}`,
    };
  },
};

// Not part of `all` (whose fetch and axios-got sections include the same tables).
const STUB_SECTION = {
  stub: async (quick) => {
    const options = quick ? QUICK.stub : STUB;
    const result = {
      fetch: await benchFetchStub(options),
      axios: await benchAxiosStub(options),
      got: await benchGotStub(options),
      openapiFetch: await benchOpenapiFetchStub(options),
    };
    return { json: { stub: result }, markdown: stubMarkdown(result) };
  },
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const which = args.find((a) => !a.startsWith('--')) ?? 'all';
Object.assign(SECTIONS, which === 'stub' ? STUB_SECTION : {});
const names = which === 'all' ? Object.keys(SECTIONS) : [which];
if (!names.every((name) => name in SECTIONS)) {
  console.error(`usage: run.mjs <all|${[...Object.keys(SECTIONS), 'stub'].join('|')}> [--quick]`);
  process.exit(2);
}

const machine = machineInfo();
const startedAt = new Date().toISOString();
const started = performance.now();
const json = { machine, quick, sections: names };
const parts = [];
for (const name of names) {
  console.error(`[bench] ${name} …`);
  const sectionStart = performance.now();
  const { json: data, markdown } = await SECTIONS[name](quick);
  Object.assign(json, data);
  parts.push(markdown);
  console.log(`${markdown}\n`);
  console.error(`[bench] ${name} done in ${((performance.now() - sectionStart) / 1000).toFixed(1)} s`);
}
const durationSec = (performance.now() - started) / 1000;
machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
const command = `pnpm --filter @eka/bench ${which === 'all' ? 'bench' : `bench:${which}`}${quick ? ' -- --quick' : ''}`;
Object.assign(json, { command, startedAt, durationSec });
const machineSection = machineMarkdown(machine, { command, startedAt, durationSec });
console.log(machineSection);

if (which === 'stub' && !quick) {
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('stub.json', dir), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(
    new URL('stub.md', dir),
    [`# @eka auth benchmarks: stub transport`, '', ...parts, '', machineSection, ''].join('\n'),
  );
  console.error('[bench] wrote results/stub.md and results/stub.json');
}

if (which === 'all') {
  const title = `# @eka auth benchmarks${quick ? ' (quick run: tiny counts, numbers not meaningful)' : ''}`;
  const markdown = [title, '', METHOD, '', ...parts.flatMap((p) => [p, '']), machineSection, ''].join('\n');
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('latest.json', dir), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(new URL('latest.md', dir), markdown);
  console.error('[bench] wrote results/latest.md and results/latest.json');
}
