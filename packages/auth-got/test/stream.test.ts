import { readFileSync } from 'node:fs';
import { createEkaAuth, type EkaAuth, EkaAuthError, type EkaAuthEvent } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import type { Got, StreamOptions } from 'got';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withEkaAuth } from '../src/index';

// `got.stream()` runs no `afterResponse` hooks: its 401 reaches `beforeError` as an HTTPError (or, with
// `throwHttpErrors: false`, the caller as a response). Every got the peer range names; got 15 and 16
// need Node >= 22 (tests/node-matrix runs this file there).
const VERSIONS = [
  { alias: 'got', load: () => import('got') },
  { alias: 'got-oldest', load: () => import('got-oldest') },
  { alias: 'got-15-oldest', load: () => import('got-15-oldest') },
  { alias: 'got-15', load: () => import('got-15') },
  { alias: 'got-16-oldest', load: () => import('got-16-oldest') },
  { alias: 'got-16', load: () => import('got-16') },
] as const;

const manifestOf = (alias: string) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${alias}/package.json`, import.meta.url), 'utf8')) as {
    version: string;
    engines?: { node?: string };
  };
const [nodeMajor = 0] = process.versions.node.split('.').map(Number);
const nodeAdmits = (range: string) => nodeMajor >= Number(/\d+/.exec(range)?.[0] ?? 0);

/** Read one `got.stream()` to its end: the status it answered, its body, or the error it emitted. */
function read(client: Got, url: string, options?: StreamOptions) {
  return new Promise<{ status?: number; body: string; error?: any }>((resolve) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    const stream = client.stream(url, options);
    stream.on('response', (response) => {
      status = response.statusCode;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
    stream.on('error', (error) => resolve({ status, body: Buffer.concat(chunks).toString(), error }));
  });
}

for (const { alias, load } of VERSIONS) {
  const { version, engines } = manifestOf(alias);
  const range = engines?.node ?? '*';
  describe.skipIf(!nodeAdmits(range))(`got.stream() with got ${version} (needs Node ${range})`, () => {
    let gateway: EkaGateway;
    let auth: EkaAuth;
    let api: Got;
    let events: EkaAuthEvent[];

    beforeEach(async () => {
      gateway = await startEkaGateway();
      events = [];
      auth = createEkaAuth({
        clientId: gateway.credentials.clientId,
        clientSecret: gateway.credentials.clientSecret,
        baseUrl: gateway.url,
        header: 'both',
        onEvent: (event) => events.push(event),
      });
      const got = (await load()).default as unknown as Got;
      api = withEkaAuth(got.extend({ prefixUrl: gateway.url }), auth);
    });
    afterEach(async () => {
      auth.dispose();
      await gateway.close();
    });

    it('a 401 refreshes the token and fails with NON_REPLAYABLE_BODY; the next stream gets through', async () => {
      expect(JSON.parse((await read(api, 'api/echo')).body).generation).toBe(1);
      const revoked = await auth.getAccessToken();
      gateway.control.revokeAllAccessTokens();
      const { error, status, body } = await read(api, 'api/echo');
      expect(error).toBeInstanceOf(EkaAuthError);
      expect(error.code).toBe('NON_REPLAYABLE_BODY');
      expect(error.requestId).toBeTruthy();
      expect(status).toBeUndefined(); // no 'response' event and no data: the 401 body is not streamed
      expect(body).toBe('');
      expect(JSON.stringify(error)).not.toContain(revoked);
      expect(String(error)).not.toContain(revoked);
      expect(gateway.stats.refreshes.ok).toBe(1);
      expect(events.filter((event) => event.type === 'unauthorized')).toHaveLength(1);
      for (let i = 0; i < 3; i++) {
        const next = await read(api, 'api/echo');
        expect(next.status).toBe(200);
        expect(JSON.parse(next.body).generation).toBe(2);
      }
      expect(gateway.stats.tokenEndpointCalls).toBe(2); // one login, one refresh
    });

    it('with throwHttpErrors: false the 401 streams as it is, and the token is still refreshed', async () => {
      await read(api, 'api/echo');
      gateway.control.revokeAllAccessTokens();
      const first = await read(api, 'api/echo', { throwHttpErrors: false });
      expect(first.error).toBeUndefined();
      expect(first.status).toBe(401);
      await expect.poll(() => gateway.stats.refreshes.ok).toBe(1);
      const next = await read(api, 'api/echo', { throwHttpErrors: false });
      expect(next.status).toBe(200);
      expect(JSON.parse(next.body).generation).toBe(2);
    });

    it("a foreign origin's 401 after a redirect is handed back untouched", async () => {
      const to = encodeURIComponent(`${gateway.foreignUrl}/unauthorized`);
      const { error } = await read(api, `api/redirect?to=${to}`);
      expect(error.name).toBe('HTTPError');
      expect(error.response.statusCode).toBe(401);
      expect(gateway.stats.tokenEndpointCalls).toBe(1);
      expect(events.some((event) => event.type === 'unauthorized')).toBe(false);
    });
  });
}
