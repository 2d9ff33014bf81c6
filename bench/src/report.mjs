// Machine info and the Markdown rendering of a run (results/latest.md is generated from latest.json).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const PEERS = ['axios', 'got', 'openapi-fetch', 'axios-auth-refresh', '@badgateway/oauth2-client'];

/** Versions of the peer/host libraries as installed for the bench package. */
function installedVersions() {
  const versions = {};
  for (const name of PEERS) {
    try {
      const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
      versions[name] = JSON.parse(readFileSync(file, 'utf8')).version;
    } catch {
      versions[name] = 'unknown';
    }
  }
  return versions;
}

function gitRevision() {
  try {
    const cwd = new URL('..', import.meta.url);
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} (uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}

/** Node version, CPU model, core count, load and library versions. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    undici: process.versions.undici,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    gitRevision: gitRevision(),
    libraries: installedVersions(),
  };
}

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ratio = (r) => (r === undefined ? '' : r.toFixed(3));
const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const calibrated = ({ sampleSeconds }) =>
  sampleSeconds ? ` (sized to last ~${sampleSeconds} s each)` : ' (fixed size)';
const range = (s) => (s.min === s.max ? `${s.median}` : `${s.median} (${s.min}–${s.max})`);

/** Markdown for section 1. */
export function authorizeMarkdown(result) {
  const head = result.rows[0];
  return [
    '## 1. `authorize()` hot path (valid cached token, no I/O)',
    '',
    `${result.config.rounds} interleaved rounds × ${int(result.config.opsPerSample)} calls per sample` +
      `${calibrated(result.config)}; ` +
      `URL \`${result.config.url}\`.`,
    '',
    table(
      ['variant', 'median ops/s (wall)', 'min', 'max', 'ns/op (wall)', 'CPU ns/op', 'ops per CPU-second'],
      result.rows.map((r) => [
        `\`${r.name}\``,
        int(r.median),
        int(r.min),
        int(r.max),
        r.nsPerOp.toFixed(0),
        r.cpuNsPerOp.toFixed(0),
        int(r.opsPerCpuSecond),
      ]),
    ),
    '',
    `**Target ≥ ${int(result.targetOpsPerSec)} ops/s for \`${head.name}\`: ` +
      `${result.meetsTarget ? 'met' : 'NOT met'} on the wall clock** (median ${int(head.median)} ops/s); ` +
      `per CPU-second of this process ${int(head.opsPerCpuSecond)} ` +
      `(${result.meetsTargetPerCpuSecond ? 'met' : 'not met'}).`,
  ].join('\n');
}

const micros = (us) => (us === undefined ? '' : `${us >= 0 ? '+' : ''}${us.toFixed(1)}`);
const throughputTable = (group) =>
  table(
    [
      'client',
      'median req/s',
      'min',
      'max',
      'ratio vs bare',
      'per-round ratio p25–p75',
      'client CPU µs/req',
      'CPU µs/req vs bare',
    ],
    group.rows.map((r) => {
      const base = r.name === group.baseline;
      return [
        r.name,
        int(r.median),
        int(r.min),
        int(r.max),
        ratio(r.ratio),
        base ? '' : `${ratio(r.ratioP25)}–${ratio(r.ratioP75)}`,
        r.cpuUs.toFixed(1),
        base ? '' : micros(r.addedCpuUs),
      ];
    }),
  );

/**
 * The stub-transport table, plus what its CPU difference means at the loopback cost of the bare
 * client: a CPU-bound client's throughput ratio is about bare / (bare + added).
 */
const stubSection = (title, stub, loopbackBare) => {
  if (!stub || stub.skipped) return ['', `### ${title}`, '', `Not measured: ${stub?.skipped ?? 'no result'}`];
  const lines = [
    '',
    `### ${title}`,
    '',
    `${stub.rounds} interleaved rounds × ${int(stub.requestsPerSample)} sequential requests per sample, ` +
      'no network: the difference is the adapter’s own CPU cost per request.',
    '',
    throughputTable(stub),
  ];
  if (loopbackBare) {
    const estimates = stub.rows
      .filter((r) => r.name !== stub.baseline && !r.name.startsWith('A/A'))
      .map(
        (r) =>
          `${r.name.split(' (')[0]} ≈ ${ratio(loopbackBare / (loopbackBare + Math.max(0, r.addedCpuUs)))}`,
      );
    lines.push(
      '',
      `Estimated loopback throughput ratio if the client is CPU-bound, from the bare client's ` +
        `${loopbackBare.toFixed(0)} µs CPU/request above: ${estimates.join('; ')}.`,
    );
  }
  return lines;
};

/** Markdown for section 2. */
export function fetchMarkdown(result) {
  const lines = [
    '## 2. fetch overhead (happy path, keep-alive loopback)',
    '',
    `Concurrency ${result.config.concurrency}, samples${calibrated(result.config)}; ` +
      'rounds and requests per sample are given per table. ' +
      'Ratio = median of the per-round ratios (variant ÷ bare, same round). ' +
      `Target for \`createAuthFetch\`: ratio ≥ ${result.targetRatio}.`,
  ];
  const control = result.servers.tiny?.rows.find((r) => r.name.startsWith('A/A'));
  // How far the bare client's ratio to itself strayed from 1 (interquartile range of the rounds).
  const noise = control
    ? Math.max(Math.abs(control.ratioP25 - 1), Math.abs(control.ratioP75 - 1))
    : undefined;
  const resolvable = noise !== undefined && noise <= 1 - result.targetRatio;
  for (const group of Object.values(result.servers)) {
    const ours = group.rows.find((r) => r.name.startsWith('createAuthFetch'));
    const verdict = ours.ratio >= result.targetRatio ? 'met' : 'NOT met';
    lines.push(
      '',
      `### Server: ${group.server}`,
      '',
      `${group.rounds} interleaved rounds × ${int(group.requestsPerSample)} GET requests per sample.`,
      '',
      throughputTable(group),
      '',
      `createAuthFetch ratio ${ratio(ours.ratio)}: target ${verdict}` +
        (resolvable
          ? '.'
          : ` — but inconclusive: the A/A control's per-round ratios spread ${ratio(control?.ratioP25)}–` +
            `${ratio(control?.ratioP75)}, wider than the ${Math.round((1 - result.targetRatio) * 100)} % margin ` +
            'being tested; see the stub-transport table for the adapter’s own cost.') +
        (group.server401s !== undefined ? ` 401s served during the run: ${group.server401s}.` : ''),
    );
  }
  const bare = result.servers.tiny?.rows.find((r) => r.name === result.servers.tiny.baseline);
  lines.push(...stubSection('Stub transport (in-process, no network)', result.stub, bare?.cpuUs));
  if (result.openapiStub)
    lines.push(
      ...stubSection(
        'openapi-fetch with a stub fetch (in-process, no network)',
        result.openapiStub,
        bare?.cpuUs,
      ),
    );
  return lines.join('\n');
}

/**
 * Markdown for the stub-only run (`bench:stub`): each adapter's own CPU µs per request over its
 * bare client on the same stub transport, then the four tables.
 */
export function stubMarkdown(result) {
  const entries = [
    ['fetch', 'createAuthFetch', result.fetch],
    ['axios', 'attachEkaAuth', result.axios],
    ['got', 'ekaAuthHooks', result.got],
    ['openapi-fetch', 'ekaAuthMiddleware', result.openapiFetch],
  ];
  const rows = entries.map(([client, adapter, stub]) => {
    if (!stub || stub.skipped) return [client, adapter, 'n/a', 'n/a', 'n/a', 'n/a'];
    const bare = stub.rows.find((r) => r.name === stub.baseline);
    const ours = stub.rows.find(
      (r) => r.name !== stub.baseline && !r.name.startsWith('A/A') && !r.name.startsWith('peer'),
    );
    const control = stub.rows.find((r) => r.name.startsWith('A/A'));
    return [
      client,
      `\`${adapter}\``,
      bare.cpuUs.toFixed(1),
      ours.cpuUs.toFixed(1),
      micros(ours.addedCpuUs),
      micros(control?.addedCpuUs),
    ];
  });
  return [
    '## Stub transport: each adapter’s own CPU cost per request',
    '',
    'In-process stub transports, no network (see the tables below). CPU µs per request: the median of',
    'the rounds; "added" is the median of the per-round differences (ours − bare, same round); the A/A',
    'row is the bare client against itself, the run’s noise floor. Target in issue #13: added ≤ 5 µs.',
    '',
    table(['client', 'adapter', 'bare CPU µs/req', 'ours CPU µs/req', 'added µs/req', 'A/A µs/req'], rows),
    ...stubSection('fetch with a stub fetch', result.fetch),
    ...stubSection('axios with a stub adapter', result.axios),
    ...stubSection('got with a stub response', result.got),
    ...stubSection('openapi-fetch with a stub fetch', result.openapiFetch),
  ].join('\n');
}

/** Markdown for section 3 (throughput part). */
export function axiosGotMarkdown(result) {
  const lines = [
    '## 3. axios / got overhead (happy path, keep-alive loopback)',
    '',
    `Concurrency ${result.config.concurrency}, samples${calibrated(result.config)}; server: ${result.server}. ` +
      `401s served during the run: ${result.server401s}.`,
  ];
  for (const [client, group] of [
    ['axios', result.axios],
    ['got', result.got],
  ]) {
    lines.push(
      '',
      `### ${client}`,
      '',
      group.skipped
        ? `Not measured: ${group.skipped}`
        : `${group.rounds} interleaved rounds × ${int(group.requestsPerSample)} GET requests per sample.\n\n` +
            throughputTable(group),
    );
  }
  const bareAxios = result.axios.rows?.find((r) => r.name === result.axios.baseline);
  const bareGot = result.got.rows?.find((r) => r.name === result.got.baseline);
  lines.push(
    ...stubSection('axios with a stub adapter (in-process, no network)', result.axiosStub, bareAxios?.cpuUs),
    ...stubSection('got with a stub response (in-process, no network)', result.gotStub, bareGot?.cpuUs),
  );
  return lines.join('\n');
}

/** Markdown for the concurrent-401 herd. */
export function herdMarkdown(result) {
  const scenarioText = Object.entries(result.config.scenarios)
    .map(
      ([name, s]) =>
        `\`${name}\`: one request every ${s.spacingMs} ms, API latency ${s.apiLatencyMs} ms, refresh latency ${s.refreshLatencyMs} ms`,
    )
    .join('; ');
  return [
    '## 3b. Concurrent 401s: the access token was just revoked at the gateway',
    '',
    `${result.config.requests} requests per trial, ${result.config.trials} trials per client (fresh client each, ` +
      `logged in, then \`revokeAllAccessTokens()\` and \`resetStats()\`), counted at the Eka gateway emulator. ` +
      `Scenarios — ${scenarioText}. Cells: median (min–max) per trial; "failed" = requests that did not end in 200, ` +
      'summed over all trials.',
    '',
    table(
      [
        'scenario',
        'client',
        'refresh calls',
        'refreshes rejected',
        'logins',
        'token-endpoint calls',
        '401s served',
        'failed requests',
        'median ms',
      ],
      result.rows.map((r) =>
        r.skipped
          ? [r.scenario, r.setup, `not measured: ${r.skipped}`, '', '', '', '', '', '']
          : [
              r.scenario,
              r.setup,
              range(r.refreshCalls),
              range(r.refreshesRejected),
              range(r.logins),
              range(r.tokenEndpointCalls),
              range(r.unauthorizedServed),
              `${r.failedTotal} / ${r.trials * result.config.requests}`,
              int(r.elapsedMs),
            ],
      ),
    ),
  ].join('\n');
}

/** Markdown for the machine. */
export function machineMarkdown(machine, { command, startedAt, durationSec }) {
  return [
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['command', `\`${command}\``],
        ['started', startedAt],
        ['duration', `${durationSec.toFixed(0)} s`],
        ['node', `${machine.node} (V8 ${machine.v8}, undici ${machine.undici})`],
        ['platform', machine.platform],
        [
          'CPU',
          `${machine.cpuModel} × ${machine.cores} cores (availableParallelism ${machine.availableParallelism})`,
        ],
        ['memory', `${machine.totalMemGiB} GiB`],
        [
          'load average (1/5/15 min)',
          `${machine.loadAverageAtStart.join(' / ')} at start, ${machine.loadAverageAtEnd?.join(' / ') ?? '?'} at end`,
        ],
        ['git', machine.gitRevision],
        [
          'libraries',
          Object.entries(machine.libraries)
            .map(([name, version]) => `${name} ${version}`)
            .join(', '),
        ],
      ],
    ),
  ].join('\n');
}
