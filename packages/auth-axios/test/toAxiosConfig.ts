import type { ContractRequest } from '@eka/auth-testing/contract';
import type { AxiosRequestConfig } from 'axios';

/** Map a contract request onto an axios config: non-2xx resolve (unless `raw`), the deadline is axios' own `timeout`. */
export function toAxiosConfig(request: ContractRequest): AxiosRequestConfig {
  const config: AxiosRequestConfig = {
    method: request.method,
    url: request.url,
    signal: request.signal,
    timeout: request.timeoutMs,
    // `raw`: axios' default, a non-2xx rejects with its AxiosError.
    ...(!request.raw && { validateStatus: () => true }),
  };
  const body = request.body;
  if (!body) return config;
  config.data = body.value;
  // axios would label a string body `application/x-www-form-urlencoded`.
  if (body.kind === 'text') config.headers = { 'content-type': 'text/plain;charset=utf-8' };
  return config;
}
