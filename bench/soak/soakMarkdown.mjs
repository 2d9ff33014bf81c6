// The soak's markdown report: one summary table (a row per phase), then failures by code, token
// calls against their bound, per adapter and per instance, and what the chaos did.
import { ADAPTERS } from './createAdapterClients.mjs';

const PHASE_NAMES = { single: 'single-shot faults', burst: 'bursts + rejections', revokes: 'double revokes' };
const percent = (x) => `${(x * 100).toFixed(2)} %`;
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (header, rows) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');

/** The environment that reruns these phases with the same seed and durations. */
function replay(results) {
  const single = results.find((r) => r.phase === 'single');
  const other = results.find((r) => r.phase !== 'single');
  return [
    `SOAK_SEED=${results[0].seed}`,
    single && `SOAK_SECONDS=${single.seconds}`,
    other && `SOAK_BURST_SECONDS=${other.seconds}`,
    `SOAK_PHASES=${results.map((r) => r.phase).join(',')}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * Render soak results (from `runSoak`, one per phase) as markdown.
 *
 * @param results the phases, in the order they ran (`single`, `burst`, optionally `revokes`).
 * @param meta optional `{ title, lines }`: the heading, and lines printed above the tables.
 */
export function soakMarkdown(results, meta = {}) {
  const phases = results.map((r) => r.phase);
  const lines = [];
  lines.push(`# ${meta.title ?? 'Chaos soak'}`, '');
  for (const line of meta.lines ?? []) lines.push(line);
  const first = results[0];
  lines.push(
    `Seed \`${first.seed}\` (replay: \`${replay(results)}\`). ` +
      `Access tokens live ${first.config.accessTokenTtlSec} s; core \`${JSON.stringify(first.config.core)}\`; ` +
      `${first.config.concurrency} requests in flight.`,
    '',
  );
  lines.push(
    table(
      [
        'phase',
        'seconds',
        'requests',
        'failed',
        'failure rate',
        'aborted by caller (excluded)',
        'met a fault: failed',
        'hung',
        'untyped',
        'unhandled rejections',
        'token calls (bound)',
        'refresh tokens reused',
        'added latency p50 / p99 (target p99)',
      ],
      results.map((r) => [
        PHASE_NAMES[r.phase] ?? r.phase,
        r.seconds,
        r.requests,
        r.failed,
        `**${percent(r.failureRate)}**`,
        r.aborted,
        `${r.latency.metFaultFailed} of ${r.latency.metFault} (${percent(r.latency.metFaultFailureRate)})`,
        r.hung.length,
        r.untypedCount,
        r.unhandled.length,
        `${r.tokenCalls.total} (≤ ${r.tokenCalls.bound})`,
        r.refreshTokensReused,
        `${r.latency.addedP50Ms ?? '–'} / ${r.latency.addedP99Ms ?? '–'} ms (≤ ${r.latency.targetP99Ms} ms)`,
      ]),
    ),
    '',
  );

  const codes = [...new Set(results.flatMap((r) => Object.keys(r.failuresByCode)))].sort();
  lines.push('## Failures by code', '');
  lines.push(
    codes.length
      ? table(
          ['code', ...phases],
          codes.map((code) => [`\`${code}\``, ...results.map((r) => r.failuresByCode[code] ?? 0)]),
        )
      : 'No request failed.',
    '',
  );

  lines.push('## Token-endpoint calls', '');
  const termNames = Object.keys(first.tokenCalls.terms);
  lines.push(
    table(
      ['', ...phases],
      [
        ['calls', ...results.map((r) => r.tokenCalls.total)],
        [
          'logins ok / rejected',
          ...results.map((r) => `${r.tokenCalls.logins.ok} / ${r.tokenCalls.logins.rejected}`),
        ],
        [
          'refreshes ok / rejected / reused',
          ...results.map(
            (r) =>
              `${r.tokenCalls.refreshes.ok} / ${r.tokenCalls.refreshes.rejected} / ${r.tokenCalls.refreshes.reused}`,
          ),
        ],
        ['injected failures served', ...results.map((r) => r.tokenCalls.injectedServed)],
        ['**bound**', ...results.map((r) => `**${r.tokenCalls.bound}**`)],
        ...termNames.map((term) => [`bound: ${term}`, ...results.map((r) => r.tokenCalls.terms[term])]),
      ],
    ),
    '',
    'Bound = logins (first + one per new solo instance + the pair) + 2 sessions × ⌈run ÷ (ttl/2)⌉ expiries',
    '+ 2 sessions × 2 per access-token revoke + 2 sessions × 2 per refresh-token revoke + injected faults ×',
    'attempts per fault (max(2, `retry.attempts`)) + 2 per instance restart + operator logins + 10.',
    '',
  );

  lines.push('## By adapter and by instance', '');
  const byRows = (pick, names) =>
    names.map((name) => [
      `\`${name}\``,
      ...results.map((r) => {
        const x = pick(r)[name];
        return `${x.requests} / ${x.failed} / ${x.aborted}`;
      }),
    ]);
  lines.push(
    table(
      ['requests / failed / aborted', ...phases],
      [...byRows((r) => r.byAdapter, ADAPTERS), ...byRows((r) => r.bySlot, ['solo', 'pairA', 'pairB'])],
    ),
    '',
    '`solo`: one `EkaAuth` behind all four adapters. `pairA`, `pairB`: two `EkaAuth` instances (each behind',
    'all four adapters) over one shared storage with a lock.',
    '',
  );

  lines.push('## Chaos', '');
  lines.push(
    table(
      ['', ...phases],
      [
        ['chaos actions', ...results.map((r) => r.chaos.actions)],
        ['access-token revokes', ...results.map((r) => r.chaos.revokes)],
        ['refresh-token revokes', ...results.map((r) => r.chaos.refreshRevokes)],
        ['token-call failures injected', ...results.map((r) => r.chaos.injected)],
        ['instance restarts', ...results.map((r) => r.chaos.churns)],
        ['operator login() after rejected credentials', ...results.map((r) => r.recoveries.logins)],
        [
          'failed token calls seen by the core',
          ...results.map((r) =>
            Object.entries(r.tokenCalls.failuresSeenByCore)
              .map(([k, n]) => `${k} ×${n}`)
              .join(', '),
          ),
        ],
      ],
    ),
    '',
  );
  return lines.join('\n');
}
