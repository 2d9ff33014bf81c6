import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  type AuthDecision,
  type AuthState,
  createEkaAuth,
  type EkaAuthEvent,
  isEkaAuthError,
  LOGIN_PATH,
  REFRESH_PATH,
} from '../src/index';
import { fakeEka, flush, manualClock, SECRET } from './fakeEka';

const URL_ = 'https://api.eka.care/records/v1/x';

function setup(extra: Record<string, unknown> = {}, ekaOptions: Parameters<typeof fakeEka>[0] = {}) {
  const clock = manualClock();
  const eka = fakeEka(ekaOptions);
  const events: EkaAuthEvent[] = [];
  const auth = createEkaAuth({
    clientId: 'cid',
    clientSecret: SECRET,
    fetch: eka.fetch,
    clock: clock.clock,
    random: () => 0.5,
    header: 'authorization',
    onEvent: (e: EkaAuthEvent) => events.push(e),
    ...extra,
  } as any);
  const states: AuthState[] = [];
  auth.subscribe((s) => {
    if (states.at(-1) !== s.state) states.push(s.state);
  });
  return { auth, eka, clock, events, states };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createEkaAuth: single flight', () => {
  it('many concurrent requests with no token → exactly one login, all carry the new token', async () => {
    const { auth, eka } = setup();
    const decisions = await Promise.all(Array.from({ length: 100 }, () => auth.authorize(URL_)));
    expect(eka.stats.logins).toBe(1);
    for (const d of decisions)
      expect(d.headers).toEqual({ authorization: 'Bearer at-1', 'client-id': 'cid' });
  });

  it('many concurrent requests with an expired token → exactly one refresh', async () => {
    const { auth, eka, clock } = setup();
    await auth.authorize(URL_);
    clock.advance(1800_000 + 1);
    const decisions = await Promise.all(Array.from({ length: 50 }, () => auth.authorize(URL_)));
    expect(eka.stats.refreshes).toBe(1);
    expect(new Set(decisions.map((d) => d.headers?.authorization))).toEqual(new Set(['Bearer at-2']));
  });

  it('concurrent 401s before, during and after the refresh → one refresh, every request retried', async () => {
    const { auth, eka } = setup();
    const old = await auth.authorize(URL_);
    const gate = eka.gate('refresh');
    const before = auth.handleUnauthorized(old);
    const during = Array.from({ length: 20 }, () => auth.handleUnauthorized(old));
    await flush();
    gate.release();
    const outcomes = await Promise.all([before, ...during]);
    const after = await Promise.all(Array.from({ length: 20 }, () => auth.handleUnauthorized(old)));
    expect(eka.stats.refreshes).toBe(1);
    for (const o of [...outcomes, ...after]) {
      expect(o.action).toBe('retry');
      if (o.action === 'retry') expect(o.decision.headers?.authorization).toBe('Bearer at-2');
    }
  });

  it('straggler: a 401 for generation n while n+1 is held → no refresh, retry with n+1', async () => {
    const { auth, eka } = setup();
    const first = await auth.authorize(URL_);
    await auth.handleUnauthorized(first);
    expect(auth.getSnapshot().generation).toBe(2);
    const refreshes = eka.stats.refreshes;
    const outcome = await auth.handleUnauthorized(first);
    expect(eka.stats.refreshes).toBe(refreshes);
    // Not final: n+1 may have been revoked since (its 401 may still force one refresh, once).
    expect(outcome).toMatchObject({ action: 'retry', decision: { generation: 2, retry: false } });
    if (outcome.action !== 'retry') return;
    const second = await auth.handleUnauthorized(outcome.decision);
    expect(second).toMatchObject({ action: 'retry', decision: { generation: 3, retry: true } });
    expect(eka.stats.refreshes).toBe(refreshes + 1);
  });

  it('a straggler whose current token was revoked too still succeeds (one refresh, at most two retries)', async () => {
    const { auth, eka } = setup();
    const old = await auth.authorize(URL_);
    await auth.handleUnauthorized(old); // generation 2 now
    // The server revokes generation 2 as well; the straggler's retry with it gets a 401.
    const first = await auth.handleUnauthorized(old);
    if (first.action !== 'retry') throw new Error('expected a retry');
    const second = await auth.handleUnauthorized(first.decision);
    if (second.action !== 'retry') throw new Error('expected a second, final retry');
    expect(second.decision.retry).toBe(true);
    expect(await auth.handleUnauthorized(second.decision)).toMatchObject({
      action: 'fail',
      error: { code: 'UNAUTHORIZED' },
    });
    expect(eka.stats.refreshes).toBe(2);
  });

  it('a 401 that joins a background refresh started before it may force one more refresh', async () => {
    const { auth, eka, clock } = setup();
    const old = await auth.authorize(URL_);
    clock.advance(1800_000 - 200_000); // inside the refresh window
    const gate = eka.gate('refresh');
    await auth.authorize(URL_); // starts the background refresh
    const outcome = await Promise.all([
      auth.handleUnauthorized(old),
      flush().then(() => gate.release()),
    ]).then(([o]) => o);
    // The background result (issued before the revocation) is retried, but not as the final attempt…
    expect(outcome).toMatchObject({ action: 'retry', decision: { generation: 2, retry: false } });
    if (outcome.action !== 'retry') return;
    // …so its 401 forces one fresh refresh, whose retry is final.
    const second = await auth.handleUnauthorized(outcome.decision);
    expect(second).toMatchObject({ action: 'retry', decision: { generation: 3, retry: true } });
    expect(eka.stats.refreshes).toBe(2);
  });

  it('two adapters sharing one EkaAuth share one refresh', async () => {
    const { auth, eka } = setup();
    const a = await auth.authorize(URL_);
    const b = await auth.authorize(URL_);
    await Promise.all([auth.handleUnauthorized(a), auth.handleUnauthorized(b)]);
    expect(eka.stats.refreshes).toBe(1);
  });

  it('two instances never share tokens (no module state)', async () => {
    const one = setup();
    const two = setup({ clientId: 'other' });
    const [d1, d2] = await Promise.all([one.auth.authorize(URL_), two.auth.authorize(URL_)]);
    expect(d1.headers?.['client-id']).toBe('cid');
    expect(d2.headers?.['client-id']).toBe('other');
    expect(one.eka.stats.logins).toBe(1);
    expect(two.eka.stats.logins).toBe(1);
  });
});

