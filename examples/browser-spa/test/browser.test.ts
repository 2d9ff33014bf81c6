import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallResult } from '../src/page/main.ts';
import { serveApp } from '../src/server/serveApp.ts';
import { createTokenBackend } from '../src/server/tokenBackend.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const SCREENSHOT = join(exampleDir, 'screenshot.png');
/** Access token lifetime at the emulator: short, so expiry happens during the test. */
const TTL_SEC = 6;
const STORAGE_KEY = 'eka-auth:browser-spa';

let browser: Browser;
let outDir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser tests drive Debian's Chromium: install it with ` +
        '`apt-get install -y chromium` (or point CHROMIUM_PATH at another Chromium).',
    );
  }
  outDir = mkdtempSync(join(tmpdir(), 'eka-browser-spa-'));
  await build({ root: exampleDir, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh emulator, backend + built page on 127.0.0.1, and a fresh browser context (one profile). */
async function startApp() {
  const gateway: EkaGateway = await startEkaGateway({ accessTokenTtlSec: TTL_SEC });
  cleanups.push(() => gateway.close());
  const backend = createTokenBackend({
    gatewayUrl: gateway.url,
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    publicConfig: { gatewayUrl: gateway.url, foreignUrl: gateway.foreignUrl },
  });
  const app = await serveApp({ root: outDir, backend, connectTo: [gateway.url, gateway.foreignUrl] });
  cleanups.push(() => app.close());
  const context: BrowserContext = await browser.newContext({ viewport: { width: 820, height: 720 } });
  cleanups.push(() => context.close());
  const pageErrors: string[] = [];
  const appResponses: { path: string; body: string }[] = [];
  context.on('response', (response) => {
    if (!response.url().startsWith(app.url)) return;
    const path = new URL(response.url()).pathname;
    void response.text().then((body) => appResponses.push({ path, body }), noop);
  });
  const open = async (query = '') => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${app.url}/${query}`);
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  };
  return { gateway, app, context, open, pageErrors, appResponses };
}

const noop = () => {};
const callApi = (page: Page): Promise<CallResult> => page.evaluate(() => window.spa.callApi());
const snapshot = (page: Page) => page.evaluate(() => window.spa.snapshot());
const text = async (page: Page, id: string) => (await page.textContent(`#${id}`))?.trim();
const waitForState = (page: Page, state: string) =>
  page.waitForFunction((wanted) => window.spa.snapshot().state === wanted, state);

/** Sign in with the button and wait for the page to show a valid session. */
async function signIn(page: Page) {
  await page.click('#signin');
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'valid');
}

/** Wait (real time: the browser's clock) until the page's access token has expired. */
async function waitForExpiry(page: Page) {
  const { expiresAt } = await snapshot(page);
  expect(expiresAt).toBeTypeOf('number');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt! - Date.now()) + 100));
}

