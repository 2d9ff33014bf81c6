import type { ContractRequest } from '@eka/auth-testing/contract';
import type { OptionsInit } from 'got';

/** Map a contract request onto got options: non-2xx resolve (unless `raw`), the deadline is got's `timeout.request`. */
export function toGotOptions(request: ContractRequest): OptionsInit {
  const options: OptionsInit = {
    method: request.method,
    // `raw`: got's default, a non-2xx rejects with its HTTPError (its own retries off, to keep tests fast).
    throwHttpErrors: !!request.raw,
    ...(request.raw && { retry: { limit: 0 } }),
    signal: request.signal,
    timeout: { request: request.timeoutMs },
  };
  const body = request.body;
  if (!body) return options;
  switch (body.kind) {
    case 'json':
      return { ...options, json: body.value };
    case 'urlencoded':
      return { ...options, form: Object.fromEntries(body.value) };
    case 'text':
      // got sends a string body without a content type.
      return { ...options, body: body.value, headers: { 'content-type': 'text/plain;charset=utf-8' } };
    case 'arraybuffer':
      return { ...options, body: Buffer.from(body.value) };
    case 'blob':
      throw new Error('got cannot send a Blob');
    default:
      return { ...options, body: body.value as OptionsInit['body'] };
  }
}
