import { createEkaAuth, MemoryStorage, type TokenStorage } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';

export interface AppConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The sharing key the other workspace's owner created in the Eka Hub. */
  sharingKey: string;
  /** The Eka API path read in each workspace. */
  apiPath: string;
  /** One store for both sessions (Redis, a file…); they use different keys. Default: in memory. */
  storage?: TokenStorage;
  log?: (line: string) => void;
}

export type Workspace = 'own' | 'shared';

export interface CallResult {
  status: number;
  body: any;
}

/**
 * One `EkaAuth` per credential: the same client id and secret make two credentials, one for the own
 * workspace and one with the sharing key for the other workspace. Each has its own login, tokens and
 * refreshes, and its own key in a shared store.
 */
export function createApp(config: AppConfig) {
  const log = config.log ?? (() => {});
  const storage = config.storage ?? new MemoryStorage();
  const credentials = { clientId: config.clientId, clientSecret: config.clientSecret };
  const auths = {
    own: createEkaAuth({ ...credentials, baseUrl: config.baseUrl, storage }),
    shared: createEkaAuth({
      ...credentials,
      sharingKey: config.sharingKey,
      baseUrl: config.baseUrl,
      storage,
    }),
  };
  const fetches = { own: createAuthFetch(auths.own), shared: createAuthFetch(auths.shared) };
  return {
    auths,
    storage,
    /** GET the API path in one workspace. */
    async call(workspace: Workspace): Promise<CallResult> {
      const response = await fetches[workspace](new URL(config.apiPath, config.baseUrl));
      const body = await response.json().catch(() => null);
      const where = body && 'workspace' in body ? ` — workspace ${JSON.stringify(body.workspace)}` : '';
      log(`[${workspace}] GET ${config.apiPath} → HTTP ${response.status}${where}`);
      return { status: response.status, body };
    },
    dispose() {
      auths.own.dispose();
      auths.shared.dispose();
    },
  };
}