describe('createEkaAuth: windows', () => {
  it('inside the should-refresh window: background refresh, requests keep the still-valid token', async () => {
    const { auth, eka, clock } = setup();
    await auth.authorize(URL_);
    clock.advance(1800_000 - 200_000); // 200 s before expiry: inside the 300 s window (jitter 0.5 → 262.5 s)
    const d = await auth.authorize(URL_);
    expect(d.headers?.authorization).toBe('Bearer at-1');
    expect(auth.state).toBe('refreshing');
    await flush();
    expect(eka.stats.refreshes).toBe(1);
    expect(auth.state).toBe('valid');
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-2');
  });

  it('before the window: no refresh at all', async () => {
    const { auth, eka, clock } = setup();
    await auth.authorize(URL_);
    clock.advance(1800_000 - 300_000);
    await auth.authorize(URL_);
    await flush();
    expect(eka.stats.refreshes).toBe(0);
  });

  it('inside the must-refresh window: requests wait for the new token', async () => {
    const { auth, eka, clock } = setup();
    await auth.authorize(URL_);
    clock.advance(1800_000 - 10_000);
    const d = await auth.authorize(URL_);
    expect(d.headers?.authorization).toBe('Bearer at-2');
    expect(eka.stats.refreshes).toBe(1);
  });

  it('scales the windows to a short lifetime and jitters the start', async () => {
    const early = setup({ random: () => 0 }, { expiresIn: 10 });
    await early.auth.authorize(URL_);
    early.clock.advance(8_100); // window = 20% of 10 s = 2 s; jitter 0 → starts at 8 s
    await early.auth.authorize(URL_);
    await flush();
    expect(early.eka.stats.refreshes).toBe(1);

    const late = setup({ random: () => 0.99 }, { expiresIn: 10 });
    await late.auth.authorize(URL_);
    late.clock.advance(8_100); // jitter 0.99 → starts at ~8.5 s
    await late.auth.authorize(URL_);
    await flush();
    expect(late.eka.stats.refreshes).toBe(0);
  });

  it('a lifetime shorter than the configured windows causes no refresh storm', async () => {
    const { auth, eka, clock } = setup({}, { expiresIn: 2 });
    for (let i = 0; i < 200; i++) {
      await auth.authorize(URL_);
      await flush();
      clock.advance(10); // 2 s of traffic, one request every 10 ms
    }
    // 2 s lifetime → at most about one refresh per ~1.6 s of traffic.
    expect(eka.stats.logins + eka.stats.refreshes).toBeLessThanOrEqual(3);
  });

  it('a forced refresh (401) bypasses the clock', async () => {
    const { auth, eka } = setup();
    const d = await auth.authorize(URL_);
    const outcome = await auth.handleUnauthorized(d);
    expect(outcome.action).toBe('retry');
    expect(eka.stats.refreshes).toBe(1);
  });

  it('opaque tokens work from expires_in alone', async () => {
    const { auth, eka, clock } = setup();
    await auth.authorize(URL_);
    clock.advance(1800_001);
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-2');
    expect(eka.stats.refreshes).toBe(1);
  });
});

