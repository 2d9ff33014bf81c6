import { createApp, handleFailure } from './app';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The entry point's logic. With EKA_LONG_LIVED_TOKEN it talks to the real gateway (EKA_BASE_URL,
 * default https://api.eka.care); without it, it starts the embedded emulator. Returns the exit code.
 */
export async function main(env: Env, io: Io): Promise<number> {
  if (!env.EKA_LONG_LIVED_TOKEN) {
    io.out('No EKA_LONG_LIVED_TOKEN set: using the embedded Eka gateway emulator.');
    const { startEkaGateway } = await import('@eka/auth-testing');
    const gateway = await startEkaGateway();
    const app = createApp({
      baseUrl: gateway.url,
      longLivedToken: gateway.credentials.longLivedToken!,
      apiPath: '/api/echo',
      log: io.out,
    });
    try {
      const ok = await app.callApi();
      io.out('The token is revoked in the Developer Console (gateway.control.revokeLongLived())…');
      gateway.control.revokeLongLived();
      const failure = await app.callApi().then(
        () => undefined,
        (error: unknown) => error,
      );
      const handled = handleFailure(failure);
      io.out(`rejected: ${handled.message}`);
      io.out(
        `emulator: ${gateway.stats.tokenEndpointCalls} token endpoint calls, ` +
          `${gateway.stats.apiCalls.unauthorized} × 401 (no refresh, no re-send)`,
      );
      return ok.status === 200 && failure !== undefined && !handled.retry ? 0 : 1;
    } finally {
      app.dispose();
      await gateway.close();
    }
  }

  if (!env.EKA_API_PATH) {
    io.err('Set EKA_API_PATH to a GET endpoint your token may call (/api/echo exists only on the emulator).');
    return 1;
  }
  const baseUrl = env.EKA_BASE_URL || 'https://api.eka.care';
  io.out(`Using the real Eka gateway at ${baseUrl}.`);
  const app = createApp({
    baseUrl,
    longLivedToken: env.EKA_LONG_LIVED_TOKEN,
    clientId: env.EKA_CLIENT_ID || undefined,
    apiPath: env.EKA_API_PATH,
    log: io.out,
  });
  try {
    const result = await app.callApi();
    return result.status < 300 ? 0 : 1;
  } catch (error) {
    io.err(handleFailure(error).message);
    return 1;
  } finally {
    app.dispose();
  }
}
