import type { AuthState, EkaAuth, EkaAuthEvent, TokenRequestEvent } from '@eka/auth-core';
import {
  type Attributes,
  type BatchObservableResult,
  type Counter,
  diag,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  type ObservableUpDownCounter,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
  ValueType,
} from '@opentelemetry/api';
import { attributeNames as A, metricNames as M } from './metricNames';

/** Options of {@link instrumentEkaAuth}. */
export interface InstrumentEkaAuthOptions {
  /**
   * Where the metrics go. Default: the global one (`metrics.getMeterProvider()`) at the time of the call —
   * so instrument after your SDK has registered it.
   */
  meterProvider?: MeterProvider;
  /** Where the spans go. Default: the global one (`trace.getTracerProvider()`, which follows a later registration). */
  tracerProvider?: TracerProvider;
  /**
   * Added to every data point and span, e.g. `{ 'eka.auth.credential': 'billing' }` to tell two sessions
   * apart. Never put a token, the client secret or the sharing key here. The attributes this package sets
   * take precedence over these.
   */
  attributes?: Attributes;
  /**
   * The clock (epoch milliseconds) you gave `createEkaAuth`, used for the remaining token lifetime.
   * Default `Date.now`. Span times come from the auth's own events.
   */
  clock?: () => number;
}

const SCOPE = '@eka/auth-opentelemetry';
const STATES: readonly AuthState[] = ['unauthenticated', 'refreshing', 'valid', 'failed'];
/** The HTTP client duration buckets of the OpenTelemetry semantic conventions (seconds). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

interface Session {
  auth: EkaAuth;
  attributes: Attributes;
  /** The attributes as a stable string: sessions with equal attributes share data points. */
  key: string;
  clock: () => number;
}

/** The instruments of one meter provider, shared by every auth instrumented on it. */
interface Instruments {
  requests: Counter;
  duration: Histogram;
  unauthorized: Counter;
  failures: Counter;
  sessions: Set<Session>;
  release(session: Session): void;
}

const instrumentsByProvider = new WeakMap<MeterProvider, Instruments>();
const instrumentations = new WeakMap<
  EkaAuth,
  Array<{ meterProvider: MeterProvider; tracerProvider: TracerProvider; uninstrument: () => void }>
>();

/**
 * Reports an {@link EkaAuth}'s token requests, 401s, failures, state and token lifetime as OpenTelemetry
 * metrics, and each login/refresh HTTP call as a client span. Only the `@opentelemetry/api` is used: bring
 * your own SDK. Nothing recorded ever contains a token, the client secret or the sharing key.
 *
 * Instrumenting the same `auth` again with the same providers returns the first call's `uninstrument` (and
 * ignores the new attributes): nothing is counted twice.
 *
 * @returns `uninstrument()`: removes the event listener and the observable callbacks; calling it again
 *   does nothing. `auth.dispose()` does the same (a disposed session is no longer counted).
 */
export function instrumentEkaAuth(auth: EkaAuth, options: InstrumentEkaAuthOptions = {}): () => void {
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  const existing = instrumentations.get(auth) ?? [];
  const twin = existing.find((i) => i.meterProvider === meterProvider && i.tracerProvider === tracerProvider);
  if (twin) return twin.uninstrument;

  const attributes = { ...options.attributes };
  const session: Session = { auth, attributes, key: keyOf(attributes), clock: options.clock ?? Date.now };
  const instruments = instrumentsFor(meterProvider);
  instruments.sessions.add(session);
  const tracer = tracerProvider.getTracer(SCOPE);

  const guarded = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      diag.error(`${SCOPE}: recording ${what} failed`, error);
    }
  };
  const unsubscribe = auth.onEvent((event: EkaAuthEvent) => {
    if (event.type === 'request') {
      guarded('a token request metric', () => recordRequest(instruments, attributes, event));
      guarded('a token request span', () => {
        const span = tracer.startSpan(spanName(event), {
          kind: SpanKind.CLIENT,
          startTime: event.startedAt,
          attributes: { ...attributes, ...spanAttributes(event) },
        });
        if (!event.ok) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end(event.startedAt + event.durationMs);
      });
    } else if (event.type === 'unauthorized') {
      guarded('a 401', () =>
        instruments.unauthorized.add(1, {
          ...attributes,
          [A.unauthorizedAction]: event.action,
          ...(event.code && { 'error.type': event.code }),
        }),
      );
    } else if (event.type === 'failure') {
      guarded('a failure', () =>
        instruments.failures.add(1, { ...attributes, 'error.type': event.error.code }),
      );
    } else if (event.type === 'disposed') {
      // A disposed session is no longer observed (its state would be reported forever otherwise).
      uninstrument();
    }
  });

  let done = false;
  const uninstrument = () => {
    if (done) return;
    done = true;
    unsubscribe();
    instruments.release(session);
    const left = (instrumentations.get(auth) ?? []).filter((i) => i.uninstrument !== uninstrument);
    if (left.length) instrumentations.set(auth, left);
    else instrumentations.delete(auth);
  };
  instrumentations.set(auth, [...existing, { meterProvider, tracerProvider, uninstrument }]);
  return uninstrument;
}

