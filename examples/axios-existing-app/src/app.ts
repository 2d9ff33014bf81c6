import { createEkaAuth } from '@eka/auth-core';
import { createRecordsApi } from './records-api';

export interface AppConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  log?: (line: string) => void;
}

/** The app: one EkaAuth for its credential, handed to the existing API module. */
export function createApp(config: AppConfig) {
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
  });
  const records = createRecordsApi({ baseURL: config.baseUrl, auth, log: config.log });
  return { auth, records, dispose: () => auth.dispose() };
}
