// The four adapters on one `EkaAuth`, each behind the same small `send(plan)` interface, used the way
// their READMEs show: createAuthFetch(auth), attachEkaAuth(axios.create()), got.extend(ekaAuthHooks),
// openapi-fetch's client.use(ekaAuthMiddleware). Each resolves to the final HTTP status and the
// parsed JSON body, or rejects with whatever the client rejects with.
import http from 'node:http';
import { attachEkaAuth } from '@eka/auth-axios';
import { createAuthFetch } from '@eka/auth-fetch';
import { ekaAuthHooks } from '@eka/auth-got';
import { ekaAuthMiddleware } from '@eka/auth-openapi-fetch';
import axios from 'axios';
import got from 'got';
import createClient from 'openapi-fetch';

/** The adapter names, in the order the soak reports them. */
export const ADAPTERS = ['fetch', 'axios', 'got', 'openapi-fetch'];

const parseJson = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The caller's signal, combined with the request's own timeout for the fetch-based clients. */
const fetchSignal = (signal, timeoutMs) => {
  const timeout = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
  // `AbortSignal.any` holds its sources weakly (Node): keep the timeout referenced, or it never fires.
  if (signal && timeout) return Object.assign(AbortSignal.any([signal, timeout]), { timeout });
  return signal ?? timeout;
};

/**
 * Build the four clients of one `EkaAuth` against the gateway at `baseUrl`.
 *
 * A plan is `{ method: 'GET' | 'POST', pathname, query, body?, signal?, timeoutMs? }`: `timeoutMs` is
 * the request's own timeout in the client's native form (axios `timeout`, got `timeout.request`,
 * `AbortSignal.timeout` for fetch and openapi-fetch).
 *
 * @returns `{ send: { [adapter]: (plan) => Promise<{ status, data }> }, close() }`; `close()` drops the
 *   keep-alive sockets of the axios and got agents.
 */
export function createAdapterClients(auth, baseUrl) {
  const agent = new http.Agent({ keepAlive: true });
  const authFetch = createAuthFetch(auth);
  const axiosInstance = axios.create({ baseURL: baseUrl, httpAgent: agent });
  attachEkaAuth(axiosInstance, auth);
  // got's own retries are off: the API is never faulted, and a retried own timeout would blur
  // which layer waited. Our adapter's one re-send after a 401 is not one of got's retries.
  const gotInstance = got.extend(
    { prefixUrl: baseUrl, agent: { http: agent }, retry: { limit: 0 } },
    ekaAuthHooks(auth),
  );
  const openapi = createClient({ baseUrl });
  openapi.use(ekaAuthMiddleware(auth));

  const send = {
    fetch: async ({ method, pathname, query, body, signal, timeoutMs }) => {
      const url = `${baseUrl}${pathname}?${new URLSearchParams(query)}`;
      const response = await authFetch(url, {
        method,
        signal: fetchSignal(signal, timeoutMs),
        ...(body && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await response.text();
      return { status: response.status, data: parseJson(text) };
    },
    axios: async ({ method, pathname, query, body, signal, timeoutMs }) => {
      const response = await axiosInstance.request({
        method,
        url: pathname,
        params: query,
        data: body,
        signal,
        timeout: timeoutMs ?? 0,
      });
      return { status: response.status, data: response.data };
    },
    got: async ({ method, pathname, query, body, signal, timeoutMs }) => {
      const response = await gotInstance(pathname.slice(1), {
        method,
        searchParams: query,
        json: body,
        signal,
        responseType: 'json',
        ...(timeoutMs && { timeout: { request: timeoutMs } }),
      });
      return { status: response.statusCode, data: response.body };
    },
    'openapi-fetch': async ({ method, pathname, query, body, signal, timeoutMs }) => {
      const { response, data } = await openapi[method](pathname, {
        params: { query },
        body,
        signal: fetchSignal(signal, timeoutMs),
      });
      return { status: response.status, data };
    },
  };
  return { send, close: () => agent.destroy() };
}