describe('browser SPA in headless Chromium', () => {
  it('signs in through the backend and calls the Eka API; no secret or refresh token reaches the page', async () => {
    const { gateway, open, pageErrors, appResponses } = await startApp();
    const page = await open();
    expect(await text(page, 'state')).toBe('unauthenticated');
    await signIn(page);
    await page.click('#call');
    await page.waitForFunction(() => document.getElementById('last-call')?.textContent?.startsWith('200'));
    expect(await callApi(page)).toMatchObject({ ok: true, status: 200, generation: 1 });
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.refreshes.ok).toBe(0);
    expect(gateway.stats.apiCalls.ok).toBe(2);
    expect(gateway.stats.protocolViolations).toEqual([]);

    const stored = JSON.parse((await page.evaluate((key) => localStorage.getItem(key), STORAGE_KEY))!);
    expect(stored).toMatchObject({ v: 1, accessToken: expect.any(String), expiresAt: expect.any(Number) });
    expect(stored.refreshToken).toBeUndefined();
    // What the backend handed the page: an access token and its lifetime, nothing else.
    const tokenAnswers = appResponses
      .filter((r) => r.path === '/session/token')
      .map((r) => JSON.parse(r.body));
    expect(tokenAnswers.length).toBeGreaterThan(0);
    for (const answer of tokenAnswers)
      expect(Object.keys(answer).sort()).toEqual(['accessToken', 'expiresIn']);
    const secret = gateway.credentials.clientSecret;
    const assets = readdirSync(join(outDir, 'assets')).map((f) =>
      readFileSync(join(outDir, 'assets', f), 'utf8'),
    );
    const leaked = [...appResponses.map((r) => r.body), ...assets].filter((body) => body.includes(secret));
    expect(leaked).toHaveLength(0);
    expect(pageErrors).toEqual([]);
  });

  it('refreshes an expired token once (through the backend) and keeps calling', async () => {
    const { gateway, open, pageErrors } = await startApp();
    const page = await open();
    await signIn(page);
    expect(await callApi(page)).toMatchObject({ ok: true, generation: 1 });
    await waitForExpiry(page);
    expect(await callApi(page)).toMatchObject({ ok: true, generation: 2 });
    expect(await callApi(page)).toMatchObject({ ok: true, generation: 2 });
    expect(gateway.stats.refreshes).toMatchObject({ ok: 1, rejected: 0, reused: 0 });
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.apiCalls.unauthorized).toBe(0);
    expect((await snapshot(page)).generation).toBe(2);
    await page.evaluate(() => window.spa.callForeign());
    await page.screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });

  describe.each([
    ['the Web Locks API', '', 'Web Locks API'],
    ['the localStorage lease (no Web Locks)', '?locks=off', 'lease in localStorage (no Web Locks)'],
  ])('two tabs with %s', (_, query, lockLabel) => {
    it('hit expiry together: exactly one refresh at the gateway, both tabs adopt it', async () => {
      const { gateway, open, pageErrors } = await startApp();
      const a = await open(query);
      await signIn(a);
      const b = await open(query);
      await waitForState(b, 'valid'); // from localStorage: no login of its own
      expect(await text(b, 'locks')).toBe(lockLabel);
      expect(gateway.stats.logins.ok).toBe(1);
      // A slow refresh makes sure both tabs are inside their refresh at the same time.
      gateway.control.setLatency('refresh', 400);
      await waitForExpiry(a);
      const results = await Promise.all([callApi(a), callApi(b)]);
      expect(results).toMatchObject([
        { ok: true, generation: 2 },
        { ok: true, generation: 2 },
      ]);
      expect(gateway.stats.refreshes).toMatchObject({ ok: 1, rejected: 0, reused: 0 });
      expect(gateway.stats.logins.ok).toBe(1);
      expect(gateway.stats.apiCalls.unauthorized).toBe(0);
      expect(pageErrors).toEqual([]);
    });
  });

  it('the control: without a cross-tab lock the same two tabs burn the refresh token', async () => {
    const { gateway, open } = await startApp();
    const a = await open('?coordination=off');
    await signIn(a);
    const b = await open('?coordination=off');
    await waitForState(b, 'valid');
    gateway.control.setLatency('refresh', 1_000);
    await waitForExpiry(a);
    await Promise.all([callApi(a), callApi(b)]);
    // Both tabs presented the same rotating refresh token: the second was caught as reused.
    expect(gateway.stats.refreshes.reused).toBe(1);
    expect(gateway.stats.logins.ok).toBe(2);
  });

  it('logout in one tab logs the other tab out (and its backend session ends)', async () => {
    const { gateway, open, pageErrors } = await startApp();
    const a = await open();
    await signIn(a);
    const b = await open();
    await waitForState(b, 'valid');
    expect(await callApi(b)).toMatchObject({ ok: true });
    await a.click('#signout');
    await waitForState(b, 'unauthenticated');
    await b.waitForFunction(() => document.getElementById('state')?.textContent === 'unauthenticated');
    expect(await b.evaluate((key) => localStorage.getItem(key), STORAGE_KEY)).toBeNull();
    // Tab B cannot quietly log in again: the backend session is gone.
    expect(await callApi(b)).toMatchObject({ ok: false, error: 'CREDENTIALS_REJECTED' });
    expect(await text(b, 'state')).toBe('failed');
    expect(gateway.stats.logins.ok).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('never sends the token to another origin the page calls', async () => {
    const { gateway, context, open, pageErrors } = await startApp();
    const foreign: { path: string; tokenHeaders: string[] }[] = [];
    context.on('request', (request) => {
      if (!request.url().startsWith(gateway.foreignUrl)) return;
      void request.allHeaders().then((headers) => {
        const tokenHeaders = Object.keys(headers).filter(
          (name) => name === 'auth' || name === 'authorization',
        );
        foreign.push({ path: new URL(request.url()).pathname, tokenHeaders });
      }, noop);
    });
    const page = await open();
    await signIn(page);
    expect(await callApi(page)).toMatchObject({ ok: true });
    await page.click('#foreign');
    await page.waitForFunction(() => document.getElementById('foreign-call')?.textContent !== '—');
    expect(await text(page, 'foreign-call')).toContain('sent without a token');
    expect(await page.evaluate(() => window.spa.callForeign())).toMatchObject({ tokenAttached: false });
    await expect.poll(() => gateway.stats.foreignRequests).toBe(2);
    expect(gateway.stats.tokenLeaks).toBe(0);
    await expect.poll(() => foreign.length).toBe(2);
    expect(foreign).toEqual([
      { path: '/landing', tokenHeaders: [] },
      { path: '/landing', tokenHeaders: [] },
    ]);
    // The control: this recorder does see a token header the page sets itself.
    await page.evaluate(
      (url) =>
        fetch(`${url}/control`, { headers: { authorization: 'Bearer not-a-token' } }).catch(() => undefined),
      gateway.foreignUrl,
    );
    await expect
      .poll(() => foreign.find((r) => r.path === '/control')?.tokenHeaders)
      .toEqual(['authorization']);
    expect(pageErrors).toEqual([]);
  });
});
