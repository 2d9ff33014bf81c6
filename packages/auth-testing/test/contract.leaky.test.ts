import { CONTRACT_SCENARIOS, runAdapterContract, SAFE_TO_LOG_SCENARIOS } from '../src/contract/index';

/**
 * An adapter that authenticates correctly but fails the way axios and got did before they redacted
 * their errors: in `raw` mode, a non-2xx answer or a network error rejects with an error that keeps
 * the request's headers (`config.headers`), token included. Every "safe to log" scenario must catch it.
 */
runAdapterContract(
  'leaky adapter (its errors keep the request headers)',
  ({ auth }) => ({
    async send(request) {
      const decision = await auth.authorize(request.url, { signal: request.signal });
      const headers = { ...decision.headers };
      const config = { url: request.url, method: request.method, headers };
      const signal = request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : request.signal;
      let response: Response;
      try {
        response = await fetch(request.url, { method: request.method, headers, signal });
      } catch (cause) {
        throw Object.assign(new Error('request failed', { cause }), { config });
      }
      const text = await response.text();
      if (response.status === 401) {
        const outcome = await auth.handleUnauthorized(decision, { signal: request.signal });
        if (outcome.action === 'fail') throw Object.assign(outcome.error, { config });
      }
      if (request.raw && response.status >= 300)
        throw Object.assign(new Error(`status ${response.status}`), { config, response: { text } });
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: response.status, body };
    },
  }),
  {
    bodies: [],
    expectFailures: SAFE_TO_LOG_SCENARIOS,
    skip: CONTRACT_SCENARIOS.filter((title) => !title.startsWith('safe to log')),
  },
);
