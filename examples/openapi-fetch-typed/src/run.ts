import { createApp } from './app';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The entry point's logic. With EKA_CLIENT_ID and EKA_CLIENT_SECRET it talks to the real gateway
 * (EKA_BASE_URL, default https://api.eka.care); with neither it starts the embedded emulator.
 * Returns the exit code.
 */
export async function main(env: Env, io: Io): Promise<number> {
  const clientId = env.EKA_CLIENT_ID;
  const clientSecret = env.EKA_CLIENT_SECRET;

  if (!clientId && !clientSecret) {
    io.out('No EKA_CLIENT_ID / EKA_CLIENT_SECRET set: using the embedded Eka gateway emulator.');
    const { startEkaGateway } = await import('@eka/auth-testing');
    const gateway = await startEkaGateway();
    const app = createApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      log: io.out,
    });
    try {
      const first = await app.requestPrivacyDeletion();
      io.out('The gateway revokes every access token (as after a key rotation)…');
      gateway.control.revokeAllAccessTokens();
      const second = await app.requestPrivacyDeletion();
      const { stats } = gateway;
      io.out(
        `emulator: ${stats.logins.ok} login, ${stats.apiCalls.unauthorized} × 401 answered by ` +
          `${stats.refreshes.ok} refresh and one re-send`,
      );
      return first.accepted && second.accepted ? 0 : 1;
    } finally {
      app.dispose();
      await gateway.close();
    }
  }

  if (!clientId || !clientSecret) {
    io.err('Set both EKA_CLIENT_ID and EKA_CLIENT_SECRET (or neither, for the embedded emulator).');
    return 1;
  }
  const baseUrl = env.EKA_BASE_URL || 'https://api.eka.care';
  io.out(`Using the real Eka gateway at ${baseUrl}.`);
  const app = createApp({ baseUrl, clientId, clientSecret, log: io.out });
  try {
    if (env.EKA_CONFIRM_PRIVACY_DELETE !== 'yes') {
      await app.auth.login();
      io.out('Logged in. Not calling DELETE /privacy/v1/user: it deletes the user’s privacy data.');
      io.out('Set EKA_CONFIRM_PRIVACY_DELETE=yes to really call it.');
      return 0;
    }
    const result = await app.requestPrivacyDeletion();
    if (!result.accepted) io.err(`Not accepted: ${JSON.stringify(result.error)}`);
    return result.accepted ? 0 : 1;
  } finally {
    app.dispose();
  }
}
