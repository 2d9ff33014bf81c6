import { createEkaAuth, type EkaAuth } from '@eka/auth-core';
import { ekaAuthMiddleware, type WithEkaAuth } from '@eka/auth-openapi-fetch';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './eka-api.generated';

/**
 * Eka's paths without the `Authorization` / `client-id` header parameters the spec marks as required:
 * the middleware sets them.
 */
export type EkaApi = WithEkaAuth<paths>;

/** A typed client for Eka's authorization API that logs in, refreshes and retries a 401 once. */
export function createEkaApiClient(auth: EkaAuth, baseUrl: string): Client<EkaApi> {
  const client = createClient<EkaApi>({ baseUrl });
  client.use(ekaAuthMiddleware(auth));
  return client;
}

export interface AppConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  log?: (line: string) => void;
}

export interface DeletionResult {
  /** HTTP status of the (possibly retried) call: 202 = deletion accepted. */
  status: number;
  accepted: boolean;
  /** The typed error body for a 4XX/5XX answer. */
  error: unknown;
}

/** The app: one EkaAuth for its credential, one typed client, and the call it makes. */
export function createApp(config: AppConfig) {
  const log = config.log ?? (() => {});
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
  });
  const client = createEkaApiClient(auth, config.baseUrl);
  return {
    auth,
    client,
    /** `DELETE /privacy/v1/user`: ask Eka to delete the user's privacy data. */
    async requestPrivacyDeletion(): Promise<DeletionResult> {
      // No headers to pass: the types don't ask for them, the middleware sets them.
      const { error, response } = await client.DELETE('/privacy/v1/user');
      log(`DELETE /privacy/v1/user → HTTP ${response.status}${response.status === 202 ? ' (accepted)' : ''}`);
      return { status: response.status, accepted: response.status === 202, error };
    },
    dispose: () => auth.dispose(),
  };
}
