import { runAdapterContract } from '@eka/auth-testing/contract';
import { createAuthFetch } from '../src/index';
import { toFetchInit } from './toFetchInit';

runAdapterContract('@eka/auth-fetch', ({ auth }) => {
  const authFetch = createAuthFetch(auth);
  return {
    async send(request) {
      const response = await authFetch(request.url, toFetchInit(request));
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: response.status, body };
    },
  };
});