function instrumentsFor(meterProvider: MeterProvider): Instruments {
  const known = instrumentsByProvider.get(meterProvider);
  if (known) return known;
  const meter: Meter = meterProvider.getMeter(SCOPE);
  const sessionCount: ObservableUpDownCounter = meter.createObservableUpDownCounter(M.sessionCount, {
    description: 'Instrumented Eka auth sessions per state (1 for the current state, 0 for the others)',
    unit: '{session}',
    valueType: ValueType.INT,
  });
  const remaining: ObservableGauge = meter.createObservableGauge(M.tokenRemainingLifetime, {
    description:
      'Seconds until the held access token expires (0 without a token; the soonest for equal attributes)',
    unit: 's',
  });
  const sessions = new Set<Session>();
  const observe = (result: BatchObservableResult) => {
    const groups = new Map<
      string,
      { attributes: Attributes; counts: Map<AuthState, number>; left?: number }
    >();
    for (const s of sessions) {
      const { state, expiresAt } = s.auth.getSnapshot();
      let group = groups.get(s.key);
      if (!group) groups.set(s.key, (group = { attributes: s.attributes, counts: new Map() }));
      group.counts.set(state, (group.counts.get(state) ?? 0) + 1);
      // No token held → 0 (an SDK keeps exporting the last value of a series that is no longer observed).
      // A valid token of unknown lifetime (long-lived) is not reported.
      const left =
        expiresAt !== undefined ? (expiresAt - s.clock()) / 1000 : state === 'valid' ? undefined : 0;
      if (left !== undefined) group.left = group.left === undefined ? left : Math.min(group.left, left);
    }
    for (const { attributes, counts, left } of groups.values()) {
      for (const state of STATES) {
        result.observe(sessionCount, counts.get(state) ?? 0, { ...attributes, [A.sessionState]: state });
      }
      if (left !== undefined) result.observe(remaining, left, attributes);
    }
  };
  meter.addBatchObservableCallback(observe, [sessionCount, remaining]);

  const instruments: Instruments = {
    requests: meter.createCounter(M.tokenRequests, {
      description: 'Login and refresh HTTP calls to the Eka token endpoints',
      unit: '{request}',
      valueType: ValueType.INT,
    }),
    duration: meter.createHistogram(M.tokenRequestDuration, {
      description: 'Duration of one login or refresh HTTP call',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    unauthorized: meter.createCounter(M.unauthorizedResponses, {
      description: '401 responses an adapter handed to the Eka auth core, by the action it answered',
      unit: '{response}',
      valueType: ValueType.INT,
    }),
    failures: meter.createCounter(M.failures, {
      description: 'Eka auth session failures, by error code',
      unit: '{failure}',
      valueType: ValueType.INT,
    }),
    sessions,
    release(session) {
      sessions.delete(session);
      if (sessions.size) return;
      meter.removeBatchObservableCallback(observe, [sessionCount, remaining]);
      instrumentsByProvider.delete(meterProvider);
    },
  };
  instrumentsByProvider.set(meterProvider, instruments);
  return instruments;
}

function recordRequest(instruments: Instruments, attributes: Attributes, event: TokenRequestEvent) {
  const point: Attributes = {
    ...attributes,
    [A.requestKind]: event.kind,
    [A.requestOutcome]: event.outcome,
    ...(event.status !== undefined && { 'http.response.status_code': event.status }),
    ...(!event.ok && { 'error.type': event.code ?? '_OTHER' }),
  };
  instruments.requests.add(1, point);
  instruments.duration.record(Math.max(0, event.durationMs) / 1000, point);
}

/** The token endpoint without query, fragment or user info (they never carry anything, but be sure). */
function endpoint(raw: string): URL | undefined {
  try {
    const url = new URL(raw);
    url.search = url.hash = url.username = url.password = '';
    return url;
  } catch {
    return undefined;
  }
}

/** `POST /connect-auth/v1/account/login`: the method and the endpoint's fixed path (its `url.template`). */
function spanName(event: TokenRequestEvent): string {
  const url = endpoint(event.url);
  return url ? `POST ${url.pathname}` : 'POST';
}

function spanAttributes(event: TokenRequestEvent): Attributes {
  const url = endpoint(event.url);
  return {
    'http.request.method': 'POST',
    ...(url && {
      'url.full': url.href,
      'url.template': url.pathname,
      'server.address': url.hostname.replace(/^\[(.*)\]$/, '$1'),
      'server.port': Number(url.port) || (url.protocol === 'http:' ? 80 : 443),
    }),
    [A.requestKind]: event.kind,
    [A.requestOutcome]: event.outcome,
    ...(event.status !== undefined && { 'http.response.status_code': event.status }),
    ...(event.attempt > 1 && { 'http.request.resend_count': event.attempt - 1 }),
    ...(event.requestId && { 'http.response.header.apigw-requestid': [event.requestId] }),
    ...(!event.ok && { 'error.type': event.code ?? '_OTHER' }),
  };
}

function keyOf(attributes: Attributes): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
