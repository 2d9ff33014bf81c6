import type { ContractRequest } from '@eka/auth-testing/contract';

/** Map a contract request onto fetch's RequestInit (also used by the openapi-fetch adapter tests). */
export function toFetchInit(request: ContractRequest): RequestInit & { duplex?: 'half' } {
  const signals = [
    request.signal,
    request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : undefined,
  ].filter((s): s is AbortSignal => !!s);
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    // `AbortSignal.any` holds its sources weakly (Node): keep them referenced, or a collected
    // `AbortSignal.timeout()` never fires.
    signal: signals.length ? Object.assign(AbortSignal.any(signals), { sources: signals }) : undefined,
  };
  const body = request.body;
  if (!body) return init;
  if (body.kind === 'json') {
    init.body = JSON.stringify(body.value);
    init.headers = { 'content-type': 'application/json' };
  } else if (body.kind === 'web-stream' || body.kind === 'node-stream') {
    init.body = body.value as unknown as BodyInit;
    init.duplex = 'half';
  } else {
    init.body = body.value as BodyInit;
  }
  return init;
}
