import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEkaAuth, type EkaAuth, type EkaAuthOptions, type HeaderMode } from '@eka/auth-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../sleep';
import { type EkaGateway, type StartEkaGatewayOptions, startEkaGateway } from '../startEkaGateway';
import type { InjectedFailure } from '../types';

let collector: (() => void) | undefined;
/**
 * The garbage collector, reached without `--expose-gc` on the command line (set only when first used);
 * Bun's `Bun.gc(true)`; nothing on a runtime that offers neither.
 */
function gc(): void {
  if (!collector) {
    const bun = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun;
    let found: unknown = bun && (() => bun.gc(true));
    try {
      if (!found) {
        setFlagsFromString('--expose-gc');
        found = runInNewContext('gc');
      }
    } catch {}
    collector = typeof found === 'function' ? (found as () => void) : () => {};
  }
  collector();
}

/** Body kinds the contract sends. Each adapter maps them onto its client's own body types. */
export type ContractBodyKind =
  | 'json'
  | 'text'
  | 'urlencoded'
  | 'arraybuffer'
  | 'uint8array'
  | 'blob'
  | 'formdata'
  | 'web-stream'
  | 'node-stream';

/** A request body as the contract describes it. `value` is ready to hand to most clients. */
export type ContractBody =
  | { kind: 'json'; value: Record<string, unknown> }
  | { kind: 'text'; value: string }
  | { kind: 'urlencoded'; value: URLSearchParams }
  | { kind: 'arraybuffer'; value: ArrayBuffer }
  | { kind: 'uint8array'; value: Uint8Array }
  | { kind: 'blob'; value: Blob }
  | { kind: 'formdata'; value: FormData }
  | { kind: 'web-stream'; value: ReadableStream<Uint8Array> }
  | { kind: 'node-stream'; value: Readable };

/** One request the contract asks an adapter to send. `url` is absolute. */
export interface ContractRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: ContractBody;
  /** Abort this request (covers waiting for a refresh and the retry). */
  signal?: AbortSignal;
  /**
   * The request's own deadline, set the way the client sets timeouts. The contract runs the garbage
   * collector while it is pending: a signal combined with `AbortSignal.any([…, AbortSignal.timeout(ms)])`
   * must keep its sources referenced (Node's `any` holds them weakly, and a collected timeout never fires).
   */
  timeoutMs?: number;
  /**
   * Use the client the way its users do by default: a non-2xx answer rejects with the host client's
   * own error (axios' `AxiosError`, got's `HTTPError`), and the client's own retries are off. Clients
   * that never throw for a status (fetch, openapi-fetch) resolve as usual. Used by the "safe to log"
   * scenarios, which serialise whatever comes back.
   */
  raw?: boolean;
}

/**
 * What the adapter got back. Non-2xx statuses must be returned, not thrown (unless the request is
 * `raw`); typed auth errors are thrown.
 */
export interface ContractResponse {
  status: number;
  /** Parsed JSON body (or text when not JSON). */
  body: any;
}

/** An adapter wired to one `EkaAuth`, as the contract drives it. */
export interface ContractClient {
  send(request: ContractRequest): Promise<ContractResponse>;
  /** Detach/uninstall the adapter. */
  dispose?(): void | Promise<void>;
}

/** Builds a client for one test. Called once per client the scenario needs. */
export type ContractFactory = (context: {
  auth: EkaAuth;
  gateway: EkaGateway;
}) => ContractClient | Promise<ContractClient>;

/** Options for {@link runAdapterContract}. */
export interface ContractOptions {
  /** Body kinds the client can send. Default: all of them. Kinds left out are reported as skipped. */
  bodies?: readonly ContractBodyKind[];
  /**
   * Scenario titles this adapter is expected to fail (run with `it.fails`, so an unexpected pass is
   * an error too). Used to prove the contract catches a naive adapter; real adapters pass everything.
   */
  expectFailures?: readonly string[];
  /** Scenario titles not to run (reported as skipped), e.g. ones whose outcome is timing-dependent for a naive client. */
  skip?: readonly string[];
}

/** The header placements the "safe to log" scenarios run in. */
const HEADER_MODES = ['auth', 'authorization', 'both'] as const satisfies readonly HeaderMode[];

/** The failures the "safe to log" scenarios provoke; each error is searched for every secret. */
const SAFE_TO_LOG_CASES = [
  'API 401 forever',
  'API 403',
  'API 404',
  'API 500',
  'connection refused by an allowed origin',
  'timeout',
  'abort',
  'a foreign 401 after a redirect',
] as const;

type SafeToLogCase = (typeof SAFE_TO_LOG_CASES)[number];
type SafeToLogScenario = `safe to log (header '${(typeof HEADER_MODES)[number]}'): ${SafeToLogCase}`;

