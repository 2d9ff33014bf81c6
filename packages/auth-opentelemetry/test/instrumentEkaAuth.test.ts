import { AsyncLocalStorage } from 'node:async_hooks';
import { createEkaAuth, type EkaAuth, type EkaAuthEvent, type EkaAuthOptions } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import {
  type Context,
  type ContextManager,
  context,
  type DiagLogger,
  DiagLogLevel,
  diag,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { type ReadableSpan, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attributeNames as A, instrumentEkaAuth, metricNames as M } from '../src/index';
import { createTelemetry, type Telemetry } from './telemetry';

let gateway: EkaGateway;
let telemetry: Telemetry;
const cleanups: Array<() => unknown> = [];

beforeEach(async () => {
  gateway = await startEkaGateway();
  telemetry = createTelemetry();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await telemetry.shutdown();
  await gateway.close();
});

/** An auth against the emulator, disposed after the test; `events` collects what it emitted. */
function makeAuth(options: Partial<EkaAuthOptions> = {}) {
  const auth = createEkaAuth({
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    baseUrl: gateway.url,
    ...options,
  } as EkaAuthOptions);
  const events: EkaAuthEvent[] = [];
  auth.onEvent((event) => events.push(event));
  cleanups.push(() => auth.dispose());
  return { auth, events, ekaFetch: createAuthFetch(auth), echo: `${gateway.url}/api/echo` };
}

function instrument(auth: EkaAuth, options: Parameters<typeof instrumentEkaAuth>[1] = {}) {
  const uninstrument = instrumentEkaAuth(auth, {
    meterProvider: telemetry.meterProvider,
    tracerProvider: telemetry.tracerProvider,
    ...options,
  });
  cleanups.push(uninstrument);
  return uninstrument;
}

/** What an SDK's AsyncLocalStorage context manager does, in short. */
class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active = () => this.storage.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind = <T>(_ctx: Context, target: T): T => target;
  enable = () => this;
  disable = () => {
    this.storage.disable();
    return this;
  };
}

const ms = (time: readonly [number, number]) => time[0] * 1000 + time[1] / 1e6;
const requestsOf = (events: EkaAuthEvent[]) =>
  events.filter((e): e is Extract<EkaAuthEvent, { type: 'request' }> => e.type === 'request');
const sleep = (delayMs: number) => new Promise((resolve) => setTimeout(resolve, delayMs));

/** Calls `fn` until it succeeds (an outage is over); bounded. */
async function untilOk(fn: () => Promise<Response>): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(10);
    }
  }
}

