import { createEkaAuth, isEkaAuthError } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';

export interface AppConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  /** The long-lived token from the Eka Developer Console. */
  longLivedToken: string;
  /** Sent as `client-id` on API calls when given. */
  clientId?: string;
  /** The Eka API path the job reads. */
  apiPath: string;
  log?: (line: string) => void;
}

export interface CallResult {
  status: number;
  body: any;
}

/** A server-to-server job authenticated by a long-lived token: no login and no refresh, ever. */
export function createApp(config: AppConfig) {
  const log = config.log ?? (() => {});
  const auth = createEkaAuth({
    longLivedToken: config.longLivedToken,
    clientId: config.clientId,
    baseUrl: config.baseUrl,
  });
  const ekaFetch = createAuthFetch(auth);
  return {
    auth,
    /** One call of the job. Rejects with `LongLivedTokenRejectedError` when the token is refused. */
    async callApi(): Promise<CallResult> {
      const response = await ekaFetch(new URL(config.apiPath, config.baseUrl));
      const body = await response.json().catch(() => null);
      log(`GET ${config.apiPath} → HTTP ${response.status}`);
      return { status: response.status, body };
    },
    dispose: () => auth.dispose(),
  };
}

/** How the job reacts to a failure: a refused long-lived token is an operator problem, not a retry. */
export function handleFailure(error: unknown): { retry: boolean; message: string } {
  if (isEkaAuthError(error, 'LONG_LIVED_TOKEN_REJECTED')) {
    return {
      retry: false,
      message:
        `${error.code} (HTTP ${error.status}${error.requestId ? `, apigw-requestid ${error.requestId}` : ''}): ` +
        'create a new token in the Eka Developer Console and update EKA_LONG_LIVED_TOKEN; retrying will not help',
    };
  }
  if (isEkaAuthError(error)) return { retry: error.transient, message: `${error.code}: ${error.message}` };
  return { retry: true, message: String(error) };
}