describe('createEkaAuth: failures', () => {
  it('refresh rejected → one fallback login with the credentials', async () => {
    const { auth, eka, events } = setup();
    const d = await auth.authorize(URL_);
    eka.next('refresh', { status: 400, body: { code: 400, error: 'invalid refresh token' } });
    const outcome = await auth.handleUnauthorized(d);
    expect(outcome.action).toBe('retry');
    expect(eka.stats.logins).toBe(2);
    expect(eka.stats.refreshes).toBe(1);
    expect(events.some((e) => e.type === 'warning' && e.message.includes('refresh token rejected'))).toBe(
      true,
    );
  });

  it("refresh rejected with Eka's 500 {code:400}, then login rejected → failed, one failure event, waiters settled", async () => {
    const { auth, eka, events, states } = setup();
    const d = await auth.authorize(URL_);
    eka.next('refresh', { status: 500, body: { message: 'bad', code: 400 } });
    eka.next('login', {
      status: 500,
      body: { message: 'invalid credentials', code: 400 },
      headers: { 'apigw-requestid': 'rid-9' },
    });
    const results = await Promise.all([
      auth.handleUnauthorized(d),
      ...Array.from({ length: 10 }, () => auth.authorize(URL_).catch((e) => e)),
    ]);
    expect(results[0]).toMatchObject({
      action: 'fail',
      error: { code: 'CREDENTIALS_REJECTED', requestId: 'rid-9' },
    });
    for (const r of results.slice(1)) expect(isEkaAuthError(r, 'CREDENTIALS_REJECTED')).toBe(true);
    expect(events.filter((e) => e.type === 'failure')).toHaveLength(1);
    expect(auth.state).toBe('failed');
    expect(states).toEqual(['refreshing', 'valid', 'refreshing', 'failed']);
    // Stays failed without hammering the gateway…
    await expect(auth.authorize(URL_)).rejects.toMatchObject({ code: 'CREDENTIALS_REJECTED' });
    expect(eka.stats.logins).toBe(2);
    // …until login() is called.
    await auth.login();
    expect(auth.state).toBe('valid');
  });

  it('a 401 arriving after the credentials were rejected does not log in again', async () => {
    const { auth, eka } = setup();
    const d = await auth.authorize(URL_);
    eka.next('refresh', { status: 401, body: { code: 401 } });
    eka.next('login', { status: 500, body: { message: 'invalid credentials', code: 400 } });
    expect(await auth.handleUnauthorized(d)).toMatchObject({
      action: 'fail',
      error: { code: 'CREDENTIALS_REJECTED' },
    });
    expect(await auth.handleUnauthorized(d)).toMatchObject({
      action: 'fail',
      error: { code: 'CREDENTIALS_REJECTED' },
    });
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({
      code: 'CREDENTIALS_REJECTED',
    });
    expect(eka.stats.logins).toBe(2);
    expect(auth.state).toBe('failed');
  });

  it('attempts spent → typed transient error, one failure event, back-off with jitter, Retry-After honoured', async () => {
    const { auth, eka, clock, events } = setup({ maxWaitMs: 0 });
    eka.next(
      'login',
      { status: 503 },
      { status: 503 },
      { status: 429, headers: { 'retry-after': '4' }, body: { code: 429, error: 'slow down' } },
    );
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = auth.authorize(URL_).catch((e) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    const error = await pending;
    vi.useRealTimers();
    expect(error).toMatchObject({ code: 'TRANSIENT', status: 429, retryAfterMs: 4_000, transient: true });
    expect(eka.stats.logins).toBe(3);
    expect(events.filter((e) => e.type === 'request').map((e) => (e as any).attempt)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === 'failure')).toHaveLength(1);
    expect(auth.state).toBe('failed');
    expect(auth.getSnapshot().retryAt).toBe(clock.clock() + 4_000);
    // During the back-off, with no patience: fail fast, no call.
    clock.advance(3_000);
    await expect(auth.authorize(URL_)).rejects.toMatchObject({ code: 'TRANSIENT', retryAfterMs: 1_000 });
    expect(eka.stats.logins).toBe(3);
    // After it: a later request tries again and recovers.
    clock.advance(1_001);
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(auth.state).toBe('valid');
  });

  it('a Retry-After above retry.maxDelayMs ends the retries at once and sets the back-off', async () => {
    const { auth, eka, clock } = setup({ maxWaitMs: 0 });
    eka.next('login', { status: 429, headers: { 'retry-after': '30' } });
    const error = await auth.authorize(URL_).catch((e) => e);
    expect(error).toMatchObject({ code: 'TRANSIENT', status: 429, retryAfterMs: 30_000 });
    expect(eka.stats.logins).toBe(1);
    expect(auth.getSnapshot().retryAt).toBe(clock.clock() + 30_000);
  });

  it.each([
    ['503', { status: 503 }],
    ['429 with Retry-After 1', { status: 429, headers: { 'retry-after': '1' } }],
    ['an HTML 502 from a proxy', { status: 502, body: '<html>Bad gateway</html>' }],
    ['an empty 500', { status: 500 }],
    ['a malformed 200', { status: 200, body: { hello: 'world' } }],
    ['a network error', 'network'],
    ['a hang past timeoutMs', 'hang'],
  ] as const)(
    'a single transient failure (%s) is retried inside the flight: invisible to callers',
    async (_, fault) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const { auth, eka, events, states } = setup({ clock: () => Date.now(), timeoutMs: 2_000 });
      eka.next('login', fault as any);
      const results = Array.from({ length: 10 }, () => auth.authorize(URL_));
      await vi.advanceTimersByTimeAsync(3_500);
      for (const d of await Promise.all(results)) expect(d.headers?.authorization).toBe('Bearer at-1');
      expect(eka.stats.logins).toBe(2);
      expect(events.filter((e) => e.type === 'failure')).toHaveLength(0);
      expect(
        events.filter((e) => e.type === 'request').map((e) => [(e as any).attempt, (e as any).ok]),
      ).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(states).toEqual(['refreshing', 'valid']);
    },
  );

  it("Eka's token endpoints never get the token, and asking makes no token call", async () => {
    const { auth, eka } = setup();
    for (const path of [LOGIN_PATH, REFRESH_PATH]) {
      expect((await auth.authorize(`https://api.eka.care${path}`)).headers).toBeNull();
    }
    expect(eka.calls).toHaveLength(0);
  });

  it('a token call whose fetch throws one of our own errors (a wrapped fetch) is a transient failure, not a verdict', async () => {
    const eka = fakeEka();
    let calls = 0;
    const auth = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      header: 'authorization',
      retry: { baseDelayMs: 1 },
      // An adapter's wrapper under someone else's: it gave up with its own AbortError.
      fetch: ((url: string, init: RequestInit) =>
        ++calls === 1
          ? Promise.reject(new AbortError('ABORTED', 'the operation was aborted'))
          : eka.fetch(url, init)) as typeof fetch,
    });
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(calls).toBe(2);
    expect(auth.state).toBe('valid');
  });

  it('an ABORTED from a login callback once the attempt timed out counts as the timeout (retried)', async () => {
    let calls = 0;
    const auth = createEkaAuth({
      timeoutMs: 50,
      retry: { baseDelayMs: 1 },
      login: ({ signal }) =>
        ++calls === 1
          ? new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(new AbortError('ABORTED', 'aborted'))),
            )
          : Promise.resolve({ accessToken: 'custom-1', expiresIn: 3600 }),
    });
    expect(await auth.getAccessToken()).toBe('custom-1');
    expect(calls).toBe(2);
  });

  it('a refresh token is never presented twice: after a failed refresh the retry logs in', async () => {
    const { auth, eka } = setup();
    const d = await auth.authorize(URL_);
    eka.next('refresh', 'network');
    expect(await auth.handleUnauthorized(d)).toMatchObject({ action: 'retry' });
    const kinds = eka.calls.map((c) => c.kind);
    expect(kinds).toEqual(['login', 'refresh', 'login']);
    // The next refresh uses the new refresh token.
    const d2 = await auth.authorize(URL_);
    expect(await auth.handleUnauthorized(d2)).toMatchObject({ action: 'retry' });
    expect(eka.calls.at(-1)).toMatchObject({ kind: 'refresh', body: { refresh_token: 'rt-2' } });
    expect(eka.stats.reused).toBe(0);
  });

  it('rejections are never retried inside the flight', async () => {
    const { auth, eka } = setup();
    eka.next('login', { status: 500, body: { message: 'invalid credentials', code: 400 } });
    await expect(auth.authorize(URL_)).rejects.toMatchObject({ code: 'CREDENTIALS_REJECTED' });
    expect(eka.stats.logins).toBe(1);
  });

  it('exponential back-off grows with consecutive failed flights', async () => {
    const { auth, eka, clock } = setup({ random: () => 0, retry: { attempts: 1 }, maxWaitMs: 0 });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      eka.next('login', 'network');
      const e = await auth.authorize(URL_).catch((x) => x);
      delays.push(e.retryAfterMs);
      clock.advance(e.retryAfterMs);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000]); // base 1 s × 2^n × (0.5 + jitter/2)
  });

  it('a failing background refresh keeps the still-valid token and retries later', async () => {
    const { auth, eka, clock } = setup({ retry: { attempts: 1 } });
    await auth.authorize(URL_);
    clock.advance(1800_000 - 200_000);
    eka.next('refresh', { status: 503 });
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    await flush();
    expect(auth.state).toBe('valid');
    expect(auth.getSnapshot().error?.code).toBe('TRANSIENT');
    // Still inside the back-off: token kept, no new attempt.
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(eka.stats.refreshes).toBe(1);
    clock.advance(2_000);
    await auth.authorize(URL_);
    await flush();
    // The failed refresh spent its refresh token: the next attempt logs in.
    expect(eka.stats.refreshes + eka.stats.logins).toBe(3);
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-2');
  });

  it('during the back-off with no usable token, requests wait for the next attempt and share it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { auth, eka, events } = setup({ clock: () => Date.now(), retry: { attempts: 1 } });
    eka.next('login', { status: 503 });
    const first = auth.authorize(URL_);
    await vi.advanceTimersByTimeAsync(10);
    expect(auth.state).toBe('failed');
    expect(auth.getSnapshot().retryAt).toBeGreaterThan(Date.now());
    const later = Array.from({ length: 20 }, () => auth.authorize(URL_));
    await vi.advanceTimersByTimeAsync(1_100);
    for (const d of await Promise.all([first, ...later]))
      expect(d.headers?.authorization).toBe('Bearer at-1');
    expect(eka.stats.logins).toBe(2);
    expect(events.filter((e) => e.type === 'failure')).toHaveLength(1);
  });

  it('a 401 during the back-off waits for the next attempt; past maxWaitMs it fails with TRANSIENT', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { auth, eka } = setup({ clock: () => Date.now(), retry: { attempts: 1 }, maxWaitMs: 5_000 });
    const d = await auth.authorize(URL_);
    eka.next('refresh', { status: 503, headers: { 'retry-after': '20' } });
    const refused = auth.handleUnauthorized(d);
    await vi.advanceTimersByTimeAsync(10);
    expect(await refused).toMatchObject({
      action: 'fail',
      error: { code: 'TRANSIENT', retryAfterMs: 20_000 },
    });
    expect(eka.stats.refreshes).toBe(1);
    // A caller with more patience waits for the next attempt and succeeds.
    const patient = auth.handleUnauthorized(d, { maxWaitMs: 60_000 });
    // …but maxWaitMs per call only shortens the instance's patience.
    const stillShort = auth.handleUnauthorized(d, { maxWaitMs: 1_000 });
    await vi.advanceTimersByTimeAsync(10);
    expect(await stillShort).toMatchObject({ action: 'fail', error: { code: 'TRANSIENT' } });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await patient).toMatchObject({ action: 'fail', error: { code: 'TRANSIENT' } });
  });

  it('during a long outage the gateway sees token calls on the back-off schedule, never one per request', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { auth, eka } = setup({ clock: () => Date.now(), random: () => 0, maxWaitMs: 2_000 });
    const down = (): Response => new Response('', { status: 503 });
    eka.next('login', ...Array.from({ length: 1000 }, () => down));
    const outcomes: Promise<unknown>[] = [];
    for (let t = 0; t < 60; t++) {
      for (let i = 0; i < 10; i++) outcomes.push(auth.authorize(URL_).catch((e) => e.code));
      await vi.advanceTimersByTimeAsync(1_000);
    }
    await vi.advanceTimersByTimeAsync(5_000);
    const codes = await Promise.all(outcomes);
    expect(new Set(codes)).toEqual(new Set(['TRANSIENT']));
    // 600 requests over a minute; flights back off 0.5 s, 1 s, 2 s, … 32 s (3 calls each).
    expect(eka.stats.logins).toBeLessThanOrEqual(3 * 8);
  });

  it('logout() settles the requests waiting out a back-off', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { auth, eka } = setup({ clock: () => Date.now(), retry: { attempts: 1 } });
    eka.next('login', { status: 503 });
    const waiting = Array.from({ length: 3 }, () => auth.authorize(URL_).catch((e) => e.code));
    await vi.advanceTimersByTimeAsync(10);
    await auth.logout();
    expect(await Promise.all(waiting)).toEqual(['LOGGED_OUT', 'LOGGED_OUT', 'LOGGED_OUT']);
    expect(eka.stats.logins).toBe(1);
  });

  it('a waiter aborting during a back-off wait rejects alone', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { auth, eka } = setup({ clock: () => Date.now(), retry: { attempts: 1 } });
    eka.next('login', { status: 503 });
    const controller = new AbortController();
    const aborted = auth.authorize(URL_, { signal: controller.signal }).catch((e) => e.code);
    const other = auth.authorize(URL_);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    expect(await aborted).toBe('ABORTED');
    await vi.advanceTimersByTimeAsync(1_100);
    expect((await other).headers?.authorization).toBe('Bearer at-1');
  });

  it('the token endpoint hangs → the attempt times out and its HTTP call is really aborted', async () => {
    vi.useFakeTimers();
    const { auth, eka } = setup({ timeoutMs: 5_000, retry: { attempts: 1 }, maxWaitMs: 0 });
    eka.next('login', 'hang');
    const pending = auth.authorize(URL_).catch((e) => e);
    await vi.advanceTimersByTimeAsync(5_001);
    const error = await pending;
    expect(error).toMatchObject({ code: 'TIMEOUT', name: 'TimeoutError', transient: true });
    expect(eka.calls[0]!.signal!.aborted).toBe(true);
  });

  it('a throwing subscribe listener is reported and the state stays consistent', async () => {
    const { auth, events } = setup();
    auth.subscribe(() => {
      throw new Error('listener bug');
    });
    await auth.authorize(URL_);
    expect(auth.state).toBe('valid');
    expect(events.some((e) => e.type === 'warning' && e.message.includes('listener'))).toBe(true);
    expect((await auth.authorize(URL_)).headers).not.toBeNull();
  });
});

