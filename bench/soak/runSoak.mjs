// The chaos soak (issue #12): the four adapters on one `EkaAuth` ("solo"), and two more `EkaAuth`
// instances ("pairA", "pairB") over one shared storage with a lock, all under closed-loop load
// against the gateway emulator, while a seeded chaos loop revokes tokens, fails token calls, hangs
// them, slows them and restarts instances, and callers abort requests or give them short timeouts.
//
// Counted: requests and how each ended (ok / failed by code / aborted by its caller / untyped error /
// hung past its deadline), unhandled rejections, token-endpoint calls against a bound derived from
// what the chaos did, refresh tokens presented twice (the gateway's `refreshes.reused`), and the
// latency that faults added to the requests that met one.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEkaAuth } from '@eka/auth-core';
import { startEkaGateway } from '@eka/auth-testing';
import { chaosActions } from './chaosActions.mjs';
import { classifyFailure } from './classifyFailure.mjs';
import { ADAPTERS, createAdapterClients } from './createAdapterClients.mjs';
import { LockingMemoryStorage } from './LockingMemoryStorage.mjs';
import { deriveSeed, mulberry32, randomTools } from './mulberry32.mjs';

/**
 * Defaults of {@link runSoak}. Durations in ms unless the name says otherwise.
 *
 * `core` is passed to every `createEkaAuth` (plus credentials, base URL, storage, seeded `random`).
 * `retry.attempts` (total attempts of one token call inside a flight, when the core supports it) is
 * also what the token-call bound allows per injected fault.
 */
