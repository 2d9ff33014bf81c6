import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import * as core from '../src/index';
import { createEkaAuth, EkaAuthError, type EkaAuthEvent } from '../src/index';
import { fakeEka, manualClock, SECRET } from './fakeEka';

const SHARING = 'sharing-KEY-42';

describe('authorize: allowlist and https', () => {
  const eka = fakeEka();
  const auth = createEkaAuth({ clientId: 'cid', clientSecret: SECRET, fetch: eka.fetch });

  it.each([
    'https://evil.example/steal',
    'https://api.eka.care.evil.com/x',
    'https://api.eka.care@evil.com/x',
    'https://api.eka.care:8443/x',
    'http://api.eka.care/x',
    'https://API.EKA.CARE.evil.com/',
    '/relative/path',
    'not a url',
  ])('gives no token to %s and its 401 triggers nothing', async (url) => {
    const d = await auth.authorize(url);
    expect(d.headers).toBeNull();
    expect(await auth.handleUnauthorized(d)).toEqual({ action: 'pass' });
    expect(eka.calls).toHaveLength(0);
  });

  it.each([
    'https://api.eka.care/x',
    'https://api.eka.care',
    'https://API.eka.care/x',
    'https://api.eka.care:443/x',
    'https://api.eka.care?x=1',
  ])('gives the token to %s', async (url) => {
    expect((await auth.authorize(new URL(url))).headers).not.toBeNull();
    expect((await auth.authorize(url)).headers).not.toBeNull();
  });

  it('honours allowedOrigins (https, or loopback http) and refuses plain http elsewhere', async () => {
    const multi = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: fakeEka().fetch,
      allowedOrigins: ['https://api.eka.care', 'https://partner.example', 'http://127.0.0.1:8080'],
    });
    expect((await multi.authorize('https://partner.example/a')).headers).not.toBeNull();
    expect((await multi.authorize('http://127.0.0.1:8080/a')).headers).not.toBeNull();
    expect((await multi.authorize('http://127.0.0.1:8081/a')).headers).toBeNull();
    expect(() =>
      createEkaAuth({ clientId: 'c', clientSecret: 's', allowedOrigins: ['http://partner.example'] }),
    ).toThrow(expect.objectContaining({ code: 'INSECURE_URL' }));
  });

  it('puts the token where the header policy says', async () => {
    for (const [header, expected] of [
      ['auth', { auth: 'at-1', 'client-id': 'cid' }],
      ['authorization', { authorization: 'Bearer at-1', 'client-id': 'cid' }],
      ['both', { auth: 'at-1', authorization: 'Bearer at-1', 'client-id': 'cid' }],
    ] as const) {
      const a = createEkaAuth({ clientId: 'cid', clientSecret: SECRET, fetch: fakeEka().fetch, header });
      expect((await a.authorize('https://api.eka.care/')).headers).toEqual(expected);
      expect(a.tokenHeaders).toEqual(header === 'both' ? ['auth', 'authorization'] : [header]);
    }
    const noClientId = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: fakeEka().fetch,
      sendClientId: false,
    });
    expect((await noClientId.authorize('https://api.eka.care/')).headers).toEqual({
      auth: 'at-1',
      authorization: 'Bearer at-1',
    });
    // The default is 'both': every Eka service accepts one of the two.
    expect(noClientId.tokenHeaders).toEqual(['auth', 'authorization']);
  });
});

