import { runAdapterContract } from '@eka/auth-testing/contract';
import axios, { type CreateAxiosDefaults } from 'axios';
import oldestAxios from 'axios-oldest';
import { describe } from 'vitest';
import { attachEkaAuth } from '../src/index';
import { toAxiosConfig } from './toAxiosConfig';

const factory =
  (library: typeof axios, defaults: CreateAxiosDefaults = {}): Parameters<typeof runAdapterContract>[1] =>
  ({ auth }) => {
    const instance = library.create(defaults);
    const detach = attachEkaAuth(instance, auth);
    return {
      async send(request) {
        const response = await instance.request(toAxiosConfig(request));
        return { status: response.status, body: response.data };
      },
      dispose: detach,
    };
  };

// axios' Node (http) adapter cannot send a web ReadableStream; only its fetch adapter can.
const httpBodies = [
  'json',
  'text',
  'urlencoded',
  'arraybuffer',
  'uint8array',
  'blob',
  'formdata',
  'node-stream',
] as const;

describe('@eka/auth-axios contract', () => {
  // The newest axios we build against and the oldest one the peer range claims (^1.7.0), default adapter.
  for (const library of [axios, oldestAxios as unknown as typeof axios]) {
    runAdapterContract(`@eka/auth-axios with axios ${library.VERSION}`, factory(library), {
      bodies: httpBodies,
    });
  }

  // axios' fetch adapter (edge runtimes, `adapter: 'fetch'`): the only way axios sends a web stream. fetch
  // would follow redirects itself and forward the custom `auth` header; from axios 1.12 on the adapter
  // supplies `env.fetch` and follows them by hand, so the redirect scenarios hold here too. Blob and
  // FormData are left out: in Node this adapter labels them `application/x-www-form-urlencoded` even
  // without auth (axios bug).
  runAdapterContract(
    `@eka/auth-axios with axios ${axios.VERSION} adapter 'fetch'`,
    factory(axios, { adapter: 'fetch' }),
    { bodies: ['json', 'text', 'urlencoded', 'arraybuffer', 'uint8array', 'web-stream'] },
  );
});