describe('instrumentEkaAuth', () => {
  it('login: one counted request, a duration in seconds, a client span with the HTTP conventions', async () => {
    const { auth, events, ekaFetch, echo } = makeAuth();
    instrument(auth);
    expect((await ekaFetch(echo)).status).toBe(200);

    const login = { [A.requestKind]: 'login', [A.requestOutcome]: 'ok', 'http.response.status_code': 200 };
    const [requests] = await telemetry.points(M.tokenRequests);
    expect(requests).toMatchObject({ unit: '{request}', attributes: login, value: 1 });
    expect(requests!.attributes).not.toHaveProperty('error.type');
    const [duration] = await telemetry.points(M.tokenRequestDuration);
    expect(duration).toMatchObject({ unit: 's', attributes: login, value: { count: 1 } });
    const histogram = duration!.value as { sum: number; buckets: { boundaries: number[] } };
    expect(histogram.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
    const [event] = requestsOf(events);
    expect(histogram.sum).toBeCloseTo(event!.durationMs / 1000, 6);

    const spans = telemetry.spans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('POST /connect-auth/v1/account/login');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': `${gateway.url}/connect-auth/v1/account/login`,
      'url.template': '/connect-auth/v1/account/login',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(gateway.url).port),
      'http.response.status_code': 200,
      'http.response.header.apigw-requestid': [event!.requestId],
      [A.requestKind]: 'login',
      [A.requestOutcome]: 'ok',
    });
    expect(event!.requestId).toMatch(/.+/);
    expect(ms(span.startTime)).toBeCloseTo(event!.startedAt, 3);
    expect(ms(span.duration)).toBeCloseTo(event!.durationMs, 3);
  });

  it('reports the state per session (1 for the current one) and the token lifetime left', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth, { attributes: { 'eka.auth.credential': 'main' } });
    const states = async () =>
      Object.fromEntries(
        (await telemetry.points(M.sessionCount)).map((p) => [p.attributes[A.sessionState], p.value]),
      );
    expect(await states()).toEqual({ unauthenticated: 1, refreshing: 0, valid: 0, failed: 0 });
    const left = async () => (await telemetry.points(M.tokenRemainingLifetime)).map((p) => p.value);
    expect(await left()).toEqual([0]); // no token yet

    await ekaFetch(echo);
    expect(await states()).toEqual({ unauthenticated: 0, refreshing: 0, valid: 1, failed: 0 });
    const [remaining] = await telemetry.points(M.tokenRemainingLifetime);
    expect(remaining).toMatchObject({ unit: 's', attributes: { 'eka.auth.credential': 'main' } });
    expect(remaining!.value).toBeGreaterThan(1790); // the emulator's tokens live 1800 s
    expect(remaining!.value).toBeLessThanOrEqual(1800);
    const [session] = await telemetry.points(M.sessionCount);
    expect(session).toMatchObject({ unit: '{session}', attributes: { 'eka.auth.credential': 'main' } });

    await auth.logout();
    expect(await states()).toEqual({ unauthenticated: 1, refreshing: 0, valid: 0, failed: 0 });
    expect(await left()).toEqual([0]);
  });

  it('adds the given attributes everywhere; its own attributes take precedence', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth, { attributes: { team: 'billing', [A.requestKind]: 'spoofed', 'url.full': 'spoofed' } });
    await ekaFetch(echo);
    const [requests] = await telemetry.points(M.tokenRequests);
    expect(requests!.attributes).toMatchObject({ team: 'billing', [A.requestKind]: 'login' });
    const [span] = telemetry.spans();
    expect(span!.attributes).toMatchObject({ team: 'billing', [A.requestKind]: 'login' });
    expect(span!.attributes['url.full']).toBe(`${gateway.url}/connect-auth/v1/account/login`);
    for (const p of await telemetry.points(M.sessionCount)) expect(p.attributes.team).toBe('billing');
  });

  it('measures the lifetime left with the given clock', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth, { clock: () => Date.now() + 600_000 });
    await ekaFetch(echo);
    const [remaining] = await telemetry.points(M.tokenRemainingLifetime);
    expect(remaining!.value).toBeGreaterThan(1190);
    expect(remaining!.value).toBeLessThanOrEqual(1200);
  });

  it('refresh after a 401: a refresh request, one 401 answered with a retry', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth);
    await ekaFetch(echo);
    gateway.control.expireAccessTokens();
    expect((await ekaFetch(echo)).status).toBe(200);

    expect(
      await telemetry.sum(M.tokenRequests, { [A.requestKind]: 'refresh', [A.requestOutcome]: 'ok' }),
    ).toBe(1);
    expect(await telemetry.sum(M.tokenRequests, { [A.requestKind]: 'login' })).toBe(1);
    expect(await telemetry.points(M.unauthorizedResponses)).toMatchObject([
      { unit: '{response}', attributes: { [A.unauthorizedAction]: 'retry' }, value: 1 },
    ]);
    const refresh = telemetry.spans().find((s) => s.attributes[A.requestKind] === 'refresh')!;
    expect(refresh.name).toBe('POST /connect-auth/v1/account/refresh-token');
    expect(refresh.attributes['url.full']).toBe(`${gateway.url}/connect-auth/v1/account/refresh-token`);
    expect(refresh.attributes['http.response.status_code']).toBe(200);
  });

  it('revoke storm: 20 × 401 answered with a retry, one refresh', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth);
    await ekaFetch(echo);
    gateway.control.revokeAllAccessTokens();
    const responses = await Promise.all(Array.from({ length: 20 }, () => ekaFetch(echo)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));

    expect(gateway.stats.refreshes.ok).toBe(1);
    expect(await telemetry.sum(M.tokenRequests, { [A.requestKind]: 'refresh' })).toBe(1);
    expect(await telemetry.sum(M.unauthorizedResponses, { [A.unauthorizedAction]: 'retry' })).toBe(20);
    expect(await telemetry.sum(M.unauthorizedResponses)).toBe(20);
    expect(await telemetry.sum(M.failures)).toBe(0);
    expect(telemetry.spans()).toHaveLength(2);
  });

  it('a rejected refresh token falls back to login: both requests counted with their outcome', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth);
    await ekaFetch(echo);
    gateway.control.revokeRefreshTokens();
    gateway.control.expireAccessTokens();
    expect((await ekaFetch(echo)).status).toBe(200);

    const rejected = {
      [A.requestKind]: 'refresh',
      [A.requestOutcome]: 'rejected',
      'http.response.status_code': 401,
      'error.type': 'REFRESH_REJECTED',
    };
    expect(await telemetry.sum(M.tokenRequests, rejected)).toBe(1);
    expect(await telemetry.sum(M.tokenRequests, { [A.requestKind]: 'login', [A.requestOutcome]: 'ok' })).toBe(
      2,
    );
    const span = telemetry.spans().find((s) => s.attributes[A.requestOutcome] === 'rejected')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject(rejected);
  });

  it('rejected credentials: a failure by code, the session counted as failed, an error span', async () => {
    const { auth, ekaFetch, echo } = makeAuth({ clientSecret: 'wrong-secret' });
    instrument(auth);
    const error = await ekaFetch(echo).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CREDENTIALS_REJECTED' });

    const rejected = {
      [A.requestKind]: 'login',
      [A.requestOutcome]: 'rejected',
      'http.response.status_code': 500, // Eka's HTTP 500 with body code 400
      'error.type': 'CREDENTIALS_REJECTED',
    };
    expect(await telemetry.sum(M.tokenRequests, rejected)).toBe(1);
    expect(await telemetry.points(M.failures)).toMatchObject([
      { unit: '{failure}', attributes: { 'error.type': 'CREDENTIALS_REJECTED' }, value: 1 },
    ]);
    expect(await telemetry.sum(M.sessionCount, { [A.sessionState]: 'failed' })).toBe(1);
    expect(await telemetry.sum(M.sessionCount, { [A.sessionState]: 'valid' })).toBe(0);
    const [span] = telemetry.spans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span!.attributes).toMatchObject(rejected);
    expect(span!.attributes['http.response.header.apigw-requestid']).toEqual([expect.any(String)]);
  });

  it('outage: every 503 counted as transient, the spans in error, then the login that worked', async () => {
    const { auth, events, ekaFetch, echo } = makeAuth({ backoff: { baseMs: 1, maxMs: 5 } });
    instrument(auth);
    gateway.control.failNext('login', 3, { status: 503 });
    expect((await untilOk(() => ekaFetch(echo))).status).toBe(200);

    const transient = {
      [A.requestKind]: 'login',
      [A.requestOutcome]: 'transient',
      'http.response.status_code': 503,
      'error.type': 'TRANSIENT',
    };
    expect(await telemetry.sum(M.tokenRequests, transient)).toBe(3);
    expect(await telemetry.sum(M.tokenRequests, { [A.requestOutcome]: 'ok' })).toBe(1);
    expect(await telemetry.sum(M.tokenRequestDuration)).toBe(4);
    // However many flights the core used for the 3 attempts, every failure it reported is counted.
    const failures = events.filter((e) => e.type === 'failure').length;
    expect(await telemetry.sum(M.failures, { 'error.type': 'TRANSIENT' })).toBe(failures);
    const spans = telemetry.spans();
    expect(spans.filter((s) => s.status.code === SpanStatusCode.ERROR)).toHaveLength(3);
    expect(spans.filter((s) => s.attributes['error.type'] === 'TRANSIENT')).toHaveLength(3);
    // Retries inside one flight carry the HTTP resend count.
    for (const [i, event] of requestsOf(events).entries()) {
      expect(spans[i]!.attributes['http.request.resend_count']).toBe(
        event.attempt > 1 ? event.attempt - 1 : undefined,
      );
    }
    expect(await telemetry.sum(M.sessionCount, { [A.sessionState]: 'valid' })).toBe(1);
  });

  it('a token endpoint that hangs past timeoutMs: a timeout request and span', async () => {
    const { auth, ekaFetch, echo } = makeAuth({ timeoutMs: 200, backoff: { baseMs: 1, maxMs: 5 } });
    instrument(auth);
    gateway.control.failNext('login', 1, 'hang');
    expect((await untilOk(() => ekaFetch(echo))).status).toBe(200);

    const timeout = { [A.requestOutcome]: 'timeout', 'error.type': 'TIMEOUT' };
    expect(await telemetry.sum(M.tokenRequests, timeout)).toBe(1);
    const span = telemetry.spans().find((s) => s.attributes[A.requestOutcome] === 'timeout')!;
    expect(span.attributes).not.toHaveProperty('http.response.status_code'); // no answer arrived
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(ms(span.duration)).toBeGreaterThanOrEqual(150);
  });

  it('a rejected long-lived token: the 401 counted as a fail with its code; no token request', async () => {
    const { auth, ekaFetch, echo } = makeAuth({
      clientId: undefined,
      clientSecret: undefined,
      longLivedToken: gateway.credentials.longLivedToken!,
    } as Partial<EkaAuthOptions>);
    instrument(auth);
    await ekaFetch(echo);
    expect(await telemetry.points(M.tokenRemainingLifetime)).toEqual([]); // valid, lifetime unknown
    gateway.control.revokeLongLived();
    await expect(ekaFetch(echo)).rejects.toMatchObject({ code: 'LONG_LIVED_TOKEN_REJECTED' });
    expect(await telemetry.points(M.unauthorizedResponses)).toMatchObject([
      { attributes: { [A.unauthorizedAction]: 'fail', 'error.type': 'LONG_LIVED_TOKEN_REJECTED' }, value: 1 },
    ]);
    expect(await telemetry.points(M.tokenRequests)).toEqual([]);
    expect(telemetry.spans()).toEqual([]);
    await auth.logout();
    expect(await telemetry.points(M.tokenRemainingLifetime)).toMatchObject([{ value: 0 }]);
  });

  it('never exports a token, the client secret or the sharing key', async () => {
    const issued = new Set<string>();
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = await response
        .clone()
        .json()
        .catch(() => null);
      for (const key of ['access_token', 'refresh_token']) if (body?.[key]) issued.add(body[key]);
      return response;
    };
    const { auth, ekaFetch, echo } = makeAuth({
      sharingKey: gateway.credentials.sharingKey,
      fetch: recordingFetch,
    });
    instrument(auth, { attributes: { 'eka.auth.credential': 'partner' } });
    await ekaFetch(echo); // login
    gateway.control.expireAccessTokens();
    await ekaFetch(echo); // refresh
    gateway.control.revokeAllAccessTokens();
    await Promise.all(Array.from({ length: 5 }, () => ekaFetch(echo))); // revoke storm
    gateway.control.revokeRefreshTokens();
    gateway.control.expireAccessTokens();
    await ekaFetch(echo); // rejected refresh → login
    gateway.control.failNext('refresh', 1, { status: 503 });
    await auth.getAccessToken({ forceRefresh: true }).catch(() => {}); // outage
    gateway.control.failNext('login', 1, 'bad-credentials');
    await auth.login().catch(() => {}); // rejected credentials
    expect(issued.size).toBeGreaterThanOrEqual(6);

    const exported = JSON.stringify({
      metrics: await telemetry.collect(),
      spans: telemetry.spans().map((s: ReadableSpan) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        links: s.links,
        status: s.status,
        resource: s.resource.attributes,
      })),
    });
    expect(exported).toContain('eka.auth.credential'); // the search looks at the real export
    expect(telemetry.spans().length).toBeGreaterThanOrEqual(5);
    const secrets = [gateway.credentials.clientSecret, gateway.credentials.sharingKey!, ...issued];
    for (const secret of secrets) {
      expect(exported).not.toContain(secret);
      // Not even a part of a JWT (its payload or signature).
      for (const part of secret.split('.').filter((p) => p.length >= 16))
        expect(exported).not.toContain(part);
    }
  });

  it('uninstrument() removes the event listener and the observable callback', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    let listeners = 0;
    const onEvent = auth.onEvent.bind(auth);
    vi.spyOn(auth, 'onEvent').mockImplementation((listener) => {
      listeners++;
      const unsubscribe = onEvent(listener);
      return () => {
        listeners--;
        unsubscribe();
      };
    });
    const meter = telemetry.meterProvider.getMeter('@eka/auth-opentelemetry');
    const add = vi.spyOn(meter, 'addBatchObservableCallback');
    const remove = vi.spyOn(meter, 'removeBatchObservableCallback');
    const meterProvider = { getMeter: () => meter };

    const uninstrument = instrument(auth, { meterProvider });
    expect(listeners).toBe(1);
    expect(add).toHaveBeenCalledTimes(1);
    await ekaFetch(echo);
    expect(await telemetry.sum(M.tokenRequests)).toBe(1);

    uninstrument();
    expect(listeners).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]).toEqual(add.mock.calls[0]);
    gateway.control.expireAccessTokens();
    await ekaFetch(echo); // a refresh nobody records
    expect(await telemetry.sum(M.tokenRequests)).toBe(1);
    expect(await telemetry.sum(M.unauthorizedResponses)).toBe(0);
    expect(telemetry.spans()).toHaveLength(1);
    uninstrument(); // again: nothing
    expect(listeners).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);

    // Instrumenting afterwards starts afresh.
    instrument(auth, { meterProvider });
    expect(listeners).toBe(1);
    expect(add).toHaveBeenCalledTimes(2);
  });

  it('a disposed auth is no longer counted: dispose() uninstruments it', async () => {
    const one = makeAuth();
    const two = makeAuth();
    instrument(one.auth);
    instrument(two.auth);
    await one.ekaFetch(one.echo);
    await two.ekaFetch(two.echo);
    const valid = async () =>
      (await telemetry.points(M.sessionCount)).find((p) => p.attributes[A.sessionState] === 'valid')?.value;
    expect(await valid()).toBe(2);
    one.auth.dispose();
    expect(await valid()).toBe(1);
    expect(one.events.at(-1)).toEqual({ type: 'disposed' });
  });

  it('instrumenting twice with the same providers counts once and returns the same uninstrument', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    const first = instrument(auth);
    const second = instrument(auth, { attributes: { ignored: true } });
    expect(second).toBe(first);
    await ekaFetch(echo);
    expect(await telemetry.points(M.tokenRequests)).toMatchObject([{ value: 1 }]);
    expect(telemetry.spans()).toHaveLength(1);
    expect(await telemetry.sum(M.sessionCount, { [A.sessionState]: 'valid' })).toBe(1);

    // Other providers are another, independent instrumentation.
    const other = createTelemetry();
    cleanups.push(() => other.shutdown());
    const third = instrumentEkaAuth(auth, {
      meterProvider: other.meterProvider,
      tracerProvider: other.tracerProvider,
    });
    cleanups.push(third);
    expect(third).not.toBe(first);
    gateway.control.expireAccessTokens();
    await ekaFetch(echo);
    expect(await other.sum(M.tokenRequests)).toBe(1);
    expect(await telemetry.sum(M.tokenRequests)).toBe(2);
  });

  it('two auths on one meter provider: told apart by attributes, summed when equal', async () => {
    const a = makeAuth();
    const b = makeAuth({ clientSecret: 'wrong-secret' });
    instrument(a.auth, { attributes: { 'eka.auth.credential': 'a' } });
    instrument(b.auth, { attributes: { 'eka.auth.credential': 'b' } });
    await a.ekaFetch(a.echo);
    await b.ekaFetch(b.echo).catch(() => {});

    const sessions = (await telemetry.points(M.sessionCount)).filter((p) => p.value === 1);
    expect(sessions.map((p) => p.attributes)).toEqual([
      { 'eka.auth.credential': 'a', [A.sessionState]: 'valid' },
      { 'eka.auth.credential': 'b', [A.sessionState]: 'failed' },
    ]);
    expect(
      await telemetry.sum(M.tokenRequests, { 'eka.auth.credential': 'a', [A.requestOutcome]: 'ok' }),
    ).toBe(1);
    expect(
      await telemetry.sum(M.tokenRequests, { 'eka.auth.credential': 'b', [A.requestOutcome]: 'rejected' }),
    ).toBe(1);
    expect(await telemetry.sum(M.failures, { 'eka.auth.credential': 'a' })).toBe(0);
    expect(await telemetry.sum(M.failures, { 'eka.auth.credential': 'b' })).toBe(1);
    expect(telemetry.spans().map((s) => s.attributes['eka.auth.credential'])).toEqual(['a', 'b']);
    const remainingByCredential = Object.fromEntries(
      (await telemetry.points(M.tokenRemainingLifetime)).map((p) => [
        p.attributes['eka.auth.credential'],
        p.value,
      ]),
    );
    expect(remainingByCredential).toEqual({ a: expect.any(Number), b: 0 }); // b holds no token
    expect(remainingByCredential.a).toBeGreaterThan(1790);

    // Without distinguishing attributes, sessions add up and the soonest expiry is reported.
    const c = makeAuth({ clock: () => Date.now() - 5_000 }); // c's token expires 5 s sooner
    const d = makeAuth();
    const other = createTelemetry();
    cleanups.push(() => other.shutdown());
    for (const { auth } of [c, d]) {
      cleanups.push(
        instrumentEkaAuth(auth, { meterProvider: other.meterProvider, tracerProvider: other.tracerProvider }),
      );
    }
    await c.ekaFetch(c.echo);
    await d.ekaFetch(d.echo);
    expect(await other.sum(M.sessionCount, { [A.sessionState]: 'valid' })).toBe(2);
    const remaining = await other.points(M.tokenRemainingLifetime);
    expect(remaining).toHaveLength(1);
    expect(remaining[0]!.value).toBeLessThanOrEqual(1795); // c's token
  });

  it('a throwing span processor, span exporter or metric exporter never breaks the auth; metrics keep counting', async () => {
    const errors: unknown[] = [];
    const logger: DiagLogger = {
      error: (...args) => errors.push(args),
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    };
    diag.setLogger(logger, DiagLogLevel.ERROR);
    cleanups.push(() => diag.disable());
    const throwing: SpanProcessor = {
      onStart: () => {},
      onEnd: () => {
        throw new Error('span processor down');
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const throwingExporter = {
      export: () => {
        throw new Error('exporter down');
      },
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    await telemetry.shutdown();
    telemetry = createTelemetry({
      spanProcessors: [throwing, new SimpleSpanProcessor(throwingExporter)],
      metricReaders: [
        new PeriodicExportingMetricReader({ exporter: throwingExporter, exportIntervalMillis: 60_000 }),
      ],
    });
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth);
    expect((await ekaFetch(echo)).status).toBe(200);
    gateway.control.revokeAllAccessTokens();
    expect((await ekaFetch(echo)).status).toBe(200);
    await telemetry.meterProvider.forceFlush(); // the SDK reports its exporter's error through diag
    expect(await telemetry.sum(M.tokenRequests)).toBe(2);
    expect(await telemetry.sum(M.unauthorizedResponses)).toBe(1);
    expect(telemetry.spans()).toHaveLength(2); // the in-memory exporter still got every span
    // Ours (the throwing processor) and the SDK's (the exporters), through the OpenTelemetry diag logger.
    const reported = JSON.stringify(errors, (_key, value) =>
      value instanceof Error ? value.message : value,
    );
    expect(reported).toContain('recording a token request span failed');
    expect(reported).toContain('span processor down');
    expect(reported).toContain('exporter down');
    expect(auth.state).toBe('valid');
  });

  it('a login/refresh span joins the trace of the request that started it (with a context manager)', async () => {
    context.setGlobalContextManager(new AsyncContextManager());
    cleanups.push(() => context.disable());
    const { auth, ekaFetch, echo } = makeAuth();
    instrument(auth);
    const tracer = telemetry.tracerProvider.getTracer('app');
    const traced = (name: string) =>
      tracer.startActiveSpan(name, (span) => ekaFetch(echo).finally(() => span.end()));
    await traced('first request');
    gateway.control.expireAccessTokens();
    await traced('request after expiry');

    const spans = telemetry.spans();
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    const [login, refresh] = spans.filter((s) => s.attributes[A.requestKind]);
    expect(login!.parentSpanContext?.spanId).toBe(byName('first request').spanContext().spanId);
    expect(login!.spanContext().traceId).toBe(byName('first request').spanContext().traceId);
    expect(refresh!.parentSpanContext?.spanId).toBe(byName('request after expiry').spanContext().spanId);
  });

  it('uses the global providers by default', async () => {
    metrics.setGlobalMeterProvider(telemetry.meterProvider);
    trace.setGlobalTracerProvider(telemetry.tracerProvider);
    cleanups.push(() => {
      metrics.disable();
      trace.disable();
    });
    const { auth, ekaFetch, echo } = makeAuth();
    cleanups.push(instrumentEkaAuth(auth));
    await ekaFetch(echo);
    expect(await telemetry.sum(M.tokenRequests)).toBe(1);
    expect(telemetry.spans()).toHaveLength(1);
  });

  it('does nothing with the no-op providers (no SDK registered)', async () => {
    const { auth, ekaFetch, echo } = makeAuth();
    const uninstrument = instrumentEkaAuth(auth);
    expect((await ekaFetch(echo)).status).toBe(200);
    uninstrument();
    expect(await telemetry.points()).toEqual([]);
  });
});