/**
 * The "safe to log" scenario titles: in every header mode, each failure's error (ours or the host
 * client's, see {@link ContractRequest.raw}) is serialised the ways loggers and error trackers do —
 * `String`, `.stack`, `JSON.stringify`, `toJSON()`, `util.inspect` (default and full depth) and a walk
 * of its properties into `config`, `options`, `request`, `response` and their `headers` — and none
 * may contain an access token issued, the refresh token, the client secret or the sharing key.
 */
export const SAFE_TO_LOG_SCENARIOS: readonly SafeToLogScenario[] = HEADER_MODES.flatMap((mode) =>
  SAFE_TO_LOG_CASES.map((kind): SafeToLogScenario => `safe to log (header '${mode}'): ${kind}`),
);

/** Every scenario title, for {@link ContractOptions.expectFailures}. */
export const CONTRACT_SCENARIOS = [
  'attaches the token to allowed origins only',
  'concurrent requests with no token share one login',
  'concurrent 401s before, during and after the refresh share one refresh and all succeed',
  'rotation: no refresh token is ever presented twice',
  'two clients sharing one EkaAuth make one refresh between them',
  '401 forever: one retry per request, then a typed UNAUTHORIZED error, token calls bounded',
  'a rejected refresh token falls back to one login',
  '403 is not an expired token: no refresh, the caller sees 403',
  'refresh and login rejected: CREDENTIALS_REJECTED with the request id, no secrets, no hang',
  'a single token-endpoint failure is invisible: retried inside the login',
  'gateway outage: typed TRANSIENT error past the wait allowed, a later request recovers',
  '429 with Retry-After is honoured',
  'long-lived token answered with 401: LONG_LIVED_TOKEN_REJECTED, no token call',
  'an already-aborted signal: rejected, no token call',
  'one waiter aborts; the others succeed on the same login',
  'a waiter aborts while its request waits for the refresh after a 401',
  'a waiter aborts during the retry after a 401',
  "a request's own timeout covers the wait for the refresh",
  'the caller sees the retry, not the 401',
  'no token, no login and no refresh for other origins (their 401s pass through)',
  'a cross-origin redirect never carries the token (auth or Authorization)',
  'a foreign 401 reached through a redirect is handed back, nothing refreshed',
  'a same-origin redirect keeps the token',
  'an abort reaches a request on its redirect hop',
  "two credentials never see each other's tokens",
  'after logout() requests log in again',
  ...SAFE_TO_LOG_SCENARIOS,
] as const;

/** A scenario title, or a body title such as `retries a json body byte-identical`. */
export type ContractScenario = (typeof CONTRACT_SCENARIOS)[number] | `${string} body ${string}`;

const ALL_BODIES: readonly ContractBodyKind[] = [
  'json',
  'text',
  'urlencoded',
  'arraybuffer',
  'uint8array',
  'blob',
  'formdata',
  'web-stream',
  'node-stream',
];

const BYTES = new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) % 256));

/**
 * The adapter contract: the adapter-facing lines of RELIABILITY.md, each run against a fresh Eka
 * gateway emulator over loopback. Call it at the top level of a vitest test file:
 *
 * ```ts
 * runAdapterContract('fetch', ({ auth }) => ({ send: (r) => sendWithMyClient(createAuthFetch(auth), r) }));
 * ```
 */
