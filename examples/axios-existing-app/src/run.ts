import { createApp } from './app';
import { ApiError } from './records-api';

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
      const me = await app.records.whoAmI();
      io.out(`  whoAmI: client ${me.clientId}, token #${me.generation}`);
      io.out('The gateway revokes every access token…');
      gateway.control.revokeAllAccessTokens();
      const note = await app.records.saveNote('hello');
      io.out(
        `  saveNote: the gateway received ${JSON.stringify(note.received)} with token #${note.generation}`,
      );
      const denied = await app.records.secret().catch((error: unknown) => error);
      if (denied instanceof ApiError)
        io.out(`  secret: ${denied.name} ${denied.status} (the app's own error type)`);
      const { stats } = gateway;
      io.out(
        `emulator: ${stats.logins.ok} login, ${stats.apiCalls.unauthorized} × 401 → ${stats.refreshes.ok} refresh, ` +
          `${stats.apiCalls.forbidden} × 403`,
      );
      return note.generation === 2 && denied instanceof ApiError ? 0 : 1;
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
    if (!env.EKA_API_PATH) {
      // The records routes (/api/echo, /api/forbidden) exist only on the emulator.
      await app.auth.login();
      io.out('Logged in. Set EKA_API_PATH to a GET endpoint your client may call to send a request.');
      return 0;
    }
    const { status } = await app.records.get(env.EKA_API_PATH);
    return status < 300 ? 0 : 1;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    io.err(
      error.status
        ? `${error.message} (HTTP ${error.status}, apigw-requestid ${error.requestId})`
        : error.message,
    );
    return 1;
  } finally {
    app.dispose();
  }
}