describe('createEkaAuth: loops and bounds', () => {
  it('401 forever → one refresh and one retry per request, then a typed error; token calls stay bounded', async () => {
    const { auth, eka, clock } = setup();
    for (let i = 0; i < 30; i++) {
      const d = await auth.authorize(URL_);
      const outcome = await auth.handleUnauthorized(d);
      if (outcome.action === 'retry') {
        const again = await auth.handleUnauthorized(outcome.decision);
        expect(again).toMatchObject({ action: 'fail', error: { code: 'UNAUTHORIZED', status: 401 } });
      } else {
        expect(outcome).toMatchObject({ action: 'fail', error: { code: 'UNAUTHORIZED' } });
      }
      clock.advance(100);
    }
    // 3 s of hammering → a few refreshes (growing cool-down), not 30.
    expect(eka.stats.refreshes + eka.stats.logins).toBeLessThanOrEqual(5);
  });

  it('a revocation racing the refresh (one fresh token refused) costs no cool-down: the next 401 refreshes', async () => {
    const { auth, eka } = setup();
    const d1 = await auth.authorize(URL_);
    // 20 requests with the revoked token; their retries with the new token are refused too (revoked again).
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => auth.handleUnauthorized(d1)));
    const retried = outcomes.map((o) => (o as { decision: AuthDecision }).decision);
    for (const d of retried) expect(await auth.handleUnauthorized(d)).toMatchObject({ action: 'fail' });
    expect(eka.stats.refreshes).toBe(1);
    // The next request with that (revoked) generation refreshes at once instead of failing for a minute.
    const d2 = await auth.authorize(URL_);
    expect(await auth.handleUnauthorized(d2)).toMatchObject({ action: 'retry' });
    expect(eka.stats.refreshes).toBe(2);
  });

  it('long-lived token: 401 → typed error, no refresh attempt', async () => {
    const eka = fakeEka();
    const auth = createEkaAuth({ longLivedToken: 'LL-TOKEN-abc', fetch: eka.fetch });
    expect(auth.state).toBe('valid');
    const d = await auth.authorize(URL_);
    expect(d.headers).toEqual({ auth: 'LL-TOKEN-abc', authorization: 'Bearer LL-TOKEN-abc' });
    const outcome = await auth.handleUnauthorized(d, { requestId: 'r1' });
    expect(outcome).toMatchObject({
      action: 'fail',
      error: { code: 'LONG_LIVED_TOKEN_REJECTED', requestId: 'r1' },
    });
    expect(eka.calls).toHaveLength(0);
  });

  it('a non-replayable body: the token is refreshed for the next call, the 401 fails typed', async () => {
    const { auth, eka } = setup();
    const d = await auth.authorize(URL_);
    const outcome = await auth.handleUnauthorized(d, { replayable: false });
    expect(outcome).toMatchObject({ action: 'fail', error: { code: 'NON_REPLAYABLE_BODY' } });
    expect(eka.stats.refreshes).toBe(1);
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-2');
  });
});

