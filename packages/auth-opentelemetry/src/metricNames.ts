/**
 * The names of every instrument `instrumentEkaAuth` creates (meter `@eka/auth-opentelemetry`), for
 * dashboards, views and tests. Units follow the OpenTelemetry conventions: seconds (`s`) for time,
 * `{…}` annotations for counts.
 */
export const metricNames = {
  /** Counter `{request}`: login/refresh HTTP calls by kind, outcome, status and error type. */
  tokenRequests: 'eka.auth.token.requests',
  /** Histogram `s`: duration of one login/refresh HTTP call. */
  tokenRequestDuration: 'eka.auth.token.request.duration',
  /** Counter `{response}`: 401s an adapter handed to the core, by what the core answered (`retry` = a re-send). */
  unauthorizedResponses: 'eka.auth.unauthorized.responses',
  /** Counter `{failure}`: session failures (state `failed`) by error code. */
  failures: 'eka.auth.failures',
  /** Observable UpDownCounter `{session}`: instrumented sessions per state (1 for the current state, 0 for the others). */
  sessionCount: 'eka.auth.session.count',
  /**
   * Observable gauge `s`: seconds until the held access token expires (negative: expired but still held;
   * 0: no token held). Not reported for a valid token of unknown lifetime (a long-lived token).
   */
  tokenRemainingLifetime: 'eka.auth.token.remaining_lifetime',
} as const;

/** The attribute keys `instrumentEkaAuth` sets besides the OpenTelemetry HTTP ones. */
export const attributeNames = {
  /** `login` or `refresh`. */
  requestKind: 'eka.auth.request.kind',
  /** `ok`, `rejected`, `transient` or `timeout`. */
  requestOutcome: 'eka.auth.request.outcome',
  /** `retry`, `fail` or `pass`. */
  unauthorizedAction: 'eka.auth.unauthorized.action',
  /** `unauthenticated`, `refreshing`, `valid` or `failed`. */
  sessionState: 'eka.auth.session.state',
} as const;
