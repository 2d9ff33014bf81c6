import { createEkaAuth } from '@eka/auth-core';
import { installGlobalFetch } from '@eka/auth-fetch';
import { type AcmeResult, createAcmeRecords } from './acme-records-sdk';

/** What the app needs: where Eka is, its credentials, and what the SDK talks to. */
export interface AppConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The Eka API path the SDK reads. */
  apiPath: string;
  /** The SDK vendor's telemetry endpoint: another origin, which must never see the token. */
  telemetryUrl: string;
  log?: (line: string) => void;
}

export interface AppResult {
  /** `globalThis.fetch` was replaced while installed. */
  installed: boolean;
  /** The SDK's Eka call (authenticated by the global fetch). */
  eka: AcmeResult;
  /** The SDK's call to the other origin (sent untouched: no token). */
  telemetry: AcmeResult;
  /** After `uninstall()`, `globalThis.fetch` is the original function again. */
  restored: boolean;
  /** The same SDK call after `uninstall()`: plain fetch again, so no token (Eka answers 401). */
  afterUninstall: AcmeResult;
}

/**
 * Install the authenticated global fetch, let the unmodified SDK work, then uninstall it.
 * In a real app `installGlobalFetch(auth)` is the first thing the entry point does, and `uninstall()`
 * is rarely needed (tests, hot reload, shutting one tenant down).
 */
export async function runApp(config: AppConfig): Promise<AppResult> {
  const log = config.log ?? (() => {});
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
  });
  const original = globalThis.fetch;
  const uninstall = installGlobalFetch(auth); // tokens for Eka origins only; everything else untouched
  const installed = globalThis.fetch !== original;
  log(`installGlobalFetch(auth): globalThis.fetch ${installed ? 'is now wrapped' : 'was NOT replaced'}`);

  const sdk = createAcmeRecords({ apiBase: config.baseUrl, telemetryUrl: config.telemetryUrl });
  try {
    let eka: AcmeResult;
    let telemetry: AcmeResult;
    try {
      eka = await sdk.lookup(config.apiPath);
      log(`SDK → Eka ${config.apiPath}: HTTP ${eka.status} (the wrapper logged in and added the token)`);
      telemetry = await sdk.reportUsage('lookup');
      log(`SDK → ${new URL(config.telemetryUrl).origin}: HTTP ${telemetry.status} (sent untouched)`);
    } finally {
      uninstall();
    }
    const restored = globalThis.fetch === original;
    log(`uninstall(): globalThis.fetch ${restored ? 'is the original function again' : 'was NOT restored'}`);
    const afterUninstall = await sdk.lookup(config.apiPath);
    log(`SDK → Eka ${config.apiPath} after uninstall: HTTP ${afterUninstall.status} (plain fetch, no token)`);
    return { installed, eka, telemetry, restored, afterUninstall };
  } finally {
    auth.dispose();
  }
}
