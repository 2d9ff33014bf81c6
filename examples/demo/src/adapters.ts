import { attachEkaAuth } from '@eka/auth-axios';
import type { EkaAuth } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { withEkaAuth } from '@eka/auth-got';
import { ekaAuthMiddleware } from '@eka/auth-openapi-fetch';
import axios from 'axios';
import got from 'got';
import createClient from 'openapi-fetch';

/** What the demo needs from each adapter: a GET that returns status and JSON body. */
export interface DemoClient {
  get(url: string): Promise<{ status: number; body: any }>;
  dispose(): void;
}

/** One adapter wired up the way its README shows. */
export interface DemoAdapter {
  name: string;
  create(auth: EkaAuth): DemoClient;
}

const fetchAdapter: DemoAdapter = {
  name: 'fetch',
  create(auth) {
    const authFetch = createAuthFetch(auth);
    return {
      async get(url) {
        const response = await authFetch(url);
        return { status: response.status, body: await response.json().catch(() => null) };
      },
      dispose() {},
    };
  },
};

const openapiFetchAdapter: DemoAdapter = {
  name: 'openapi-fetch',
  create(auth) {
    const client = createClient();
    client.use(ekaAuthMiddleware(auth));
    return {
      async get(url) {
        const { origin, pathname, search } = new URL(url);
        const { data, error, response } = await client.GET(
          `${pathname}${search}` as never,
          { baseUrl: origin } as never,
        );
        return { status: response.status, body: data ?? error };
      },
      dispose() {},
    };
  },
};

const axiosAdapter: DemoAdapter = {
  name: 'axios',
  create(auth) {
    const api = axios.create({ validateStatus: () => true });
    const detach = attachEkaAuth(api, auth);
    return {
      async get(url) {
        const response = await api.get(url);
        return { status: response.status, body: response.data };
      },
      dispose: detach,
    };
  },
};

const gotAdapter: DemoAdapter = {
  name: 'got',
  create(auth) {
    const api = withEkaAuth(got.extend({ throwHttpErrors: false, retry: { limit: 0 } }), auth);
    return {
      async get(url) {
        const response = await api.get(url, { responseType: 'json' });
        return { status: response.statusCode, body: response.body as any };
      },
      dispose() {},
    };
  },
};

/** Every adapter the demo drives, in order. */
export const ADAPTERS: readonly DemoAdapter[] = [fetchAdapter, axiosAdapter, gotAdapter, openapiFetchAdapter];
