import { runApp } from './app';

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
    try {
      const result = await runApp({
        baseUrl: gateway.url,
        clientId: gateway.credentials.clientId,
        clientSecret: gateway.credentials.clientSecret,
        apiPath: '/api/echo',
        telemetryUrl: `${gateway.foreignUrl}/telemetry`,
        log: io.out,
      });
      const { stats } = gateway;
      io.out(
        `emulator: ${stats.logins.ok} login, ${stats.foreignRequests} request(s) to the other origin, ` +
          `${stats.tokenLeaks} carrying a token`,
      );
      return result.eka.status === 200 && result.restored && stats.tokenLeaks === 0 ? 0 : 1;
    } finally {
      await gateway.close();
    }
  }

  if (!clientId || !clientSecret) {
    io.err('Set both EKA_CLIENT_ID and EKA_CLIENT_SECRET (or neither, for the embedded emulator).');
    return 1;
  }
  if (!env.EKA_API_PATH) {
    io.err(
      'Set EKA_API_PATH to a GET endpoint your client may call (/api/echo exists only on the emulator).',
    );
    return 1;
  }
  const baseUrl = env.EKA_BASE_URL || 'https://api.eka.care';
  io.out(`Using the real Eka gateway at ${baseUrl}.`);
  const result = await runApp({
    baseUrl,
    clientId,
    clientSecret,
    apiPath: env.EKA_API_PATH,
    telemetryUrl: env.EKA_TELEMETRY_URL || 'https://example.com/telemetry',
    log: io.out,
  });
  return result.eka.status < 300 && result.restored ? 0 : 1;
}
