import type { ContractRequest } from '@eka/auth-testing/contract';
import { runAdapterContract } from '@eka/auth-testing/contract';
import createClient from 'openapi-fetch';
import oldestCreateClient from 'openapi-fetch-oldest';
import { describe } from 'vitest';
import { ekaAuthMiddleware } from '../src/index';

/** Map a contract request onto an (untyped) openapi-fetch call. */
function call(client: ReturnType<typeof createClient>, request: ContractRequest) {
  const url = new URL(request.url);
  const signals = [
    request.signal,
    request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : undefined,
  ].filter((s): s is AbortSignal => !!s);
  const init: Record<string, unknown> = {
    baseUrl: url.origin,
    // `AbortSignal.any` holds its sources weakly (Node): keep them referenced.
    signal: signals.length ? Object.assign(AbortSignal.any(signals), { sources: signals }) : undefined,
    parseAs: 'text',
  };
  const body = request.body;
  if (body && body.kind !== 'json') {
    init.body = body.value;
    init.bodySerializer = (value: unknown) => value;
    // Let fetch derive the content type from the body (text, form, blob, multipart).
    init.headers = { 'Content-Type': null };
  } else if (body) init.body = body.value;
  const path = `${url.pathname}${url.search}` as never;
  return request.method === 'GET' ? client.GET(path, init as never) : client.POST(path, init as never);
}

// The newest openapi-fetch we build against (0.17) and the oldest one the peer range claims (0.13.0).
const LIBRARIES = [
  ['0.17 (newest)', createClient],
  ['0.13.0 (oldest)', oldestCreateClient as unknown as typeof createClient],
] as const;

describe('@eka/auth-openapi-fetch contract', () => {
  for (const [version, create] of LIBRARIES) {
    runAdapterContract(
      `@eka/auth-openapi-fetch with openapi-fetch ${version}`,
      ({ auth }) => {
        const client = create();
        client.use(ekaAuthMiddleware(auth));
        return {
          async send(request) {
            const { data, error, response } = await call(client, request);
            const text = (data ?? error ?? '') as string;
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {}
            return { status: response.status, body };
          },
        };
      },
      // openapi-fetch serialises bodies itself; streamed bodies are not an openapi-fetch use case.
      { bodies: ['json', 'text', 'urlencoded', 'arraybuffer', 'uint8array', 'blob', 'formdata'] },
    );
  }
});
