import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EkaGateway, StartEkaGatewayOptions } from '@eka/auth-testing';
import { describe, expect, it } from 'vitest';
import type { DiagnosisId } from '../src/diagnoseFailure';
import type { DoctorReport } from '../src/runDoctor';
import { runDoctor } from '../src/runDoctor';
import { envFor, gateway, run, SHARING_KEY } from './helpers';

/** A port nothing listens on (a server that was opened and closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a scenario's setup may return. */
interface Setup {
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

interface Scenario {
  /** The diagnosis expected first (an error unless `warning`). */
  id: DiagnosisId;
  gateway?: StartEkaGatewayOptions;
  /** Sets the gateway up; may return a {@link Setup} (extra env and/or a fetch). */
  setup?: (gw: EkaGateway) => unknown;
  /** Words the summary must contain. */
  says: string[];
  /** Expected exit code. */
  exit: 0 | 1;
  /** What else to check in the report. */
  check?: (report: DoctorReport, gw: EkaGateway) => void;
}

// Failures are injected more often than any retry policy would try, so the outcome does not depend on
// whether the core retries inside a flight; the diagnosis is about the first failure either way. Waits
// stay short (Retry-After 1 s, timeouts of 200 ms) in case a retry honours them.
const MANY = 10;

const SCENARIOS: Record<string, Scenario> = {
  'rejected credentials (Eka’s HTTP 500 with code 400)': {
    id: 'credentials-rejected',
    setup: () => ({ env: { EKA_CLIENT_SECRET: 'wrong-secret-value' } }),
    says: ['HTTP 500', 'code 400', 'invalid credentials'],
    exit: 1,
    check: (report) => {
      expect(report.login).toMatchObject({ ok: false, status: 500, code: 'CREDENTIALS_REJECTED' });
      expect(report.refresh).toBeNull();
      expect(report.requestIds.map((r) => r.step)).toEqual(['login']);
    },
  },
  'rejected credentials with a sharing key (the key is not the problem)': {
    id: 'credentials-rejected',
    setup: () => ({ env: { EKA_CLIENT_SECRET: 'wrong-secret-value', EKA_SHARING_KEY: SHARING_KEY } }),
    says: ['client credentials'],
    exit: 1,
    check: (report) => {
      expect(report.requestIds.map((r) => r.step)).toEqual(['login', 'login-without-sharing-key']);
    },
  },
  'injected bad-credentials answer': {
    id: 'credentials-rejected',
    setup: (gw) => gw.control.failNext('login', MANY, 'bad-credentials'),
    says: ['HTTP 500', 'how Eka answers invalid credentials'],
    exit: 1,
  },
  'rejected sharing key': {
    id: 'sharing-key-rejected',
    setup: () => ({ env: { EKA_SHARING_KEY: 'not-a-sharing-key-9876' } }),
    says: ['sharing key', 'without it'],
    exit: 1,
    check: (report) => expect(report.sharingKey).toBe(true),
  },
  'refresh rejected (refresh tokens revoked after login)': {
    id: 'refresh-rejected',
    setup: (gw) => ({
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        if (String(input).endsWith('/login')) gw.control.revokeRefreshTokens();
        return response;
      },
    }),
    says: ['refresh v2', 'HTTP 401'],
    exit: 1,
    check: (report) => {
      expect(report.login?.ok).toBe(true);
      expect(report.refresh).toMatchObject({ ok: false, status: 401, fallbackLogin: 'ok' });
      expect(report.requestIds.map((r) => r.step)).toEqual(['login', 'refresh', 'fallback-login']);
    },
  },
  'refresh rejected the Eka way (HTTP 500, code 400)': {
    id: 'refresh-rejected',
    setup: (gw) => gw.control.failNext('refresh', MANY, 'bad-credentials'),
    says: ['HTTP 500', 'code 400'],
    exit: 1,
  },
  'connection reset': {
    id: 'network-connection',
    setup: (gw) => gw.control.failNext('login', MANY, 'reset'),
    says: ['no HTTP answer'],
    exit: 1,
    check: (report) => expect(report.login).toMatchObject({ ok: false, code: 'TRANSIENT' }),
  },
  'connection refused': {
    id: 'network-connection',
    setup: async () => ({ env: { EKA_BASE_URL: `http://127.0.0.1:${await closedPort()}` } }),
    says: ['ECONNREFUSED'],
    exit: 1,
  },
  'DNS failure': {
    id: 'network-dns',
    setup: () => ({ env: { EKA_BASE_URL: 'https://eka-auth-doctor-test.invalid' } }),
    says: ['eka-auth-doctor-test.invalid', 'could not be resolved'],
    exit: 1,
  },
  'TLS failure (https to a plain-http port)': {
    id: 'network-tls',
    setup: (gw) => ({ env: { EKA_BASE_URL: gw.url.replace('http:', 'https:') } }),
    says: ['TLS'],
    exit: 1,
  },
  'timeout (the login hangs)': {
    id: 'timeout',
    setup: (gw) => {
      gw.control.failNext('login', MANY, 'hang');
      return { env: { EKA_TIMEOUT_MS: '200' } };
    },
    says: ['within 200 ms'],
    exit: 1,
    check: (report) => expect(report.login).toMatchObject({ ok: false, code: 'TIMEOUT' }),
  },
  'rate limited (429 with Retry-After)': {
    id: 'rate-limited',
    setup: (gw) => gw.control.failNext('login', MANY, { status: 429, retryAfterSec: 1 }),
    says: ['HTTP 429', 'Retry-After: 1'],
    exit: 1,
  },
  'gateway 503': {
    id: 'gateway-error',
    setup: (gw) => gw.control.failNext('login', MANY, { status: 503 }),
    says: ['HTTP 503'],
    exit: 1,
  },
  'proxy error page (502, HTML)': {
    id: 'gateway-error',
    setup: (gw) => gw.control.failNext('login', MANY, { status: 502, body: '<html>Bad gateway</html>' }),
    says: ['HTTP 502', 'non-JSON'],
    exit: 1,
  },
  'refresh answered 503': {
    id: 'gateway-error',
    setup: (gw) => gw.control.failNext('refresh', MANY, { status: 503 }),
    says: ['refresh (v2)', 'HTTP 503'],
    exit: 1,
    check: (report) => expect(report.refresh).toMatchObject({ ok: false, status: 503 }),
  },
  'not an Eka gateway (404 page)': {
    id: 'not-eka-gateway',
    setup: (gw) => gw.control.failNext('login', MANY, { status: 404, body: 'Not Found' }),
    says: ['HTTP 404', 'does not look like'],
    exit: 1,
  },
  redirect: {
    id: 'redirected',
    setup: (gw) => gw.control.failNext('login', MANY, { status: 301, body: '' }),
    says: ['HTTP 301'],
    exit: 1,
  },
  'http base URL refused': {
    id: 'insecure-url',
    setup: () => ({ env: { EKA_BASE_URL: 'http://api.eka.care' } }),
    says: ['https'],
    exit: 1,
    check: (report) => {
      expect(report.login).toBeNull();
      expect(report.origin).toBe('http://api.eka.care');
    },
  },
  'no refresh token at login': {
    id: 'no-refresh-token',
    gateway: { minimalLoginResponse: true },
    says: ['refresh_token'],
    exit: 1,
    check: (report) => {
      expect(report.login).toMatchObject({
        ok: true,
        accessTokenLifetimeFrom: 'jwt',
        refreshTokenIssued: false,
      });
      expect(report.refresh).toBeNull();
    },
  },
  'clock offset (gateway 2 minutes ahead)': {
    id: 'clock-offset',
    setup: () => ({
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        const headers = new Headers(response.headers);
        headers.set('date', new Date(Date.now() + 120_000).toUTCString());
        return new Response(await response.text(), { status: response.status, headers });
      },
    }),
    says: ['behind'],
    exit: 0,
    check: (report) => {
      expect(report.ok).toBe(true);
      expect(report.clockOffsetMs).toBeGreaterThan(115_000);
      expect(report.clockOffsetMs).toBeLessThan(125_000);
    },
  },
  'one 503 at login, retried by the library': {
    id: 'gateway-error',
    setup: (gw) => gw.control.failNext('login', 1, { status: 503 }),
    says: ['A first attempt failed and a retry worked', 'HTTP 503'],
    exit: 0,
    check: (report) => {
      expect(report.login).toMatchObject({ ok: true, attempts: 2, status: 200 });
      expect(report.requestIds.map((r) => [r.step, r.status])).toEqual([
        ['login', 503],
        ['login', 200],
        ['refresh', 200],
      ]);
    },
  },
  'one reset at refresh, retried by the library': {
    id: 'network-connection',
    setup: (gw) => gw.control.failNext('refresh', 1, 'reset'),
    says: ['A first attempt failed and a retry worked'],
    exit: 0,
    check: (report) => expect(report.refresh).toMatchObject({ ok: true, attempts: 2 }),
  },
  'base URL with a path': {
    id: 'base-url-path-ignored',
    setup: (gw) => ({ env: { EKA_BASE_URL: `${gw.url}/v1/` } }),
    says: ['only its origin'],
    exit: 0,
  },
};