export function runAdapterContract(
  name: string,
  factory: ContractFactory,
  options: ContractOptions = {},
): void {
  const bodies = options.bodies ?? ALL_BODIES;
  const expected = new Set<string>(options.expectFailures ?? []);
  const skipped = new Set<string>(options.skip ?? []);
  // Every scenario also fails on a promise rejected and left unhandled while it ran (Node's default
  // `--unhandled-rejections=throw` would kill the user's process): a recorder, checked after a settle.
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  const checked = (fn: () => Promise<void>) => async () => {
    unhandled.length = 0;
    try {
      await fn();
    } finally {
      await settle();
    }
    expect(unhandled.map(describeReason), 'unhandled rejections').toEqual([]);
  };
  const scenario = (title: string, fn: () => Promise<void>, timeoutMs = 15_000) =>
    skipped.has(title)
      ? it.skip(title, fn)
      : (expected.has(title) ? it.fails : it)(title, checked(fn), timeoutMs);

  describe(`${name}: adapter contract`, () => {
    let gateway: EkaGateway;
    const created: ContractClient[] = [];
    const auths: EkaAuth[] = [];

    const start = async (gatewayOptions: StartEkaGatewayOptions = {}) => {
      await gateway?.close();
      gateway = await startEkaGateway(gatewayOptions);
    };
    const makeAuth = (extra: Partial<EkaAuthOptions> = {}) => {
      const auth = createEkaAuth({
        clientId: gateway.credentials.clientId,
        clientSecret: gateway.credentials.clientSecret,
        baseUrl: gateway.url,
        timeoutMs: 3_000,
        backoff: { baseMs: 20, maxMs: 100 },
        onEvent: () => {},
        ...extra,
      } as EkaAuthOptions);
      auths.push(auth);
      return auth;
    };
    const client = async (auth: EkaAuth) => {
      const c = await factory({ auth, gateway });
      created.push(c);
      return c;
    };
    const setup = async (extra: Partial<EkaAuthOptions> = {}) => {
      const auth = makeAuth(extra);
      return { auth, c: await client(auth) };
    };
    const echo = () => `${gateway.url}/api/echo`;
    const get = (c: ContractClient, url = echo(), more: Partial<ContractRequest> = {}) =>
      c.send({ method: 'GET', url, ...more });
    const failure = async (promise: Promise<unknown>) => {
      try {
        const value = await promise;
        return new Error(`expected a rejection, got ${JSON.stringify(value)}`);
      } catch (error) {
        return error as any;
      }
    };

    /**
     * Runs the garbage collector before an abort: an abort must still reach a request whose
     * intermediate objects (a `Request` derived from another) nothing holds any more — undici links a
     * derived `Request`'s signal to its source weakly.
     */
    const collectGarbage = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await sleep(0);
      }
    };

    /** Polls `condition` until it holds (the gateway's counters place an abort in a request's life). */
    const until = async (condition: () => boolean, what: string) => {
      for (const deadline = Date.now() + 10_000; !condition(); await sleep(5))
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    };

    beforeAll(() => {
      process.on('unhandledRejection', record);
    });
    afterAll(() => {
      process.off('unhandledRejection', record);
    });
    beforeEach(async () => {
      await start();
    });
    afterEach(async () => {
      for (const c of created.splice(0)) await c.dispose?.();
      for (const a of auths.splice(0)) a.dispose();
      await gateway.close();
    });

    scenario('attaches the token to allowed origins only', async () => {
      const { c } = await setup();
      const response = await get(c);
      expect(response.status).toBe(200);
      expect(response.body.generation).toBe(1);
      expect(gateway.stats.logins.ok).toBe(1);
      expect(gateway.stats.wrongPlace).toBe(0);
    });

    scenario('concurrent requests with no token share one login', async () => {
      const { c } = await setup();
      const responses = await Promise.all(Array.from({ length: 25 }, () => get(c)));
      expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));
      expect(gateway.stats.logins.ok).toBe(1);
      expect(gateway.stats.apiCalls.byGeneration[1]).toBe(25);
    });

    scenario(
      'concurrent 401s before, during and after the refresh share one refresh and all succeed',
      async () => {
        const { c } = await setup();
        await get(c);
        gateway.control.revokeAllAccessTokens();
        gateway.control.setLatency('refresh', 150);
        const wave = () => Array.from({ length: 8 }, () => get(c));
        const first = wave();
        await new Promise((r) => setTimeout(r, 50));
        const second = wave();
        await new Promise((r) => setTimeout(r, 250));
        const third = wave();
        const responses = await Promise.all([...first, ...second, ...third]);
        expect(responses.map((r) => r.status)).toEqual(Array(24).fill(200));
        expect(gateway.stats.refreshes.ok).toBe(1);
        expect(gateway.stats.logins.ok).toBe(1);
        // Each request meets at most one 401 (timing decides how many of the 24 do).
        expect(gateway.stats.apiCalls.unauthorized).toBeLessThanOrEqual(24);
      },
    );

    scenario('rotation: no refresh token is ever presented twice', async () => {
      const { c } = await setup();
      await get(c);
      for (let round = 0; round < 5; round++) {
        gateway.control.revokeAllAccessTokens();
        const responses = await Promise.all(Array.from({ length: 6 }, () => get(c)));
        expect(responses.every((r) => r.status === 200)).toBe(true);
      }
      expect(gateway.stats.refreshes).toEqual({ ok: 5, rejected: 0, reused: 0 });
      expect(gateway.stats.logins.ok).toBe(1);
    });

    scenario('two clients sharing one EkaAuth make one refresh between them', async () => {
      const { auth, c } = await setup();
      const other = await client(auth);
      await get(c);
      gateway.control.revokeAllAccessTokens();
      const responses = await Promise.all([get(c), get(other), get(c), get(other)]);
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(gateway.stats.refreshes.ok).toBe(1);
    });

    scenario(
      '401 forever: one retry per request, then a typed UNAUTHORIZED error, token calls bounded',
      async () => {
        // A cool-down long enough that the bound does not depend on how fast this machine is.
        const { c } = await setup({ backoff: { baseMs: 2_000, maxMs: 10_000 } });
        await get(c);
        gateway.control.alwaysUnauthorized(true);
        for (let i = 0; i < 10; i++) {
          const error = await failure(get(c));
          expect(error.code).toBe('UNAUTHORIZED');
        }
        // 1 login + 1 refresh, then the cool-down: never one refresh per request.
        expect(gateway.stats.tokenEndpointCalls).toBeLessThanOrEqual(3);
        expect(gateway.stats.apiCalls.unauthorized).toBeLessThanOrEqual(20);
      },
    );

    scenario('a rejected refresh token falls back to one login', async () => {
      const { c } = await setup();
      await get(c);
      gateway.control.revokeRefreshTokens();
      gateway.control.revokeAllAccessTokens();
      const response = await get(c);
      expect(response.status).toBe(200);
      expect(gateway.stats.logins.ok).toBe(2);
      expect(gateway.stats.refreshes.rejected).toBe(1);
    });

    scenario('403 is not an expired token: no refresh, the caller sees 403', async () => {
      const { c } = await setup();
      const response = await get(c, `${gateway.url}/api/forbidden`);
      expect(response.status).toBe(403);
      expect(gateway.stats.refreshes.ok + gateway.stats.refreshes.rejected).toBe(0);
      expect(gateway.stats.logins.ok).toBe(1);
    });

    scenario(
      'refresh and login rejected: CREDENTIALS_REJECTED with the request id, no secrets, no hang',
      async () => {
        const { c } = await setup();
        const ok = await get(c);
        expect(ok.status).toBe(200);
        gateway.control.revokeRefreshTokens();
        gateway.control.revokeAllAccessTokens();
        gateway.control.failNext('login', 1, 'bad-credentials');
        const errors = await Promise.all(Array.from({ length: 5 }, () => failure(get(c))));
        for (const error of errors) {
          expect(error.code).toBe('CREDENTIALS_REJECTED');
          expect(error.requestId).toBeTruthy();
          const text = `${String(error)} ${JSON.stringify(error)} ${error.stack ?? ''}`;
          expect(text).not.toContain(gateway.credentials.clientSecret);
        }
      },
    );

    scenario('a single token-endpoint failure is invisible: retried inside the login', async () => {
      const faults: InjectedFailure[] = [
        { status: 503 },
        { status: 429, retryAfterSec: 1 },
        { status: 502, body: '<html><body>Bad gateway</body></html>' },
        { status: 500, body: '' },
        'reset',
        'hang',
      ];
      for (const fault of faults) {
        const auth = makeAuth({ timeoutMs: 500 });
        const c = await client(auth);
        gateway.control.failNext('login', 1, fault);
        const responses = await Promise.all(Array.from({ length: 5 }, () => get(c)));
        expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
        expect(auth.getSnapshot().error).toBeUndefined();
      }
      expect(gateway.stats.injectedFailures).toBe(faults.length);
      expect(gateway.stats.logins.ok).toBe(faults.length);
    });

    scenario(
      'gateway outage: typed TRANSIENT error past the wait allowed, a later request recovers',
      async () => {
        // No patience: the request fails as soon as the login has spent its attempts.
        const { c } = await setup({ maxWaitMs: 0 });
        gateway.control.failNext('login', 3, { status: 503 });
        const error = await failure(get(c));
        expect(error.code).toBe('TRANSIENT');
        expect(error.transient).toBe(true);
        expect(error.retryAfterMs).toBeGreaterThan(0);
        expect(gateway.stats.tokenEndpointCalls).toBe(3);
        await new Promise((r) => setTimeout(r, 150));
        expect((await get(c)).status).toBe(200);
        // With patience (the default), requests wait out the back-off and share the next attempt.
        const patient = await setup();
        gateway.control.failNext('login', 3, { status: 503 });
        const responses = await Promise.all(Array.from({ length: 5 }, () => get(patient.c)));
        expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
        expect(gateway.stats.tokenEndpointCalls).toBe(3 + 1 + 3 + 1);
      },
    );

    scenario('429 with Retry-After is honoured', async () => {
      const { c } = await setup();
      gateway.control.failNext('login', 1, { status: 429, retryAfterSec: 1 });
      const started = Date.now();
      expect((await get(c)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(gateway.stats.tokenEndpointCalls).toBe(2);
      // A Retry-After longer than the in-flight cap ends the attempts and sets the back-off.
      const late = await setup({ maxWaitMs: 0 });
      gateway.control.failNext('login', 1, { status: 429, retryAfterSec: 30 });
      const error = await failure(get(late.c));
      expect(error.code).toBe('TRANSIENT');
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(29_000);
      expect((await failure(get(late.c))).code).toBe('TRANSIENT');
      expect(gateway.stats.tokenEndpointCalls).toBe(3);
      expect(late.auth.getSnapshot().retryAt).toBeGreaterThan(Date.now() + 20_000);
    });

    scenario('long-lived token answered with 401: LONG_LIVED_TOKEN_REJECTED, no token call', async () => {
      const auth = createEkaAuth({
        longLivedToken: gateway.credentials.longLivedToken!,
        baseUrl: gateway.url,
      });
      auths.push(auth);
      const c = await client(auth);
      expect((await get(c)).body.generation).toBe(0);
      gateway.control.revokeLongLived();
      const error = await failure(get(c));
      expect(error.code).toBe('LONG_LIVED_TOKEN_REJECTED');
      expect(gateway.stats.tokenEndpointCalls).toBe(0);
      expect(gateway.stats.apiCalls.unauthorized).toBe(1);
    });

    scenario('an already-aborted signal: rejected, no token call', async () => {
      const { c } = await setup();
      await expect(get(c, echo(), { signal: AbortSignal.abort() })).rejects.toBeTruthy();
      expect(gateway.stats.tokenEndpointCalls).toBe(0);
    });

    scenario('one waiter aborts; the others succeed on the same login', async () => {
      const { c } = await setup();
      gateway.control.setLatency('login', 300);
      const controller = new AbortController();
      const aborted = failure(get(c, echo(), { signal: controller.signal }));
      const others = Array.from({ length: 4 }, () => get(c));
      await new Promise((r) => setTimeout(r, 50));
      await collectGarbage();
      controller.abort();
      expect(await aborted).toBeTruthy();
      const responses = await Promise.all(others);
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(gateway.stats.logins.ok).toBe(1);
    });

    scenario('a waiter aborts while its request waits for the refresh after a 401', async () => {
      const { c } = await setup();
      await get(c);
      gateway.control.revokeAllAccessTokens();
      gateway.control.setLatency('refresh', 400);
      const controller = new AbortController();
      const aborted = failure(get(c, echo(), { signal: controller.signal }));
      const others = Array.from({ length: 4 }, () => get(c));
      // All five got their 401 and the one refresh is under way: they wait for it.
      await until(
        () => gateway.stats.apiCalls.unauthorized >= 5 && gateway.stats.tokenEndpointCalls >= 2,
        'five 401s and the refresh',
      );
      await sleep(50);
      await collectGarbage();
      controller.abort();
      expectAbort(await aborted);
      const responses = await Promise.all(others);
      expect(responses.map((r) => [r.status, r.body.generation])).toEqual(Array(4).fill([200, 2]));
      expect(gateway.stats.refreshes.ok).toBe(1);
      expect(gateway.stats.tokenEndpointCalls).toBe(2);
    });

    scenario('a waiter aborts during the retry after a 401', async () => {
      const { c } = await setup();
      await get(c);
      const before = gateway.stats.requests;
      gateway.control.revokeAllAccessTokens();
      // Long enough that the abort lands while the retries are held, even on a loaded machine.
      gateway.control.setLatency('api', 1_500);
      const controller = new AbortController();
      const aborted = failure(get(c, echo(), { signal: controller.signal }));
      const others = Array.from({ length: 4 }, () => get(c));
      // Five 401s, one refresh, and all five retries have reached the gateway (which holds them 1.5 s).
      await until(
        () => gateway.stats.refreshes.ok >= 1 && gateway.stats.requests >= before + 5 + 1 + 5,
        'the refresh and five retries',
      );
      await collectGarbage();
      controller.abort();
      expectAbort(await aborted);
      const responses = await Promise.all(others);
      expect(responses.map((r) => [r.status, r.body.generation])).toEqual(Array(4).fill([200, 2]));
      expect(gateway.stats.tokenEndpointCalls).toBe(2);
    });

    scenario("a request's own timeout covers the wait for the refresh", async () => {
      const { c } = await setup({ timeoutMs: 10_000 });
      gateway.control.setLatency('login', 5_000);
      const started = Date.now();
      const pending = failure(get(c, echo(), { timeoutMs: 300 }));
      // The timer behind the deadline must survive a collection while the request waits.
      await sleep(50);
      await collectGarbage();
      const error = await pending;
      expect(error).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    scenario('the caller sees the retry, not the 401', async () => {
      const { c } = await setup();
      await get(c);
      gateway.control.revokeAllAccessTokens();
      const response = await get(c);
      expect(response.status).toBe(200);
      expect(response.body.generation).toBe(2);
    });

    scenario('no token, no login and no refresh for other origins (their 401s pass through)', async () => {
      const { c } = await setup({ header: 'both' });
      const response = await get(c, `${gateway.foreignUrl}/landing`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        foreign: true,
        receivedAuth: false,
        receivedAuthorization: false,
      });
      expect(gateway.stats.tokenLeaks).toBe(0);
      expect(gateway.stats.tokenEndpointCalls).toBe(0);
    });

    scenario('a cross-origin redirect never carries the token (auth or Authorization)', async () => {
      const { c } = await setup({ header: 'both' });
      const to = encodeURIComponent(`${gateway.foreignUrl}/landing`);
      const response = await get(c, `${gateway.url}/api/redirect?to=${to}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        foreign: true,
        receivedAuth: false,
        receivedAuthorization: false,
      });
      expect(gateway.stats.tokenLeaks).toBe(0);
    });

    scenario('a foreign 401 reached through a redirect is handed back, nothing refreshed', async () => {
      const { c } = await setup({ header: 'both' });
      await get(c);
      const to = encodeURIComponent(`${gateway.foreignUrl}/unauthorized`);
      const response = await get(c, `${gateway.url}/api/redirect?to=${to}`);
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({
        foreign: true,
        receivedAuth: false,
        receivedAuthorization: false,
      });
      expect(gateway.stats.tokenEndpointCalls).toBe(1);
    });

    scenario('a same-origin redirect keeps the token', async () => {
      const { c } = await setup({ header: 'both' });
      const response = await get(c, `${gateway.url}/api/redirect-same`);
      expect(response.status).toBe(200);
      expect(response.body.generation).toBe(1);
    });

    scenario('an abort reaches a request on its redirect hop', async () => {
      const { c } = await setup({ header: 'both' });
      await get(c);
      const before = gateway.stats.requests;
      // Long enough that the abort lands while the second hop is held, even on a loaded machine.
      gateway.control.setLatency('api', 1_500);
      const controller = new AbortController();
      const aborted = failure(get(c, `${gateway.url}/api/redirect-same`, { signal: controller.signal }));
      await until(() => gateway.stats.requests >= before + 2, 'the second hop');
      await collectGarbage();
      controller.abort();
      expectAbort(await aborted);
    });

    scenario("two credentials never see each other's tokens", async () => {
      await start({
        clients: [
          { clientId: 'tenant-a', clientSecret: 'secret-a' },
          { clientId: 'tenant-b', clientSecret: 'secret-b' },
        ],
      });
      const a = await client(
        makeAuth({ clientId: 'tenant-a', clientSecret: 'secret-a' } as Partial<EkaAuthOptions>),
      );
      const b = await client(
        makeAuth({ clientId: 'tenant-b', clientSecret: 'secret-b' } as Partial<EkaAuthOptions>),
      );
      const results = await Promise.all([get(a), get(b), get(a), get(b)]);
      expect(results.map((r) => r.body.clientId)).toEqual(['tenant-a', 'tenant-b', 'tenant-a', 'tenant-b']);
    });

    scenario('after logout() requests log in again', async () => {
      const { auth, c } = await setup();
      await get(c);
      await auth.logout();
      expect((await get(c)).status).toBe(200);
      expect(gateway.stats.logins.ok).toBe(2);
    });

    // ---- safe to log ----------------------------------------------------------------------------
    for (const mode of HEADER_MODES)
      for (const kind of SAFE_TO_LOG_CASES)
        scenario(`safe to log (header '${mode}'): ${kind}`, async () => {
          const issued: string[] = [];
          const refused =
            kind === 'connection refused by an allowed origin' ? await closedOrigin() : undefined;
          const { c } = await setup({
            header: mode,
            sharingKey: gateway.credentials.sharingKey,
            fetch: recordTokens(issued),
            ...(refused && { allowedOrigins: [gateway.url, refused] }),
          } as Partial<EkaAuthOptions>);
          expect((await get(c)).status).toBe(200);
          const { request, rejects, status } = provoke(kind, gateway, refused);
          const outcome = await c.send({ ...request, raw: true }).then(
            (value) => ({ rejected: false, value }),
            (value: unknown) => ({ rejected: true, value }),
          );
          if (rejects || !outcome.rejected)
            expect(outcome, `${kind}: ${describeReason(outcome.value)}`).toMatchObject(
              rejects ? { rejected: true } : { value: { status } },
            );
          const secrets = [
            ...issued,
            ...issued.map((token) => token.split('.').at(-1)!),
            gateway.credentials.clientSecret,
            gateway.credentials.sharingKey!,
          ].filter((secret) => secret && secret.length >= 8);
          expect(issued.length).toBeGreaterThanOrEqual(2);
          for (const [view, text] of Object.entries(serialise(outcome.value)))
            for (const secret of secrets)
              expect(
                text.includes(secret),
                `a secret in ${view} of the ${kind} error: ${around(text, secret)}`,
              ).toBe(false);
          // Redacting the error did not break the client: the next call still carries a live token.
          gateway.control.alwaysUnauthorized(false);
          const after = await get(c);
          expect(after.status).toBe(200);
          expect(gateway.stats.wrongPlace).toBe(0);
        });

    // ---- bodies --------------------------------------------------------------------------------
    for (const kind of ALL_BODIES) {
      const streaming = kind === 'web-stream' || kind === 'node-stream';
      const title = streaming
        ? `a ${kind} body is never re-sent: NON_REPLAYABLE_BODY, token refreshed`
        : `retries a ${kind} body byte-identical with its content type`;
      if (!bodies.includes(kind)) {
        it.skip(`${title} (not supported by ${name})`, () => {});
        continue;
      }
      scenario(title, async () => {
        const { c } = await setup();
        await get(c);
        gateway.control.revokeAllAccessTokens();
        const { body, sha256, contentType } = await makeBody(kind);
        if (streaming) {
          const error = await failure(c.send({ method: 'POST', url: `${gateway.url}/api/upload`, body }));
          expect(error.code).toBe('NON_REPLAYABLE_BODY');
          expect(gateway.stats.refreshes.ok).toBe(1);
          expect((await get(c)).body.generation).toBe(2);
          return;
        }
        const response = await c.send({ method: 'POST', url: echo(), body });
        expect(response.status).toBe(200);
        expect(gateway.stats.apiCalls.unauthorized).toBe(1);
        expect(response.body.generation).toBe(2);
        expect(response.body.contentType ?? '').toMatch(contentType);
        if (sha256) expect(response.body.bodySha256).toBe(sha256);
        else {
          expect(response.body.bodyText).toContain('contract-field-value');
          expect(response.body.bodyText).toContain('contract-file-content ✓');
        }
      });
    }
  });
}

/** What to send for one "safe to log" case, and how it must end (reject, or resolve with `status`). */
function provoke(
  kind: SafeToLogCase,
  gateway: EkaGateway,
  refused: string | undefined,
): { request: ContractRequest; rejects: boolean; status?: number } {
  const api = (path: string, more: Partial<ContractRequest> = {}): ContractRequest => ({
    method: 'GET',
    url: `${gateway.url}${path}`,
    ...more,
  });
  switch (kind) {
    case 'API 401 forever':
      gateway.control.alwaysUnauthorized(true);
      return { request: api('/api/echo'), rejects: true };
    case 'API 403':
      return { request: api('/api/forbidden'), rejects: false, status: 403 };
    case 'API 404':
      return { request: api('/api/no-such-route'), rejects: false, status: 404 };
    case 'API 500':
      gateway.control.failNext('api', 1, { status: 500 });
      return { request: api('/api/echo'), rejects: false, status: 500 };
    case 'connection refused by an allowed origin':
      return { request: { method: 'GET', url: `${refused}/api/echo` }, rejects: true };
    case 'timeout':
      return { request: api('/api/slow?ms=3000', { timeoutMs: 150 }), rejects: true };
    case 'abort':
      return { request: api('/api/slow?ms=3000', { signal: AbortSignal.timeout(150) }), rejects: true };
    case 'a foreign 401 after a redirect': {
      const to = encodeURIComponent(`${gateway.foreignUrl}/unauthorized`);
      return { request: api(`/api/redirect?to=${to}`), rejects: false, status: 401 };
    }
  }
}

/** An origin on loopback where nothing listens (connections are refused). */
async function closedOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** A fetch for the token endpoints that records every access and refresh token issued. */
function recordTokens(issued: string[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    try {
      const body = await response.clone().json();
      for (const key of ['access_token', 'refresh_token'])
        if (typeof body?.[key] === 'string') issued.push(body[key]);
    } catch {}
    return response;
  };
}

/** Where `secret` sits in `text`: a window around it, the secret itself masked (test logs are logs too). */
function around(text: string, secret: string): string {
  const at = text.indexOf(secret);
  return `…${text.slice(Math.max(0, at - 240), at)}<SECRET>${text.slice(at + secret.length, at + secret.length + 60)}…`;
}

/** JSON with cycles cut, the way pino and Sentry stringify (`[Circular]`). */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  return (
    JSON.stringify(value, (_key, item) => {
      if (typeof item === 'bigint') return String(item);
      if (typeof item !== 'object' || item === null) return item;
      if (seen.has(item)) return '[Circular]';
      seen.add(item);
      return item;
    }) ?? ''
  );
}

/** Properties error trackers read even when they are not enumerable or sit behind getters. */
const LINKS = ['config', 'options', 'request', 'response', 'headers', 'cause', 'data', 'body'];

/**
 * The strings an error tracker collects: own enumerable properties, plus {@link LINKS}, recursively
 * (cycles cut, bounded), the way Sentry's extra error data and pino's serialisers walk an error.
 */
function walk(root: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (typeof value === 'string') out.push(value);
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 8 || seen.size > 20_000)
      return;
    seen.add(value);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
    const names = new Set([...Object.keys(value), ...LINKS.filter((name) => name in value)]);
    for (const name of names) {
      let item: unknown;
      try {
        item = (value as any)[name];
      } catch {
        continue;
      }
      if (typeof name === 'string') out.push(name);
      visit(item, depth + 1);
    }
    if (value instanceof Map || value instanceof Set) for (const item of value) visit(item, depth + 1);
  };
  visit(root, 0);
  return out.join('\n');
}

/** Every way a logger or error tracker turns `value` into text. A view that throws reports that. */
function serialise(value: any): Record<string, string> {
  const views: Record<string, () => unknown> = {
    String: () => String(value),
    stack: () => value?.stack,
    'JSON.stringify': () => JSON.stringify(value),
    'JSON.stringify with cycles cut': () => safeStringify(value),
    'toJSON()': () => (typeof value?.toJSON === 'function' ? safeStringify(value.toJSON()) : ''),
    'util.inspect': () => inspect(value),
    'util.inspect at full depth': () => inspect(value, { depth: Infinity }),
    'a walk of its properties': () => walk(value),
  };
  const out: Record<string, string> = {};
  for (const [name, view] of Object.entries(views)) {
    try {
      out[name] = String(view() ?? '');
    } catch (error) {
      out[name] = `[${name} threw ${describeReason(error)}]`;
    }
  }
  return out;
}

/** A short settle: timers and I/O callbacks run, so a late unhandled rejection is reported. */
async function settle(): Promise<void> {
  await sleep(20);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** An unhandled rejection's reason, in words (never its full object: it may be anything). */
function describeReason(reason: unknown): string {
  return reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
}

/**
 * The caller's abort, as its client reports it: our `AbortError` (code `ABORTED`), the platform's
 * `AbortError` (fetch, got) or axios' `CanceledError` (code `ERR_CANCELED`).
 */
function expectAbort(error: any): void {
  expect(
    error?.code === 'ABORTED' || error?.name === 'AbortError' || error?.code === 'ERR_CANCELED',
    `expected an abort error, got ${describeReason(error)}`,
  ).toBe(true);
}

async function hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Build a body of `kind` with the digest and content type the gateway must see (twice: first try and retry). */
async function makeBody(
  kind: ContractBodyKind,
): Promise<{ body: ContractBody; sha256?: string; contentType: RegExp }> {
  const json = { patient: 'Ā-42 ✓', visits: [1, 2, 3] };
  const text = 'plain text ✓ with unicode';
  const form = new URLSearchParams({ a: '1', b: 'two words', c: 'ü' });
  const utf8 = (s: string) => new TextEncoder().encode(s);
  switch (kind) {
    case 'json':
      return {
        body: { kind, value: json },
        sha256: await hex(utf8(JSON.stringify(json))),
        contentType: /json/,
      };
    case 'text':
      return { body: { kind, value: text }, sha256: await hex(utf8(text)), contentType: /text\/plain/ };
    case 'urlencoded':
      return {
        body: { kind, value: form },
        sha256: await hex(utf8(form.toString())),
        contentType: /application\/x-www-form-urlencoded/,
      };
    case 'arraybuffer':
      return { body: { kind, value: BYTES.slice().buffer }, sha256: await hex(BYTES), contentType: /.*/ };
    case 'uint8array':
      return { body: { kind, value: BYTES.slice() }, sha256: await hex(BYTES), contentType: /.*/ };
    case 'blob':
      return {
        body: { kind, value: new Blob([BYTES], { type: 'application/x-eka-test' }) },
        sha256: await hex(BYTES),
        contentType: /application\/x-eka-test/,
      };
    case 'formdata': {
      const data = new FormData();
      data.append('field', 'contract-field-value');
      data.append('file', new Blob(['contract-file-content ✓'], { type: 'text/plain' }), 'note.txt');
      return { body: { kind, value: data }, contentType: /multipart\/form-data/ };
    }
    case 'web-stream':
      return {
        body: {
          kind,
          value: new ReadableStream({
            start(controller) {
              controller.enqueue(BYTES);
              controller.close();
            },
          }),
        },
        contentType: /.*/,
      };
    case 'node-stream':
      return { body: { kind, value: Readable.from([Buffer.from(BYTES)]) }, contentType: /.*/ };
  }
}
