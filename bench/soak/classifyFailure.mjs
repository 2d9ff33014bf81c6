// What a rejected request means. The soak's rules:
// - an `EkaAuthError` is typed: its `code` is the failure (ABORTED counts as the caller's abort only
//   when the caller really aborted or its own timeout ran out);
// - the host client's own typed errors for a non-auth reason are typed too: axios' `AxiosError`
//   (ERR_CANCELED / ECONNABORTED / ETIMEDOUT = the caller's abort or timeout), got's `RequestError`
//   family (CancelError, AbortError, TimeoutError likewise), fetch's `DOMException` AbortError /
//   TimeoutError, and undici's `TypeError('fetch failed')` for a network error;
// - anything else is *untyped* — a bug the soak reports with its name and message.
import { isEkaAuthError } from '@eka/auth-core';
import axios from 'axios';
import { RequestError } from 'got';

const AXIOS_ABORT_CODES = new Set(['ERR_CANCELED', 'ECONNABORTED', 'ETIMEDOUT']);
const GOT_ABORT_CODES = new Set(['ERR_CANCELED', 'ERR_ABORTED', 'ETIMEDOUT']);
const GOT_ABORT_NAMES = new Set(['CancelError', 'AbortError', 'TimeoutError']);

/**
 * Classify a rejection of one soak request.
 *
 * @param error what the request promise rejected with.
 * @param callerAborted true when the caller's AbortController fired or the request's own timeout
 *   elapsed before it settled.
 * @returns `{ kind: 'aborted' }` (the caller gave up; excluded from the failure rate),
 *   `{ kind: 'failed', code }` (a typed failure; `code` names it, e.g. `TRANSIENT`, `HTTP_503`,
 *   `axios:ECONNRESET`), or `{ kind: 'untyped', code, detail }`.
 */
export function classifyFailure(error, callerAborted) {
  const abortOr = (code) => (callerAborted ? { kind: 'aborted', code } : { kind: 'failed', code });
  if (isEkaAuthError(error)) return error.code === 'ABORTED' ? abortOr('ABORTED') : failed(error.code);
  if (axios.isAxiosError(error)) {
    if (AXIOS_ABORT_CODES.has(error.code) && !error.response) return abortOr(`axios:${error.code}`);
    return failed(error.response ? `HTTP_${error.response.status}` : `axios:${error.code ?? 'unknown'}`);
  }
  if (error instanceof RequestError) {
    if (GOT_ABORT_NAMES.has(error.name) || GOT_ABORT_CODES.has(error.code)) {
      return abortOr(`got:${error.name}`);
    }
    return failed(error.response ? `HTTP_${error.response.statusCode}` : `got:${error.code ?? error.name}`);
  }
  if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return abortOr(`fetch:${error.name}`);
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return failed(`fetch:${error.cause?.code ?? 'network'}`);
  }
  return {
    kind: 'untyped',
    code: `untyped:${error?.name ?? typeof error}`,
    detail: String(error?.stack ?? error).slice(0, 400),
  };
}

const failed = (code) => ({ kind: 'failed', code });
