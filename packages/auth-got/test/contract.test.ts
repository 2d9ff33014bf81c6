import { runAdapterContract } from '@eka/auth-testing/contract';
import got, { type Got, type Response } from 'got';
import oldestGot from 'got-oldest';
import { describe } from 'vitest';
import { withEkaAuth } from '../src/index';
import { toGotOptions } from './toGotOptions';

describe('@eka/auth-got contract', () => {
  // The newest got 14 we build against and the oldest one the peer range claims (^14.6.1).
  for (const [version, library] of [
    ['14 (newest)', got],
    ['14.6.1 (oldest)', oldestGot as unknown as Got],
  ] as const) {
    runAdapterContract(
      `@eka/auth-got with got ${version}`,
      ({ auth }) => {
        const client = withEkaAuth(library, auth);
        return {
          async send(request) {
            const response = (await client(request.url, toGotOptions(request))) as Response<string>;
            let body: unknown = response.body;
            try {
              body = JSON.parse(response.body);
            } catch {}
            return { status: response.statusCode, body };
          },
        };
      },
      // got has no Blob body (string, Buffer, typed array, FormData, streams and iterables only).
      {
        bodies: [
          'json',
          'text',
          'urlencoded',
          'arraybuffer',
          'uint8array',
          'formdata',
          'web-stream',
          'node-stream',
        ],
      },
    );
  }
});
