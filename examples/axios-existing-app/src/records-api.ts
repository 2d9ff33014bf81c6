import { attachEkaAuth } from '@eka/auth-axios';
import type { EkaAuth } from '@eka/auth-core';
import axios, { type AxiosError } from 'axios';

/*
 * The app's existing API module: its own axios instance, a logging request interceptor and an
 * error-normalising response interceptor. Eka auth was added with the `attachEkaAuth` import and the
 * `attachEkaAuth(api, auth)` line (plus `auth` in the options); nothing else changed — see README.md.
 */

/** Every failed call of this module ends up as an `ApiError`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly requestId: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

export interface RecordsApiOptions {
  baseURL: string;
  auth: EkaAuth;
  log?: (line: string) => void;
}

export function createRecordsApi({ baseURL, auth, log = console.log }: RecordsApiOptions) {
  const api = axios.create({ baseURL, timeout: 10_000, headers: { accept: 'application/json' } });

  api.interceptors.request.use((config) => {
    log(`→ ${config.method?.toUpperCase()} ${config.url}`);
    return config;
  });

  api.interceptors.response.use(
    (response) => {
      log(`← ${response.status} ${response.config.method?.toUpperCase()} ${response.config.url}`);
      return response;
    },
    (error: AxiosError<{ error?: string; message?: string }>) => {
      const status = error.response?.status;
      const requestId = error.response?.headers['apigw-requestid'] as string | undefined;
      const reason = error.response?.data?.error ?? error.response?.data?.message ?? error.message;
      const request = error.config ? `${error.config.method?.toUpperCase()} ${error.config.url}` : 'request';
      log(`✗ ${status ?? error.code} ${request}: ${reason}`);
      return Promise.reject(new ApiError(`records API: ${reason}`, status, requestId, { cause: error }));
    },
  );

  attachEkaAuth(api, auth); // after the app's own interceptors

  return {
    /** GET /api/echo: what the gateway saw. */
    async whoAmI(): Promise<{ clientId: string | null; generation: number }> {
      const { data } = await api.get('/api/echo');
      return { clientId: data.clientId, generation: data.generation };
    },
    /** POST a note (JSON); the gateway echoes what it received. */
    async saveNote(text: string): Promise<{ received: unknown; generation: number }> {
      const { data } = await api.post('/api/echo', { text });
      return { received: JSON.parse(data.bodyText), generation: data.generation };
    },
    /** GET any path of the API. */
    async get(path: string): Promise<{ status: number; data: unknown }> {
      const { status, data } = await api.get(path);
      return { status, data };
    },
    /** GET a resource the client may not see (403). */
    async secret(): Promise<unknown> {
      const { data } = await api.get('/api/forbidden');
      return data;
    },
  };
}