export const SOAK_DEFAULTS = Object.freeze({
  /** The adapters to send through (all four by default). */
  adapters: ADAPTERS,
  /** Seconds of load and chaos (the drain comes on top). */
  seconds: 20,
  /** `'single'` (single-shot faults; the ≤ 1 % phase), `'burst'` or `'revokes'` (see `chaosActions`). */
  phase: 'single',
  /** Requests in flight at once (closed loop). */
  concurrency: 8,
  /** Pause of a worker between two requests: uniform in [0, thinkMaxMs]. */
  thinkMaxMs: 20,
  /** Access token lifetime at the gateway (seconds): refreshes every ~2.4 s per session. */
  accessTokenTtlSec: 3,
  /** Pause between two chaos actions: uniform in this range. */
  chaosGapMs: [250, 1000],
  /** Share of requests that POST a JSON body to `/api/echo` (replayed byte-identical after a 401). */
  postShare: 0.15,
  /** Share of GET requests to `/api/slow` (10–200 ms answers), so 401s arrive spread out. */
  slowShare: 0.1,
  /** Share of requests whose caller aborts them (an AbortController). */
  abortShare: 0.08,
  /** Share of requests with their own timeout (axios `timeout`, got `timeout.request`, `AbortSignal.timeout`). */
  timeoutShare: 0.12,
  /** The caller aborts after uniform [0, abortMaxMs] ms. */
  abortMaxMs: 400,
  /** Own timeouts are uniform in this range. */
  ownTimeoutMs: [400, 4000],
  /** A request with no timeout and no abort is hung when it has not settled this long after its start. */
  patienceMs: 30_000,
  /** A request that still succeeds this long after its caller aborted it ignored the abort. */
  abortLandMs: 1_000,
  /** Added to every deadline (own timeout, abort) before a request counts as hung. */
  marginMs: 5_000,
  /** Failed requests kept per failure code in `failureSamples` (with timings, to read next to `chaos.log`). */
  samplesPerCode: 5,
  /**
   * Run the garbage collector this often (0: never). An abort or a timeout must still land when the
   * objects between it and the request (derived signals, Requests) are held by nobody but the runtime.
   */
  gcEveryMs: 1_000,
  /** Options of every `createEkaAuth` (short timeout and back-off, so faults cost seconds, not minutes). */
  core: Object.freeze({
    timeoutMs: 1_000,
    backoff: Object.freeze({ baseMs: 250, maxMs: 4_000 }),
    // In-flight retry of a transient token-call failure, and how long requests wait for a token
    // (a core without these options ignores them).
    retry: Object.freeze({ attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 }),
    maxWaitMs: 10_000,
  }),
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `q` quantile of a sorted list (nearest rank). */
const quantileSorted = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : Number.NaN;
const round = (ms) => Math.round(ms);
/** True when `/api/echo`'s answer shows `body` arrived as JSON, byte for byte. */
const echoedBody = (echo, body) =>
  echo?.bodyText === JSON.stringify(body) && String(echo?.contentType).startsWith('application/json');
const describeReason = (reason) =>
  `${reason?.name ?? typeof reason}: ${String(reason?.message ?? reason).slice(0, 200)}` +
  (process.env.SOAK_DEBUG ? `\n${reason?.stack}` : '');

/**
 * Run one soak phase and return what it counted (a plain JSON-able object; see the README, "Chaos soak").
 *
 * @param options overrides of {@link SOAK_DEFAULTS}, plus `seed` (32-bit integer; default random)
 *   `onProgress(line)` for a status line every few seconds, and `actions` to replace the phase's chaos
 *   actions (a weighted list like `chaosActions()` returns; for experiments).
 */
export async function runSoak(options = {}) {
  const config = {
    ...SOAK_DEFAULTS,
    ...options,
    core: { ...SOAK_DEFAULTS.core, ...options.core },
    seed: (options.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0,
  };
  const { seed, phase } = config;
  const chaosRandom = randomTools(mulberry32(deriveSeed(seed, `${phase}:chaos`)));
  const pickRandom = randomTools(mulberry32(deriveSeed(seed, `${phase}:pick`)));
  const storageRandom = randomTools(mulberry32(deriveSeed(seed, `${phase}:storage`)));

  let collector;
  if (config.gcEveryMs > 0) {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    collector = setInterval(() => gc(), config.gcEveryMs);
  }

  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(describeReason(reason));
  process.on('unhandledRejection', onUnhandled);

  const gateway = await startEkaGateway({ accessTokenTtlSec: config.accessTokenTtlSec });
  const { stats, control } = gateway;
  const { clientId, clientSecret } = gateway.credentials;
  const t0 = performance.now();
  const now = () => performance.now() - t0;

  // ---- the instances -----------------------------------------------------------------------------
  const shared = new LockingMemoryStorage({ delayMs: () => storageRandom.int(0, 2) });
  // { client, start, end }: from a failed token call of that instance to the next token it adopts.
  const windows = [];
  const tokenFailures = {}; // `${kind}:${status ?? code}` of failed token calls → count
  const warnings = {};
  const recoveries = { logins: 0, failed: 0 };
  const everyClient = [];
  let incarnation = 0;
  let stopping = false;

  const onAuthEvent = (client, event) => {
    if (event.type === 'request' && !event.ok) {
      const key = `${event.kind}:${event.status ?? event.code ?? 'network/timeout'}`;
      tokenFailures[key] = (tokenFailures[key] ?? 0) + 1;
      const start = now() - event.durationMs;
      windows.push({ client: client.name, start, end: undefined });
      // A pair member in a flight of its own is waiting for this call too (behind the shared lock).
      const sibling =
        client.slot === 'pairA' ? slots.pairB : client.slot === 'pairB' ? slots.pairA : undefined;
      if (sibling && sibling.auth.state === 'refreshing') {
        windows.push({ client: sibling.name, start, end: undefined });
      }
    } else if (event.type === 'token') {
      for (const w of windows) if (w.client === client.name && w.end === undefined) w.end = now();
    } else if (event.type === 'warning') {
      warnings[event.message] = (warnings[event.message] ?? 0) + 1;
    } else if (event.type === 'failure' && event.error.code === 'CREDENTIALS_REJECTED') {
      // The app's operator: rejected credentials stay `failed` until login() (DESIGN.md), so log in again.
      setTimeout(() => {
        if (client.disposed) return;
        recoveries.logins++;
        client.auth.login().catch(() => recoveries.failed++);
      }, 300);
    }
  };

  const makeClient = (slot) => {
    const client = {
      name: `${slot}#${++incarnation}`,
      slot,
      inflight: 0,
      retired: false,
      disposed: false,
    };
    client.auth = createEkaAuth({
      ...config.core,
      clientId,
      clientSecret,
      baseUrl: gateway.url,
      ...(slot !== 'solo' && { storage: shared }),
      random: mulberry32(deriveSeed(seed, `${phase}:${client.name}`)),
      onEvent: (event) => onAuthEvent(client, event),
    });
    client.adapters = createAdapterClients(client.auth, gateway.url);
    everyClient.push(client);
    return client;
  };
  const dispose = (client) => {
    if (client.disposed) return;
    client.disposed = true;
    client.auth.dispose();
    client.adapters.close();
  };
  const slots = { solo: makeClient('solo'), pairA: makeClient('pairA'), pairB: makeClient('pairB') };
  /** Retire the instance in `slot` (disposed once its requests settled) and start a new one. */
  const replace = (slot) => {
    const old = slots[slot];
    old.retired = true;
    slots[slot] = makeClient(slot);
    if (old.inflight === 0) dispose(old);
  };

  // ---- requests ----------------------------------------------------------------------------------
  const pending = new Set();
  const done = []; // settled records
  const hung = [];
  const ignoredAborts = [];
  let requestCount = 0;

  /** The plan of request `n`: a function of (seed, phase, n) alone, whichever worker sends it. */
  const planFor = (n) => {
    const r = randomTools(mulberry32(deriveSeed(seed, `${phase}:request:${n}`)));
    const post = r.chance(config.postShare);
    const slowMs = !post && r.chance(config.slowShare) ? r.int(10, 200) : 0;
    const plan = {
      method: post ? 'POST' : 'GET',
      pathname: slowMs ? '/api/slow' : '/api/echo',
      query: slowMs ? { ms: String(slowMs) } : { n: String(n) },
      body: post ? { n, note: 'soak' } : undefined,
      slowMs,
    };
    if (r.chance(config.abortShare)) plan.abortAfterMs = r.int(0, config.abortMaxMs);
    if (r.chance(config.timeoutShare)) plan.timeoutMs = r.int(...config.ownTimeoutMs);
    return plan;
  };

  const deadlineOf = (adapter, plan) => {
    // got's `timeout.request` bounds each wait for a token and each attempt separately (its README):
    // up to 4 of them for one request. The others cover waits and the re-send with one budget.
    let limit = config.patienceMs;
    if (plan.timeoutMs) limit = Math.min(limit, plan.timeoutMs * (adapter === 'got' ? 4 : 1));
    if (plan.abortAfterMs !== undefined) limit = Math.min(limit, plan.abortAfterMs);
    return limit + config.marginMs + plan.slowMs;
  };

  const send = async (client, adapter, plan) => {
    const record = { n: requestCount++, adapter, slot: client.slot, client: client.name, plan };
    record.start = now();
    record.deadline = record.start + deadlineOf(adapter, plan);
    pending.add(record);
    client.inflight++;
    let controller;
    let timer;
    if (plan.abortAfterMs !== undefined) {
      controller = new AbortController();
      timer = setTimeout(() => {
        record.abortFired = true;
        record.abortedAt = now();
        controller.abort();
      }, plan.abortAfterMs);
    }
    try {
      const { status, data } = await client.adapters.send[adapter]({ ...plan, signal: controller?.signal });
      record.end = now();
      record.result =
        status >= 200 && status < 300 ? { kind: 'ok' } : { kind: 'failed', code: `HTTP_${status}` };
      if (record.abortedAt !== undefined && record.end - record.abortedAt > config.abortLandMs) {
        ignoredAborts.push({
          adapter,
          client: client.name,
          n: record.n,
          lateMs: round(record.end - record.abortedAt),
        });
      }
      // A JSON body must reach the API byte-identical, with its content type, even when re-sent after a 401.
      if (record.result.kind === 'ok' && plan.body && !echoedBody(data, plan.body)) {
        record.result = { kind: 'failed', code: 'BODY_MISMATCH' };
      }
    } catch (error) {
      record.end = now();
      const ownTimeoutRanOut =
        plan.timeoutMs !== undefined && record.end - record.start >= plan.timeoutMs - 50;
      record.result = classifyFailure(error, !!record.abortFired || ownTimeoutRanOut);
    } finally {
      clearTimeout(timer);
      pending.delete(record);
      if (!record.hung) done.push(record);
      client.inflight--;
      if (client.retired && client.inflight === 0) dispose(client);
    }
  };

  const worker = async () => {
    while (!stopping) {
      const client = pickRandom.pick([slots.solo, slots.pairA, slots.pairB]);
      const adapter = pickRandom.pick(config.adapters);
      await send(client, adapter, planFor(requestCount));
      await sleep(pickRandom.int(0, config.thinkMaxMs));
    }
  };

  const watchdog = setInterval(() => {
    const at = now();
    for (const record of pending) {
      if (!record.hung && at > record.deadline) {
        record.hung = true;
        hung.push({
          n: record.n,
          adapter: record.adapter,
          client: record.client,
          startedAtMs: round(record.start),
          plan: { ...record.plan, body: undefined },
        });
      }
    }
  }, 200);

  // ---- chaos -------------------------------------------------------------------------------------
  const counts = { revokes: 0, refreshRevokes: 0, injected: 0, churns: 0, soloStarts: 0, actions: 0 };
  const notes = {};
  const chaosLog = []; // { atMs, label }: what the chaos did when, to read next to failure samples
  const until = async (predicate, timeoutMs = config.accessTokenTtlSec * 3_000) => {
    const end = now() + timeoutMs;
    while (!predicate() && now() < end && !stopping) await sleep(20);
  };
  const ctx = {
    control,
    stats,
    random: chaosRandom,
    counts,
    liveSessions: 2,
    replace,
    until,
    untilServed: () => until(() => stats.injectedFailures >= counts.injected),
    note: (label) => {
      notes[label] = (notes[label] ?? 0) + 1;
      if (chaosLog.length < 5_000) chaosLog.push({ atMs: round(now()), label });
    },
  };
  const actions = options.actions ?? chaosActions(phase);
  const chaos = async () => {
    await sleep(500); // first logins before the first fault
    while (!stopping) {
      await sleep(chaosRandom.int(...config.chaosGapMs));
      if (stopping) break;
      counts.actions++;
      await chaosRandom.weighted(actions)(ctx);
    }
  };

  // ---- run, drain, tear down -------------------------------------------------------------------------
  const progress = options.onProgress
    ? setInterval(() => {
        const failed = done.filter((r) => r.result.kind !== 'ok' && r.result.kind !== 'aborted').length;
        options.onProgress(
          `[soak ${phase}] ${Math.round(now() / 1000)} s: ${done.length} settled, ${failed} failed, ` +
            `${pending.size} in flight, ${stats.tokenEndpointCalls} token calls`,
        );
      }, 5_000)
    : undefined;
  const workers = Array.from({ length: config.concurrency }, worker);
  let loadEndMs;
  let drainMs;
  let elapsedMs;
  let gatewayStats;
  try {
    const chaosDone = chaos();
    await sleep(config.seconds * 1000);
    stopping = true;
    loadEndMs = now();
    await chaosDone;
    // Drain: every request settles, or is past its deadline (hung).
    while ([...pending].some((record) => !record.hung)) await sleep(50);
    drainMs = now() - loadEndMs;
    elapsedMs = now();
    gatewayStats = structuredClone(stats);
  } finally {
    stopping = true;
    clearInterval(watchdog);
    clearInterval(progress);
    clearInterval(collector);
    for (const client of everyClient) dispose(client);
    await gateway.close();
    // Hung requests (if any) settle now that the sockets are gone; their workers end with them.
    await Promise.race([Promise.allSettled(workers), sleep(2_000)]);
    await sleep(100); // late rejections of the teardown are still counted
    process.off('unhandledRejection', onUnhandled);
  }
  for (const w of windows) w.end ??= elapsedMs;

  return summarise({
    config,
    done,
    hung,
    ignoredAborts,
    unhandled,
    windows,
    gatewayStats,
    counts,
    notes,
    chaosLog,
    tokenFailures,
    warnings,
    recoveries,
    storage: shared.stats,
    loadMs: loadEndMs,
    drainMs,
    elapsedMs,
  });
}

/** Turn the raw records into the result: outcomes, token-call bound, added latency. */
function summarise(raw) {
  const { config, done, gatewayStats: g, counts } = raw;
  const byCode = {};
  const tally = () => ({ requests: 0, failed: 0, aborted: 0 });
  const byAdapter = Object.fromEntries(ADAPTERS.map((a) => [a, tally()]));
  const bySlot = { solo: tally(), pairA: tally(), pairB: tally() };
  const untyped = [];
  const samples = {}; // code → the first few failed requests
  let ok = 0;
  let failed = 0;
  let aborted = 0;
  for (const record of done) {
    const { kind, code } = record.result;
    const rows = [byAdapter[record.adapter], bySlot[record.slot]];
    for (const row of rows) row.requests++;
    if (kind === 'ok') ok++;
    else if (kind === 'aborted') {
      aborted++;
      for (const row of rows) row.aborted++;
    } else {
      failed++;
      for (const row of rows) row.failed++;
      byCode[code] = (byCode[code] ?? 0) + 1;
      samples[code] ??= [];
      if (samples[code].length < config.samplesPerCode) {
        samples[code].push({
          n: record.n,
          adapter: record.adapter,
          client: record.client,
          startMs: round(record.start),
          endMs: round(record.end),
        });
      }
      if (kind === 'untyped' && untyped.length < 10)
        untyped.push({ adapter: record.adapter, code, detail: record.result.detail });
    }
  }
  const untypedCount = done.filter((r) => r.result.kind === 'untyped').length;
  const counted = ok + failed;

  // Token calls: what the run needed, plus what its chaos may add. Sessions: "solo" and "shared".
  const ttlMs = config.accessTokenTtlSec * 1000;
  const sessions = 2;
  const attemptsPerFault = Math.max(2, config.core.retry?.attempts ?? 0);
  const terms = {
    logins: 1 + counts.soloStarts + 1,
    expiries: sessions * Math.ceil(raw.elapsedMs / (0.5 * ttlMs)),
    revokes: counts.revokes * sessions * 2,
    refreshRevokes: counts.refreshRevokes * sessions * 2,
    faults: counts.injected * attemptsPerFault,
    churns: counts.churns * 2,
    recoveries: raw.recoveries.logins,
    slack: 10,
  };
  const bound = Object.values(terms).reduce((sum, n) => sum + n, 0);

  // Added latency: requests that succeeded while a failed token call (and the wait for the next
  // token) was under way in their session, against the median of requests that met no fault.
  const byClient = new Map();
  for (const w of raw.windows) {
    if (!byClient.has(w.client)) byClient.set(w.client, []);
    byClient.get(w.client).push(w);
  }
  const metFault = (r) => (byClient.get(r.client) ?? []).some((w) => r.start < w.end && r.end > w.start);
  const clean = [];
  const met = [];
  let metFailed = 0;
  for (const record of done) {
    const hit = metFault(record);
    if (record.result.kind === 'ok') (hit ? met : clean).push(record.end - record.start - record.plan.slowMs);
    else if (hit && record.result.kind !== 'aborted') metFailed++;
  }
  clean.sort((a, b) => a - b);
  const baselineMs = quantileSorted(clean, 0.5);
  const added = met.map((ms) => Math.max(0, ms - baselineMs)).sort((a, b) => a - b);

  return {
    seed: config.seed,
    phase: config.phase,
    seconds: config.seconds,
    config: { ...config, onProgress: undefined },
    requests: done.length + raw.hung.length,
    ok,
    failed,
    aborted,
    failureRate: counted ? failed / counted : 0,
    failuresByCode: byCode,
    failureSamples: samples,
    byAdapter,
    bySlot,
    hung: raw.hung,
    ignoredAborts: raw.ignoredAborts,
    untypedCount,
    untyped,
    unhandled: raw.unhandled,
    tokenCalls: {
      total: g.tokenEndpointCalls,
      bound,
      terms,
      logins: g.logins,
      refreshes: g.refreshes,
      injectedServed: g.injectedFailures,
      failuresSeenByCore: raw.tokenFailures,
    },
    refreshTokensReused: g.refreshes.reused,
    protocolViolations: g.protocolViolations.length,
    latency: {
      baselineMs: round(baselineMs),
      metFault: met.length + metFailed,
      metFaultFailed: metFailed,
      metFaultFailureRate: met.length + metFailed ? metFailed / (met.length + metFailed) : 0,
      addedP50Ms: added.length ? round(quantileSorted(added, 0.5)) : null,
      addedP99Ms: added.length ? round(quantileSorted(added, 0.99)) : null,
      targetP99Ms: config.core.timeoutMs + config.core.backoff.baseMs,
    },
    chaos: {
      ...counts,
      byLabel: raw.notes,
      log: raw.chaosLog,
      tokenEndpointFaultWindows: raw.windows.length,
    },
    warnings: raw.warnings,
    recoveries: raw.recoveries,
    storage: raw.storage,
    timing: { loadMs: round(raw.loadMs), drainMs: round(raw.drainMs), elapsedMs: round(raw.elapsedMs) },
  };
}
