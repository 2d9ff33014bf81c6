import {
  type ContractRequest,
  type ContractScenario,
  runAdapterContract,
  SAFE_TO_LOG_SCENARIOS,
} from '../src/contract/index';

/**
 * A deliberately naive fetch adapter, the way many apps hand-write it: always attach the current
 * token, on 401 force a refresh and send again. It proves the contract catches what such code gets
 * wrong; the scenarios it fails are listed (and run with `it.fails`, so a pass would be an error).
 */
function send(token: string, request: ContractRequest) {
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    headers: { auth: token, authorization: `Bearer ${token}` },
    signal: request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : request.signal,
  };
  const body = request.body;
  if (body?.kind === 'json') init.body = JSON.stringify(body.value);
  else if (body) {
    init.body = body.value as BodyInit;
    init.duplex = 'half';
  }
  return fetch(request.url, init);
}

const catches: ContractScenario[] = [
  '401 forever: one retry per request, then a typed UNAUTHORIZED error, token calls bounded',
  'long-lived token answered with 401: LONG_LIVED_TOKEN_REJECTED, no token call',
  'an already-aborted signal: rejected, no token call',
  'no token, no login and no refresh for other origins (their 401s pass through)',
  'a cross-origin redirect never carries the token (auth or Authorization)',
  'a web-stream body is never re-sent: NON_REPLAYABLE_BODY, token refreshed',
  'a node-stream body is never re-sent: NON_REPLAYABLE_BODY, token refreshed',
  'retries a json body byte-identical with its content type',
  'a foreign 401 reached through a redirect is handed back, nothing refreshed',
  // It hands the endless 401 back instead of a typed error.
  ...SAFE_TO_LOG_SCENARIOS.filter((title) => title.endsWith('API 401 forever')),
];

/** What a naive client gets wrong only under some interleavings (double refreshes); not run here. */
const timingDependent: ContractScenario[] = [
  'concurrent 401s before, during and after the refresh share one refresh and all succeed',
  'rotation: no refresh token is ever presented twice',
  'refresh and login rejected: CREDENTIALS_REJECTED with the request id, no secrets, no hang',
  'a waiter aborts during the retry after a 401',
  // It waits out the whole 5 s login; on a loaded machine its teardown races the gateway's close.
  "a request's own timeout covers the wait for the refresh",
];

runAdapterContract(
  'naive hand-written adapter (expected to fail the listed scenarios)',
  ({ auth }) => ({
    async send(request) {
      let response = await send(await auth.getAccessToken(), request);
      if (response.status === 401) {
        response = await send(await auth.getAccessToken({ forceRefresh: true }), request);
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: response.status, body };
    },
  }),
  { expectFailures: catches, skip: timingDependent },
);
