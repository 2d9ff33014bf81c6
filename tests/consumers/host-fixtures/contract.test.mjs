// @eka/auth-testing's adapter contract, packed, run by the vitest installed next to it: the packed fetch
// adapter must pass every scenario (streamed bodies included), as it does in the workspace.
import { createAuthFetch } from '@eka/auth-fetch';
import { runAdapterContract } from '@eka/auth-testing/contract';

/** A contract request as fetch arguments. */
function toFetchInit(request) {
  const signals = [request.signal, request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : undefined];
  const active = signals.filter(Boolean);
  // `AbortSignal.any` holds its sources weakly (Node): keep them referenced.
  const signal = active.length ? Object.assign(AbortSignal.any(active), { sources: active }) : undefined;
  const init = { method: request.method, signal };
  const body = request.body;
  if (!body) return init;
  if (body.kind === 'json') {
    init.body = JSON.stringify(body.value);
    init.headers = { 'content-type': 'application/json' };
  } else if (body.kind === 'web-stream' || body.kind === 'node-stream') {
    init.body = body.value;
    init.duplex = 'half';
  } else init.body = body.value;
  return init;
}

runAdapterContract('@eka/auth-fetch (packed)', ({ auth }) => {
  const ekaFetch = createAuthFetch(auth);
  return {
    async send(request) {
      const response = await ekaFetch(request.url, toFetchInit(request));
      const text = await response.text();
      let body = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: response.status, body };
    },
  };
});
