// What the chaos loop of the soak can do to the gateway and the clients, one action at a time.
//
// "Single-shot" actions inject at most ONE failed token call each (the next call passes), and the
// loop waits until the gateway has served it before the next action, so two faults never meet in
// one refresh. A rejected refresh (`revokeRefreshTokens`) counts as one such fault: the core's
// fallback login recovers from it. "Burst" actions add several consecutive failures, a 401 or Eka's
// bad-credentials answer on refresh, a failing fallback login, and rejected credentials (which need
// the app's `login()`: the soak's operator hook calls it), and two revokes 0–40 ms apart (the tokens
// the first one made the sessions fetch are revoked by the second).

/** The transient failures of one token call (none of them says the credentials are wrong). */
const TRANSIENT = [
  { status: 503 },
  { status: 429, retryAfterSec: 1 },
  { status: 502, body: '<html>Bad gateway</html>' },
  { status: 500, body: '' },
  'reset',
  'hang',
];

/** A short label of a failure, for the report. */
const label = (failure) => (typeof failure === 'string' ? failure : String(failure.status));

/**
 * Inject `failures` on `route`, optionally revoking access tokens right after (so the fault meets a
 * forced refresh, which requests must wait for), then wait until the gateway served them all.
 */
async function inject(ctx, route, failures, { revoke = false } = {}) {
  for (const failure of failures) {
    ctx.control.failNext(route, 1, failure);
    ctx.note(`${route}:${label(failure)}`);
  }
  ctx.counts.injected += failures.length;
  if (revoke) revokeAccess(ctx);
  await ctx.untilServed();
}

function revokeAccess(ctx) {
  ctx.control.revokeAllAccessTokens();
  ctx.counts.revokes++;
  ctx.note('revoke-access');
}

/** Every refresh token is rejected once; wait until each live session has met it (or a lifetime). */
async function revokeRefresh(ctx) {
  ctx.control.revokeRefreshTokens();
  ctx.counts.refreshRevokes++;
  ctx.note('revoke-refresh');
  const target = ctx.stats.refreshes.rejected + ctx.liveSessions;
  await ctx.until(() => ctx.stats.refreshes.rejected >= target);
}

const transient = (ctx) => ctx.random.pick(TRANSIENT);
const transients = (ctx, count) => Array.from({ length: count }, () => transient(ctx));

/** Replace one instance (a process restart): a new solo instance logs in, a pair member reads storage. */
function churn(ctx, slot = ctx.random.pick(['solo', 'pairA', 'pairB'])) {
  ctx.replace(slot);
  ctx.counts.churns++;
  if (slot === 'solo') ctx.counts.soloStarts++;
  ctx.note(`churn:${slot}`);
}

/** Token-endpoint latency changes (not a fault): refreshes in flight for longer, more 401s meet them. */
function latency(ctx) {
  const route = ctx.random.pick(['refresh', 'login']);
  ctx.control.setLatency(route, ctx.random.int(0, 150));
  ctx.note(`latency:${route}`);
}

const SINGLE_SHOT = [
  [20, revokeAccess],
  [22, (ctx) => inject(ctx, 'refresh', [transient(ctx)])],
  [22, (ctx) => inject(ctx, 'refresh', [transient(ctx)], { revoke: true })],
  [
    10,
    async (ctx) => {
      ctx.control.failNext('login', 1, transient(ctx));
      ctx.counts.injected++;
      ctx.note('login:1');
      churn(ctx, 'solo');
      await ctx.untilServed();
    },
  ],
  [8, revokeRefresh],
  [8, (ctx) => churn(ctx)],
  [10, latency],
];

/** Revoke twice, 0–40 ms apart: the tokens issued by the refreshes the first revoke caused die at once. */
async function revokeTwice(ctx) {
  revokeAccess(ctx);
  await new Promise((resolve) => setTimeout(resolve, ctx.random.int(0, 40)));
  revokeAccess(ctx);
}

const BURST = [
  [10, revokeAccess],
  [5, revokeTwice],
  [
    16,
    (ctx) =>
      inject(ctx, 'refresh', transients(ctx, ctx.random.int(2, 5)), { revoke: ctx.random.chance(0.5) }),
  ],
  [
    8,
    async (ctx) => {
      const failures = transients(ctx, ctx.random.int(2, 4));
      for (const failure of failures) ctx.control.failNext('login', 1, failure);
      ctx.counts.injected += failures.length;
      ctx.note(`login-burst:${failures.length}`);
      churn(ctx, 'solo');
      await ctx.untilServed();
    },
  ],
  [12, (ctx) => inject(ctx, 'refresh', [{ status: 401 }], { revoke: ctx.random.chance(0.5) })],
  [8, (ctx) => inject(ctx, 'refresh', ['bad-credentials'], { revoke: ctx.random.chance(0.5) })],
  [
    10,
    async (ctx) => {
      ctx.control.failNext('login', 1, transient(ctx));
      ctx.counts.injected++;
      await revokeRefresh(ctx);
      await ctx.untilServed();
    },
  ],
  [
    4,
    async (ctx) => {
      ctx.control.failNext('login', 1, 'bad-credentials');
      ctx.counts.injected++;
      await revokeRefresh(ctx);
      await ctx.untilServed();
    },
  ],
  [10, (ctx) => inject(ctx, 'refresh', ['hang', 'hang'], { revoke: ctx.random.chance(0.5) })],
  [6, (ctx) => churn(ctx)],
  [6, latency],
];

/** Only double revokes (a stress test of the 401 path, not of the token endpoint). */
const REVOKES = [[1, revokeTwice]];

/**
 * The weighted chaos actions of a phase: `'single'` (single-shot faults), `'burst'`, or `'revokes'`
 * (nothing but two revokes 0–40 ms apart, again and again; reported, never asserted). Each action
 * is `(ctx) => void | Promise<void>` with `ctx = { control, stats, random, counts, liveSessions,
 * replace(slot), until(predicate), untilServed(), note(label) }`.
 */
export function chaosActions(phase) {
  if (phase === 'single') return SINGLE_SHOT;
  if (phase === 'burst') return BURST;
  if (phase === 'revokes') return REVOKES;
  throw new Error(`unknown soak phase ${phase}`);
}