describe('construction: bad input gets a clear error', () => {
  it.each([
    [{ clientId: 'c' }, 'CONFIG_INVALID', /clientSecret is required/],
    [{ clientSecret: 's' }, 'CONFIG_INVALID', /clientId is required/],
    [{ clientId: 'c', clientSecret: 's', longLivedToken: 't' }, 'CONFIG_INVALID', /exactly one/],
    [{ clientId: 'c', clientSecret: 's', baseUrl: 'api.eka.care' }, 'INSECURE_URL', /not an absolute URL/],
    [{ clientId: 'c', clientSecret: 's', baseUrl: 'http://api.eka.care' }, 'INSECURE_URL', /must use https/],
    [{ clientId: 'c', clientSecret: 's', header: 'cookie' }, 'CONFIG_INVALID', /header must be/],
    [{ longLivedToken: '' }, 'CONFIG_INVALID', /longLivedToken/],
    [{ login: 'nope' }, 'CONFIG_INVALID', /login must be a function/],
  ])('%o → %s', (options, code, message) => {
    let error: any;
    try {
      createEkaAuth(options as any);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EkaAuthError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('s3cret');
  });

  it('accepts loopback http for tests', () => {
    expect(() =>
      createEkaAuth({ clientId: 'c', clientSecret: 's', baseUrl: 'http://127.0.0.1:3000' }),
    ).not.toThrow();
    expect(() =>
      createEkaAuth({ clientId: 'c', clientSecret: 's', baseUrl: 'http://localhost:3000' }),
    ).not.toThrow();
  });
});

describe('redaction', () => {
  it('no error, event, snapshot, toString or JSON of anything returned contains a secret or token', async () => {
    const clock = manualClock();
    const events: EkaAuthEvent[] = [];
    const eka = fakeEka();
    const auth = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      sharingKey: SHARING,
      fetch: eka.fetch,
      clock: clock.clock,
      onEvent: (e) => events.push(e),
    });
    const collected: unknown[] = [auth, auth.getSnapshot()];
    const d = await auth.authorize('https://api.eka.care/x');
    const token = d.headers!.authorization!.slice(7);
    // A gateway that echoes secrets in its error messages.
    eka.next('refresh', { status: 400, body: { message: `bad refresh rt-1 for ${SECRET}`, code: 400 } });
    eka.next('login', {
      status: 500,
      body: { message: `invalid credentials ${SECRET} ${SHARING}`, code: 400 },
    });
    collected.push(await auth.handleUnauthorized(d));
    collected.push(await auth.getAccessToken().catch((e) => e));
    collected.push(auth.getSnapshot(), events);
    // Every error type, constructed the way the library constructs them.
    for (const [name, value] of Object.entries(core)) {
      if (typeof value === 'function' && value.prototype instanceof Error) {
        collected.push(
          new (value as any)('TRANSIENT', `${name} happened`, {
            cause: new Error('socket hang up'),
            status: 500,
            requestId: 'r',
          }),
        );
      }
    }
    const dump = collected
      .map((x) => `${JSON.stringify(x)}\n${String(x)}\n${inspect(x, { depth: 8 })}`)
      .join('\n');
    for (const secret of [SECRET, SHARING, token, 'rt-1']) expect(dump).not.toContain(secret);
    expect(dump).toContain('CREDENTIALS_REJECTED');
  });

  it('AbortError and TimeoutError carry the platform names', () => {
    expect(new core.AbortError('ABORTED', 'x').name).toBe('AbortError');
    expect(new core.TimeoutError('TIMEOUT', 'x').name).toBe('TimeoutError');
    expect(new core.CredentialsRejectedError('CREDENTIALS_REJECTED', 'x').name).toBe(
      'CredentialsRejectedError',
    );
  });
});

describe('browser context', () => {
  it('warns when a client secret is used from a browser, not on a server', () => {
    const warnings: string[] = [];
    const onEvent = (e: EkaAuthEvent) => e.type === 'warning' && warnings.push(e.message);
    createEkaAuth({ clientId: 'c', clientSecret: SECRET, onEvent }).dispose();
    expect(warnings).toEqual([]);
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    try {
      createEkaAuth({ clientId: 'c', clientSecret: SECRET, onEvent }).dispose();
      createEkaAuth({ login: async () => ({ accessToken: 'from-backend' }), onEvent }).dispose();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/client secret is being used in a browser/);
    expect(warnings[0]).not.toContain(SECRET);
  });
});
