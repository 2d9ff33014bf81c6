import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EkaGateway } from '../src';
import { LOGIN, login, startGateway } from './helpers';

const REFRESH = '/connect-auth/v1/account/refresh-token';
const json = { 'content-type': 'application/json' };

/** A raw node:http call (fetch refuses some methods and bodies). */
function raw(gateway: EkaGateway, method: string, path: string, body?: string | Buffer, headers = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${gateway.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes sent on a raw TCP connection; the answer, or '' when the connection is dropped first. */
function rawSocket(gateway: EkaGateway, bytes: string, dropAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1', () => {
      if (dropAfterMs === undefined) return void socket.end(bytes);
      socket.write(bytes);
      setTimeout(() => socket.destroy(), dropAfterMs);
    });
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
}

const cases: Array<[string, string, string, string | Buffer | undefined, Record<string, string>, number]> = [
  ['malformed JSON', 'POST', LOGIN, '{"client_id":', json, 400],
  ['a JSON array', 'POST', LOGIN, '[1,2]', json, 400],
  ['JSON null', 'POST', LOGIN, 'null', json, 400],
  ['invalid UTF-8', 'POST', LOGIN, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), json, 400],
  ['an empty body', 'POST', LOGIN, '', json, 400],
  [
    'a form body',
    'POST',
    LOGIN,
    'client_id=a&client_secret=b',
    { 'content-type': 'application/x-www-form-urlencoded' },
    415,
  ],
  ['no content type', 'POST', LOGIN, '{}', {}, 415],
  ['missing client_secret', 'POST', LOGIN, '{"client_id":"demo-client"}', json, 400],
  ['numeric client_id', 'POST', LOGIN, '{"client_id":1,"client_secret":"x"}', json, 400],
  [
    'an object sharing_key',
    'POST',
    LOGIN,
    '{"client_id":"a","client_secret":"b","sharing_key":{}}',
    json,
    400,
  ],
  ['a GET login', 'GET', LOGIN, undefined, {}, 405],
  ['a PROPFIND login', 'PROPFIND', LOGIN, undefined, {}, 405],
  ['a DELETE refresh', 'DELETE', REFRESH, undefined, {}, 405],
  ['an unknown path', 'GET', '/nope', undefined, {}, 404],
  ['a TRACE', 'TRACE', LOGIN, undefined, {}, 400],
  ['a double-slash path', 'GET', '//evil.test/x', undefined, {}, 404],
];

describe('bad input', () => {
  it.each(cases)(
    'answers %s with a 4xx { code, error }',
    async (_name, method, path, body, headers, status) => {
      const gateway = await startGateway();
      const res = await raw(gateway, method, path, body, headers);
      expect(res.status).toBe(status);
      expect(JSON.parse(res.body)).toEqual({ code: status, error: expect.any(String) });
    },
  );

  it('answers 400 to a refresh without refresh_token', async () => {
    const gateway = await startGateway();
    const tokens = await login(gateway);
    const headers = { ...json, authorization: `Bearer ${tokens.access_token}`, 'client-id': 'demo-client' };
    const res = await raw(
      gateway,
      'POST',
      REFRESH,
      JSON.stringify({ access_token: tokens.access_token }),
      headers,
    );
    expect([res.status, JSON.parse(res.body)]).toEqual([
      400,
      { code: 400, error: 'refresh_token is required' },
    ]);
  });

  it('answers 413 to a declared oversized body and keeps the connection usable', async () => {
    const gateway = await startGateway({ maxBodyBytes: 1000 });
    const res = await fetch(`${gateway.url}${LOGIN}`, {
      method: 'POST',
      headers: json,
      body: 'x'.repeat(5000),
    });
    expect([res.status, await res.json()]).toEqual([413, { code: 413, error: 'request body too large' }]);
    expect((await login(gateway)).access_token).toBeTruthy();
  });

  it('answers 413 to a streamed (chunked) oversized body', async () => {
    const gateway = await startGateway({ maxBodyBytes: 1000 });
    const parts = ['{"client_id":"', 'x'.repeat(800), 'x'.repeat(800), '"}'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const init = { method: 'POST', headers: json, body, duplex: 'half' } as RequestInit;
    const res = await fetch(`${gateway.url}${LOGIN}`, init);
    expect(res.status).toBe(413);
    expect((await login(gateway)).access_token).toBeTruthy();
  });

  it('survives garbage on the socket and a client that disconnects mid-body', async () => {
    const gateway = await startGateway();
    expect(await rawSocket(gateway, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const partial = `POST ${LOGIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"cli`;
    expect(await rawSocket(gateway, partial, 50)).toBe('');
    expect(gateway.stats.requests).toBe(1);
    expect((await login(gateway)).access_token).toBeTruthy();
  });

  it('stays healthy after the whole battery', async () => {
    const gateway = await startGateway();
    for (const [, method, path, body, headers] of cases) await raw(gateway, method, path, body, headers);
    expect((await login(gateway)).access_token).toBeTruthy();
    expect(gateway.stats.logins.ok).toBe(1);
  });
});
