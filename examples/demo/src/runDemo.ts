import { type AuthState, createEkaAuth, type EkaAuth, isEkaAuthError } from '@eka/auth-core';
import { type EkaGateway, type GatewayStats, startEkaGateway } from '@eka/auth-testing';
import { ADAPTERS, type DemoAdapter, type DemoClient } from './adapters';
import { styler, table } from './output';

/** Options for {@link runDemo}. */
export interface DemoOptions {
  /** Where lines go. */
  write: (line: string) => void;
  /** ANSI colours (TTY). */
  color?: boolean;
  /** Redraws a progress line while bursts run (TTY only): receives the text, or '' to clear it. */
  progress?: (text: string) => void;
  /** Access-token lifetime at the emulator, in seconds. Default 4. */
  accessTokenTtlSec?: number;
  /** Adapters to drive. Default: all. */
  adapters?: readonly DemoAdapter[];
}

/** Per-adapter totals for the closing table. */
export interface AdapterSummary {
  adapter: string;
  requests: number;
  retried: number;
  logins: number;
  refreshes: number;
  failed: number;
  stepsPassed: number;
  stepsFailed: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Counters of the gateway, copied, so each adapter's share can be told apart. */
const counters = (stats: GatewayStats) => ({
  logins: stats.logins.ok,
  refreshes: stats.refreshes.ok,
  unauthorized: stats.apiCalls.unauthorized,
  reused: stats.refreshes.reused,
});

/** The demo's patience for the next token attempt during an outage (short, so the outage step is quick). */
const MAX_WAIT_MS = 600;

/**
 * The demo: one gateway emulator with short token lifetimes; each adapter in turn goes through login,
 * a concurrent burst, proactive refresh, a server-side revoke with concurrent 401s, a rejected
 * refresh token with fallback login, a single token-endpoint blip (invisible), and an outage with
 * back-off and recovery. Every step states
 * its expectation; the run is `ok` only if all hold.
 */
export async function runDemo(options: DemoOptions): Promise<{ ok: boolean; summaries: AdapterSummary[] }> {
  const s = styler(options.color ?? false);
  const out = options.write;
  const ttlSec = options.accessTokenTtlSec ?? 4;
  const gateway = await startEkaGateway({ accessTokenTtlSec: ttlSec });
  out(s.bold(`Eka gateway emulator on ${gateway.url} — access tokens live ${ttlSec} s`));
  const summaries: AdapterSummary[] = [];
  try {
    for (const adapter of options.adapters ?? ADAPTERS) {
      summaries.push(await driveAdapter(adapter, gateway, ttlSec, out, s, options.progress));
    }
  } finally {
    await gateway.close();
  }
  const total = counters(gateway.stats);
  out('');
  out(s.bold('Summary (per adapter; logins/refreshes/401s as counted by the gateway)'));
  out(
    table(
      ['adapter', 'requests', '401s retried', 'logins', 'refreshes', 'failed (expected)', 'steps'],
      summaries.map((r) => [
        r.adapter,
        r.requests,
        r.retried,
        r.logins,
        r.refreshes,
        r.failed,
        r.stepsFailed
          ? s.red(`${r.stepsPassed}/${r.stepsPassed + r.stepsFailed}`)
          : s.green(`${r.stepsPassed} ✓`),
      ]),
    ),
  );
  out(
    s.dim(
      `gateway totals: ${total.logins} logins, ${total.refreshes} refreshes, ${total.unauthorized} 401s served, ` +
        `${total.reused} reused refresh tokens, ${gateway.stats.tokenLeaks} leaked tokens, ` +
        `${gateway.stats.protocolViolations.length} protocol violations`,
    ),
  );
  const ok =
    summaries.every((r) => r.stepsFailed === 0) &&
    total.reused === 0 &&
    gateway.stats.tokenLeaks === 0 &&
    gateway.stats.protocolViolations.length === 0;
  out(ok ? s.green(s.bold('\nAll expectations held.')) : s.red(s.bold('\nSome expectations failed.')));
  return { ok, summaries };
}

async function driveAdapter(
  adapter: DemoAdapter,
  gateway: EkaGateway,
  ttlSec: number,
  out: (line: string) => void,
  s: ReturnType<typeof styler>,
  progress: (text: string) => void = () => {},
): Promise<AdapterSummary> {
  const start = counters(gateway.stats);
  const started = Date.now();
  const stamp = () => s.dim(`+${((Date.now() - started) / 1000).toFixed(2)}s`);
  const auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    header: 'both',
    backoff: { baseMs: 300, maxMs: 2_000 },
    // How long a request waits for the next attempt while the gateway is down (default 30 s).
    maxWaitMs: MAX_WAIT_MS,
    onEvent: () => {},
  });
  let previous: AuthState = auth.state;
  const unsubscribe = auth.subscribe(({ state, generation, error }) => {
    if (state === previous) return;
    const note =
      state !== 'valid'
        ? ''
        : error
          ? ` (kept token #${generation} after ${error.code})`
          : ` (token #${generation})`;
    out(`    ${stamp()} ${s.cyan(adapter.name)} ${previous} → ${s.bold(state)}${s.dim(note)}`);
    previous = state;
  });
  const client = adapter.create(auth);
  const summary: AdapterSummary = {
    adapter: adapter.name,
    requests: 0,
    retried: 0,
    logins: 0,
    refreshes: 0,
    failed: 0,
    stepsPassed: 0,
    stepsFailed: 0,
  };
  const echo = `${gateway.url}/api/echo`;
  const call = async () => {
    summary.requests++;
    try {
      return await client.get(echo);
    } catch (error) {
      summary.failed++;
      throw error;
    }
  };
  const burst = async (n: number) => {
    let done = 0;
    const tick = () => progress(`    ${s.dim(`burst: ${done}/${n} answered`)}`);
    tick();
    const responses = await Promise.all(
      Array.from({ length: n }, () =>
        call().finally(() => {
          done++;
          tick();
        }),
      ),
    );
    progress('');
    return responses;
  };
  const delta = () => {
    const now = counters(gateway.stats);
    return {
      logins: now.logins - start.logins,
      refreshes: now.refreshes - start.refreshes,
      unauthorized: now.unauthorized - start.unauthorized,
    };
  };
  const step = async (title: string, body: () => Promise<string>) => {
    out(`  ${s.bold('▸')} ${title}`);
    try {
      const result = await body();
      summary.stepsPassed++;
      out(`    ${stamp()} ${s.green('✓')} ${result}`);
    } catch (error) {
      summary.stepsFailed++;
      out(`    ${stamp()} ${s.red('✗')} ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const expect = (condition: boolean, message: string) => {
    if (!condition) throw new Error(message);
  };

  out('');
  out(s.bold(s.cyan(`● ${adapter.name}`)));
  let lastGeneration = 0;
  await step('login, then a burst of 20 concurrent calls', async () => {
    const responses = await burst(20);
    lastGeneration = responses[0]!.body.generation;
    expect(
      responses.every((r) => r.status === 200),
      'every call answers 200',
    );
    expect(delta().logins === 1, `one login for 20 concurrent calls (saw ${delta().logins})`);
    return `20 × 200, ${delta().logins} login`;
  });
  await step(
    'proactive refresh: a call inside the refresh window keeps the old token, refresh runs behind it',
    async () => {
      const before = auth.getSnapshot();
      await sleep(before.expiresAt! - Date.now() - ttlSec * 1000 * 0.12);
      const response = await call();
      expect(
        response.status === 200 && response.body.generation === lastGeneration,
        'served with the still-valid token',
      );
      await waitFor(() => auth.getSnapshot().generation > before.generation && auth.state === 'valid');
      expect(delta().refreshes === 1, `one background refresh (saw ${delta().refreshes})`);
      return `call used token #${before.generation}; background refresh → token #${auth.getSnapshot().generation}`;
    },
  );
  await step(
    'server-side revoke: 20 concurrent calls get 401 → one shared refresh, all retried',
    async () => {
      const refreshes = delta().refreshes;
      const unauthorized = delta().unauthorized;
      gateway.control.revokeAllAccessTokens();
      const responses = await burst(20);
      const served = delta().unauthorized - unauthorized;
      expect(
        responses.every((r) => r.status === 200),
        'every call ends 200 after its retry',
      );
      expect(
        delta().refreshes - refreshes === 1,
        `one refresh for ${served} 401s (saw ${delta().refreshes - refreshes})`,
      );
      return `${served} × 401 → 1 refresh → 20 × 200`;
    },
  );
  await step('refresh token rejected → one fallback login with the client credentials', async () => {
    const logins = delta().logins;
    gateway.control.revokeRefreshTokens();
    gateway.control.revokeAllAccessTokens();
    const response = await call();
    expect(response.status === 200, 'the call succeeds after the fallback login');
    expect(delta().logins - logins === 1, 'exactly one fallback login');
    return 'refresh rejected (401) → login → 200';
  });
  await step(
    'one 503 from the token endpoint: retried inside the refresh, the caller never sees it',
    async () => {
      gateway.control.revokeAllAccessTokens();
      gateway.control.failNext('refresh', 1, { status: 503 });
      const failures = gateway.stats.injectedFailures;
      const response = await call();
      expect(response.status === 200, 'the call succeeds');
      expect(gateway.stats.injectedFailures === failures + 1, 'the 503 was served');
      // The refresh token presented to the failed call is never presented again: the retry logs in.
      return '401 → refresh 503 → retried at once (login) → 200';
    },
  );
  await step(
    'gateway outage: requests wait out the back-off, then a typed transient error; recovery',
    async () => {
      gateway.control.revokeAllAccessTokens();
      gateway.control.failNext('refresh', 1, { status: 503 });
      gateway.control.failNext('login', 5, { status: 503 });
      const tokenCalls = gateway.stats.tokenEndpointCalls;
      let waitMs = 0;
      try {
        await call();
        throw new Error('expected the call to fail during the outage');
      } catch (error) {
        if (!isEkaAuthError(error, 'TRANSIENT'))
          throw new Error(`expected a TransientError, got ${String(error)}`);
        waitMs = Math.round(error.retryAfterMs ?? 0);
        out(`    ${stamp()} ${s.yellow('!')} ${error.name}: ${error.message} — next try in ${waitMs} ms`);
      }
      const spent = gateway.stats.tokenEndpointCalls - tokenCalls;
      expect(spent <= 6, `token calls on the back-off schedule (${spent}), not one per request`);
      // The gateway comes back once the injected failures are used up; a later call recovers.
      for (let tries = 1; ; tries++) {
        await sleep(waitMs + 20);
        try {
          expect((await call()).status === 200, 'the call after the back-off succeeds');
          break;
        } catch (error) {
          if (tries >= 3 || !isEkaAuthError(error, 'TRANSIENT')) throw error;
          waitMs = Math.round(error.retryAfterMs ?? 0);
        }
      }
      return `${spent} token calls while it waited ${MAX_WAIT_MS} ms at most; recovered after the back-off`;
    },
  );
  const d = delta();
  summary.logins = d.logins;
  summary.refreshes = d.refreshes;
  summary.retried = d.unauthorized;
  unsubscribe();
  client.dispose();
  auth.dispose();
  return summary;
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for the background refresh');
    await sleep(20);
  }
}

export type { DemoAdapter, DemoClient, EkaAuth };
