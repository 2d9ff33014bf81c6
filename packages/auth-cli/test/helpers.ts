import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EkaGateway, type StartEkaGatewayOptions, startEkaGateway } from '@eka/auth-testing';
import { afterEach } from 'vitest';
import { runCli } from '../src/runCli';

/** The sharing key the test gateways accept (besides the demo one). */
export const SHARING_KEY = 'test-sharing-key-0123456789';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A gateway emulator on loopback, closed after the test. Accepts {@link SHARING_KEY} too. */
export async function gateway(options: StartEkaGatewayOptions = {}): Promise<EkaGateway> {
  const started = await startEkaGateway({ sharingKeys: { [SHARING_KEY]: 'ws-shared' }, ...options });
  cleanups.push(() => started.close());
  return started;
}

/** A temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eka-auth-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fetch that remembers every token the gateway hands out (to search outputs for them). */
function recordingFetch(inner: typeof fetch = globalThis.fetch) {
  const tokens = { access: [] as string[], refresh: [] as string[] };
  const calls: string[] = [];
  const wrapped = async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(new URL(String(input)).pathname);
    const response = await inner(input, init);
    const text = await response.clone().text();
    try {
      const body = JSON.parse(text);
      if (typeof body?.access_token === 'string') tokens.access.push(body.access_token);
      if (typeof body?.refresh_token === 'string') tokens.refresh.push(body.refresh_token);
    } catch {
      // not JSON: nothing to remember
    }
    return response;
  };
  return { fetch: wrapped as typeof fetch, tokens, calls };
}

/** What one in-process `eka-auth` run wrote. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Secrets and tokens (by kind) found in stdout/stderr where they must not be. */
  leaks: string[];
}

/** Environment for a gateway: the demo credentials and its URL. */
export function envFor(gw: EkaGateway, extra: Record<string, string | undefined> = {}) {
  return {
    EKA_CLIENT_ID: gw.credentials.clientId,
    EKA_CLIENT_SECRET: gw.credentials.clientSecret,
    EKA_BASE_URL: gw.url,
    HOME: '/nonexistent-home',
    ...extra,
  };
}

/**
 * Runs `eka-auth` in this process with `env` and a recording fetch, and searches everything it wrote
 * for the client secret, the sharing key, every refresh token and (except the token command's stdout)
 * every access token the gateway issued.
 */
export async function run(
  argv: string[],
  env: Record<string, string | undefined>,
  options: { fetch?: typeof fetch; isTTY?: boolean } = {},
): Promise<CliRun> {
  const recorder = recordingFetch(options.fetch);
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    fetch: recorder.fetch,
    stdout: { write: (text: string) => (stdout += text), isTTY: options.isTTY },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.isTTY },
  });
  const leaks: string[] = [];
  const secrets: [string, string | undefined][] = [
    ['client secret', env.EKA_CLIENT_SECRET],
    ['sharing key', env.EKA_SHARING_KEY],
    ...recorder.tokens.refresh.map((token): [string, string] => ['refresh token', token]),
  ];
  for (const [what, secret] of secrets) {
    if (secret && (stdout.includes(secret) || stderr.includes(secret))) leaks.push(what);
  }
  const tokenCommand = argv.includes('token');
  for (const token of recorder.tokens.access) {
    if (stderr.includes(token) || (!tokenCommand && stdout.includes(token))) leaks.push('access token');
  }
  return { code, stdout, stderr, leaks };
}
