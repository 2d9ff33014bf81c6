// What the soak promises (issue #12, RELIABILITY.md "Faults and ride-through"), as data: the short
// run in `pnpm test` asserts every check; the long run prints them and exits non-zero on a miss.

/** The largest failure rate allowed where every fault was single-shot (aborted requests excluded). */
export const MAX_SINGLE_SHOT_FAILURE_RATE = 0.01;

/**
 * The checks of one soak phase result (from `runSoak`).
 *
 * @returns `[{ name, actual, limit, ok }]`: `ok` is `actual <= limit`. Every phase: no hung request,
 *   no request that succeeded long after its caller aborted it, no unhandled rejection, no untyped error, no refresh token presented twice, token calls within
 *   their bound. The single-shot phase also: at most 1 % of requests failed.
 */
export function soakChecks(result) {
  const checks = [
    ['hung requests', result.hung.length, 0],
    ['aborts that did not land', result.ignoredAborts.length, 0],
    ['unhandled rejections', result.unhandled.length, 0],
    ['untyped errors', result.untypedCount, 0],
    ['refresh tokens presented twice', result.refreshTokensReused, 0],
    ['token-endpoint calls', result.tokenCalls.total, result.tokenCalls.bound],
  ];
  if (result.phase === 'single') {
    checks.push(['failure rate under single-shot faults', result.failureRate, MAX_SINGLE_SHOT_FAILURE_RATE]);
  }
  return checks.map(([name, actual, limit]) => ({ name, actual, limit, ok: actual <= limit }));
}
