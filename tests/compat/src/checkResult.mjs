// The invariants of the compat suite, one list per scenario: what must hold for a client's result
// (scenario/runScenarios.mjs). An empty list means the scenario passed; each entry names what broke and
// the values seen. The vitest test and the CLI both judge with this, so they cannot disagree.

/** `label` when `ok` is false. */
const need = (ok, label) => (ok ? [] : [label]);

/** Problems common to every scenario: the protocol as the gateway saw it. */
const protocol = (stats) => [
  ...need(
    stats.protocolViolations.length === 0,
    `protocol violations: ${JSON.stringify(stats.protocolViolations)}`,
  ),
  ...need(stats.refreshes.reused === 0, `a refresh token was presented twice (${stats.refreshes.reused})`),
  ...need(stats.v1Refreshes === 0, `the deprecated v1 refresh was called (${stats.v1Refreshes})`),
];

/** Many concurrent requests after a revoke: all succeed on the new token, one login, one refresh. */
function revokeStorm(storm) {
  const failed = storm.statuses.filter((status) => status !== 200);
  const { refreshes, logins, apiCalls } = storm.stats;
  const fresh = storm.warmGeneration + 1;
  return [
    ...need(
      failed.length === 0,
      `${failed.length} of ${storm.statuses.length} failed: ${JSON.stringify(storm.errors.slice(0, 3))}`,
    ),
    ...need(refreshes.ok === 1, `refreshes: ${refreshes.ok} (want exactly 1)`),
    ...need(logins.ok === 1, `logins: ${logins.ok} (want exactly 1)`),
    ...need(
      storm.generations.length === 1 && storm.generations[0] === fresh,
      `token generations seen: ${JSON.stringify(storm.generations)} (want only ${fresh})`,
    ),
    ...need(
      apiCalls.unauthorized >= 1 && apiCalls.unauthorized <= storm.statuses.length,
      `API 401s: ${apiCalls.unauthorized} (want 1…${storm.statuses.length}: at most one retry each)`,
    ),
    ...protocol(storm.stats),
  ];
}

/** A JSON POST refused with 401 once: the retry carries the same bytes with the JSON content type. */
function jsonReplay(replay) {
  return [
    ...need(replay.status === 200, `status ${replay.status}`),
    ...need(
      replay.stats.apiCalls.unauthorized === 1,
      `API 401s: ${replay.stats.apiCalls.unauthorized} (want 1)`,
    ),
    ...need(replay.stats.refreshes.ok === 1, `refreshes: ${replay.stats.refreshes.ok} (want 1)`),
    ...need(replay.method === 'POST', `method ${replay.method}`),
    ...need(/^application\/json\b/.test(replay.contentType ?? ''), `content type ${replay.contentType}`),
    ...need(
      replay.bodyText === replay.sent && replay.bodyLength === replay.sentLength,
      `the retry carried ${replay.bodyLength} bytes ${JSON.stringify(replay.bodyText)}, not the ${replay.sentLength} sent`,
    ),
    ...protocol(replay.stats),
  ];
}

/** The foreign origin, reached directly and through a redirect, never sees a token. */
function foreignOrigin(foreign) {
  const leaked = (seen) => seen?.foreign !== true || seen.receivedAuth || seen.receivedAuthorization;
  return [
    ...need(foreign.stats.tokenLeaks === 0, `token leaks: ${foreign.stats.tokenLeaks}`),
    ...need(
      foreign.stats.foreignRequests === 2,
      `foreign requests: ${foreign.stats.foreignRequests} (want 2)`,
    ),
    ...need(
      !leaked(foreign.redirected) && foreign.redirected.path === '/landing',
      `after the redirect: ${JSON.stringify(foreign.redirected)}`,
    ),
    ...need(!leaked(foreign.direct), `the direct call: ${JSON.stringify(foreign.direct)}`),
  ];
}

/** One 503 (the client's own retry) then a 401 (ours): success on the new token after one refresh. */
function ownRetry(retry) {
  return [
    ...need(retry.status === 200, `status ${retry.status} ${JSON.stringify(retry.error ?? '')}`),
    ...need(retry.stats.injectedFailures === 1, `503s served: ${retry.stats.injectedFailures} (want 1)`),
    ...need(retry.stats.refreshes.ok === 1, `refreshes: ${retry.stats.refreshes.ok} (want 1)`),
    ...need(retry.generation === 2, `answered with generation ${retry.generation} (want 2)`),
    ...protocol(retry.stats),
  ];
}

/**
 * 401 to every token: each call rejects with UNAUTHORIZED — the error itself, or its `cause` for a client
 * that wraps errors (`errors: 'wrapped'`) — and the token endpoint sees at most one refresh per call.
 */
function unauthorizedForever(forever) {
  const typed = ({ codes, name }) =>
    forever.errors === 'wrapped'
      ? name !== 'UnauthorizedError' && codes.includes('UNAUTHORIZED')
      : name === 'UnauthorizedError' && codes[0] === 'UNAUTHORIZED';
  const untyped = forever.outcomes.filter((o) => o.status !== 'rejected' || !typed(o.error));
  const calls = forever.stats.tokenEndpointCalls;
  return [
    ...need(
      untyped.length === 0,
      `not rejected with UNAUTHORIZED (${forever.errors}): ${JSON.stringify(untyped)}`,
    ),
    ...need(
      calls <= 1 + forever.outcomes.length,
      `token endpoint calls: ${calls} for ${forever.outcomes.length} calls (want ≤ 1 login + 1 refresh per call)`,
    ),
    ...protocol(forever.stats),
  ];
}

const judges = { revokeStorm, jsonReplay, foreignOrigin, ownRetry, unauthorizedForever };

/** The scenarios, in the order they run. */
const SCENARIOS = /** @type {(keyof typeof judges)[]} */ (Object.keys(judges));

/**
 * The problems of each scenario of one client's result; a scenario that threw has just that problem.
 * @returns {Record<keyof typeof judges, string[]>}
 */
export function checkResult(result) {
  return /** @type {any} */ (
    Object.fromEntries(
      SCENARIOS.map((scenario) => {
        const outcome = result[scenario];
        return [
          scenario,
          outcome.threw ? [`threw ${JSON.stringify(outcome.threw)}`] : judges[scenario](outcome),
        ];
      }),
    )
  );
}