describe('createEkaAuth: abort', () => {
  it('one waiter aborts while others wait on the same refresh → only it rejects', async () => {
    const { auth, eka } = setup();
    const gate = eka.gate('login');
    const controller = new AbortController();
    const aborted = auth.authorize(URL_, { signal: controller.signal }).catch((e) => e);
    const others = Array.from({ length: 5 }, () => auth.authorize(URL_));
    await flush();
    controller.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    gate.release();
    for (const d of await Promise.all(others)) expect(d.headers?.authorization).toBe('Bearer at-1');
    expect(eka.calls[0]!.signal!.aborted).toBe(false);
    expect(eka.stats.logins).toBe(1);
  });

  it('an already-aborted signal → immediate AbortError, no token-endpoint call', async () => {
    const { auth, eka } = setup();
    await expect(auth.authorize(URL_, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(auth.getAccessToken({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(eka.calls).toHaveLength(0);
  });

  it('handleUnauthorized honours the caller signal while waiting for the refresh', async () => {
    const { auth, eka } = setup();
    const d = await auth.authorize(URL_);
    const gate = eka.gate('refresh');
    const controller = new AbortController();
    const pending = auth.handleUnauthorized(d, { signal: controller.signal });
    await flush();
    controller.abort();
    expect(await pending).toMatchObject({ action: 'fail', error: { code: 'ABORTED' } });
    gate.release();
    await flush();
    expect(auth.getSnapshot().generation).toBe(2);
  });
});

describe('createEkaAuth: logout and dispose', () => {
  it('logout() during a refresh: result discarded, waiters settled, storage cleared, later requests log in', async () => {
    const { auth, eka, states } = setup();
    await auth.authorize(URL_);
    const d = await auth.authorize(URL_);
    const gate = eka.gate('refresh');
    const waiting = auth.handleUnauthorized(d);
    await flush();
    await auth.logout();
    expect(await waiting).toMatchObject({ action: 'fail', error: { code: 'LOGGED_OUT' } });
    gate.release();
    await flush();
    expect(auth.state).toBe('unauthenticated');
    expect(auth.getSnapshot().generation).toBe(1);
    expect(states.at(-1)).toBe('unauthenticated');
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-3');
    expect(eka.stats.logins).toBe(2);
  });

  it('dispose() makes the instance unusable and drops listeners', async () => {
    const { auth } = setup();
    const listener = vi.fn();
    auth.subscribe(listener);
    auth.dispose();
    await expect(auth.authorize(URL_)).rejects.toMatchObject({ code: 'DISPOSED' });
    listener.mockClear();
    auth.dispose();
    expect(listener).not.toHaveBeenCalled();
  });

  it('dispose() emits one last `disposed` event to every event listener', () => {
    const { auth, events } = setup();
    const other = vi.fn();
    auth.onEvent(other);
    auth.dispose();
    auth.dispose();
    expect(events.filter((e) => e.type === 'disposed')).toEqual([{ type: 'disposed' }]);
    expect(events.at(-1)).toEqual({ type: 'disposed' });
    expect(other.mock.calls).toEqual([[{ type: 'disposed' }]]);
  });

  it('every state change is emitted once, in order', async () => {
    const { auth, events, clock } = setup();
    await auth.authorize(URL_);
    clock.advance(1800_001);
    await auth.authorize(URL_);
    await auth.logout();
    const transitions = events.filter((e) => e.type === 'state').map((e: any) => `${e.from}>${e.to}`);
    expect(transitions).toEqual([
      'unauthenticated>refreshing',
      'refreshing>valid',
      'valid>refreshing',
      'refreshing>valid',
      'valid>unauthenticated',
    ]);
  });
});

describe('createEkaAuth: onEvent()', () => {
  it('several listeners see every event; a throwing one is ignored; unsubscribe stops it', async () => {
    const { auth, events } = setup();
    const seen: EkaAuthEvent[] = [];
    auth.onEvent(() => {
      throw new Error('listener bug');
    });
    const stop = auth.onEvent((e) => seen.push(e));
    const decision = await auth.authorize(URL_);
    expect(seen).toEqual(events);
    const login = seen.find((e) => e.type === 'request');
    expect(login).toMatchObject({
      kind: 'login',
      ok: true,
      outcome: 'ok',
      status: 200,
      requestId: 'req-1',
      url: 'https://api.eka.care/connect-auth/v1/account/login',
      attempt: 1,
    });
    expect(await auth.handleUnauthorized(decision)).toMatchObject({ action: 'retry' });
    expect(seen.filter((e) => e.type === 'unauthorized')).toEqual([
      { type: 'unauthorized', action: 'retry', generation: 1, code: undefined },
    ]);
    stop();
    await auth.logout();
    expect(events.length).toBeGreaterThan(seen.length);
  });
});

describe('createEkaAuth: listeners never crash the process', () => {
  it('an async event or subscribe listener that rejects leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const { auth, events } = setup();
      auth.onEvent(async () => {
        throw new Error('async listener bug');
      });
      auth.subscribe(async () => {
        throw new Error('async subscriber bug');
      });
      await auth.authorize(URL_);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      expect(events.some((e) => e.type === 'warning' && e.message.includes('subscribe() listener'))).toBe(
        true,
      );
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