describe('eka-auth doctor', () => {
  it('reports a working integration: latency, lifetimes, claims, clock offset, request ids; exit 0', async () => {
    const gw = await gateway({ accessTokenTtlSec: 600, refreshTokenTtlSec: 7200 });
    const result = await run(['doctor', '--json'], envFor(gw));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report).toMatchObject({
      ok: true,
      baseUrl: gw.url,
      origin: gw.url,
      clientId: 'demo-client',
      sharingKey: false,
      login: {
        ok: true,
        attempts: 1,
        status: 200,
        accessTokenLifetimeSec: 600,
        accessTokenLifetimeFrom: 'expires_in',
        refreshTokenLifetimeSec: 7200,
        refreshTokenIssued: true,
      },
      refresh: { ok: true, attempts: 1, status: 200, accessTokenLifetimeSec: 600, refreshTokenRotated: true },
      claims: { 'c-id': 'demo-client' },
      diagnoses: [],
    });
    expect(report.claims!.exp! - report.claims!.iat!).toBe(600);
    expect(report.login!.durationMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(report.clockOffsetMs!)).toBeLessThanOrEqual(1500);
    expect(report.requestIds).toEqual([
      { step: 'login', status: 200, requestId: report.login!.requestId },
      { step: 'refresh', status: 200, requestId: report.refresh!.requestId },
    ]);
    expect(report.login!.requestId).toMatch(/\S/);
    expect(gw.stats).toMatchObject({ logins: { ok: 1 }, refreshes: { ok: 1 }, v1Refreshes: 0 });
    expect(gw.stats.protocolViolations).toEqual([]);
    expect(result.leaks).toEqual([]);
  });

  it('works with an accepted sharing key (and never shows it)', async () => {
    const gw = await gateway();
    const result = await run(['doctor'], envFor(gw, { EKA_SHARING_KEY: SHARING_KEY }));
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('sharing key    given (not shown)');
    expect(result.leaks).toEqual([]);
  });

  it('prints a readable report without colours when stdout is not a terminal', async () => {
    const gw = await gateway();
    const result = await run(['doctor'], envFor(gw));
    expect(result.code).toBe(0);
    for (const text of [
      '✔ login',
      '✔ refresh (v2)',
      'lifetime 1800 s',
      'c-id demo-client',
      'clock offset',
      'OK:',
    ]) {
      expect(result.stdout).toContain(text);
    }
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('uses colours on a terminal, and never with NO_COLOR', async () => {
    const gw = await gateway();
    expect((await run(['doctor'], envFor(gw), { isTTY: true })).stdout).toContain('\u001b[32m');
    const plain = await run(['doctor'], envFor(gw, { NO_COLOR: '1' }), { isTTY: true });
    expect(plain.stdout).not.toContain('\u001b[');
  });

  describe.each(Object.entries(SCENARIOS))('%s', (_name, scenario) => {
    it(`diagnoses ${scenario.id}, exits ${scenario.exit} and leaks no secret (text and --json)`, async () => {
      const gw = await gateway(scenario.gateway);
      const { env = {}, fetch } = ((await scenario.setup?.(gw)) ?? {}) as Setup;
      const json = await run(['doctor', '--json'], envFor(gw, env), { fetch });
      expect(json.code, json.stdout).toBe(scenario.exit);
      const report = JSON.parse(json.stdout) as DoctorReport;
      const [diagnosis] = report.diagnoses;
      expect(diagnosis, json.stdout).toMatchObject({
        id: scenario.id,
        severity: scenario.exit === 0 ? 'warning' : 'error',
      });
      for (const words of scenario.says) expect(diagnosis!.summary).toContain(words);
      expect(diagnosis!.nextStep.length).toBeGreaterThan(20);
      expect(report.ok).toBe(scenario.exit === 0);
      scenario.check?.(report, gw);
      expect(json.leaks).toEqual([]);

      // The same run as text: same diagnosis, no secret either.
      const gwText = await gateway(scenario.gateway);
      const again = ((await scenario.setup?.(gwText)) ?? {}) as Setup;
      const text = await run(['doctor'], envFor(gwText, again.env ?? {}), { fetch: again.fetch });
      expect(text.code).toBe(scenario.exit);
      expect(text.stdout).toContain(`${scenario.id}: `);
      expect(text.stdout).toContain('next step: ');
      expect(text.leaks).toEqual([]);
    });
  });
});

describe('runDoctor', () => {
  it('reports a configuration the core refuses', async () => {
    const report = await runDoctor({ clientId: '', clientSecret: 'secret-value-1' });
    expect(report.diagnoses).toMatchObject([{ id: 'config-invalid', code: 'CONFIG_INVALID' }]);
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report)).not.toContain('secret-value-1');
  });

  it('defaults to the production gateway', async () => {
    const report = await runDoctor({
      clientId: 'c',
      clientSecret: 's',
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('offline'), { code: 'ENETUNREACH' }),
        });
      },
    });
    expect(report).toMatchObject({ baseUrl: 'https://api.eka.care', origin: 'https://api.eka.care' });
    expect(report.diagnoses).toMatchObject([
      { id: 'network-connection', summary: expect.stringContaining('ENETUNREACH') },
    ]);
  });
});
