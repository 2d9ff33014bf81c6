import { readFileSync } from 'node:fs';
import { runAdapterContract } from '@eka/auth-testing/contract';
import type { Got, Response } from 'got';
import { describe, expect, it } from 'vitest';
import { withEkaAuth } from '../src/index';
import { toGotOptions } from './toGotOptions';

// got 15 and 16, the oldest and the newest release of each (the peer range is ^14.6.1 || ^15 || ^16;
// contract.test.ts covers 14). They need Node >= 22: on an older Node the test says so and checks that
// got's own `engines` is why. tests/node-matrix runs this file on Node 22, 24 and 26.

// A FormData body re-sent after a 401 keeps got's own length handling (clearing `content-length` made
// got 15.0.0–16.0.x send the multipart body with neither a length nor chunked encoding).
const HOST_VERSIONS = [
  { alias: 'got-15-oldest', load: () => import('got-15-oldest') },
  { alias: 'got-15', load: () => import('got-15') },
  { alias: 'got-16-oldest', load: () => import('got-16-oldest') },
  { alias: 'got-16', load: () => import('got-16') },
] as const;

// got's exports map has no ./package.json: read it from the alias' folder.
const manifestOf = (alias: string) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${alias}/package.json`, import.meta.url), 'utf8')) as {
    version: string;
    engines?: { node?: string };
  };
/** The lowest Node a `>=22` / `^22.12.0 || …` engines range admits, as [major, minor]. */
const lowestNode = (range: string) => {
  const [, major = '0', minor = '0'] = /(\d+)(?:\.(\d+))?/.exec(range) ?? [];
  return [Number(major), Number(minor)] as const;
};
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
const nodeAdmits = (range: string) => {
  const [major, minor] = lowestNode(range);
  return nodeMajor > major || (nodeMajor === major && nodeMinor >= minor);
};

// got has no Blob body (string, Buffer, typed array, FormData, streams and iterables only).
const bodies = [
  'json',
  'text',
  'urlencoded',
  'arraybuffer',
  'uint8array',
  'formdata',
  'web-stream',
  'node-stream',
] as const;

describe('@eka/auth-got contract on got 15 and 16', () => {
  for (const { alias, load } of HOST_VERSIONS) {
    const { version, engines } = manifestOf(alias);
    const range = engines?.node ?? '*';
    if (!nodeAdmits(range)) {
      it(`got ${version}: NOT RUN on Node ${process.versions.node} — got needs Node ${range} (tests/node-matrix runs it)`, () => {
        expect(nodeAdmits(range), `got ${version} accepts this Node now: run its contract here`).toBe(false);
      });
      continue;
    }
    runAdapterContract(
      `@eka/auth-got with got ${version}`,
      async ({ auth }) => {
        const client = withEkaAuth((await load()).default as unknown as Got, auth);
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
      { bodies },
    );
  }
});
