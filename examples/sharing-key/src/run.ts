import { createApp } from './app';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The entry point's logic. With EKA_CLIENT_ID, EKA_CLIENT_SECRET and EKA_SHARING_KEY it talks to the
 * real gateway (EKA_BASE_URL, default https://api.eka.care); with none of them it starts the
 * embedded emulator. Returns the exit code.
 */
export async function main(env: Env, io: Io): Promise<number> {
  const { EKA_CLIENT_ID: clientId, EKA_CLIENT_SECRET: clientSecret, EKA_SHARING_KEY: sharingKey } = env;

  if (!clientId && !clientSecret && !sharingKey) {
    io.out(
      'No EKA_CLIENT_ID / EKA_CLIENT_SECRET / EKA_SHARING_KEY set: using the embedded Eka gateway emulator.',
    );
    const { startEkaGateway } = await import('@eka/auth-testing');
    const gateway = await startEkaGateway();
    const app = createApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      sharingKey: gateway.credentials.sharingKey!,
      apiPath: '/api/echo',
      log: io.out,
    });
    try {
      const own = await app.call('own');
      const shared = await app.call('shared');
      io.out(
        `tokens: own #${own.body.generation}, shared #${shared.body.generation} — ` +
          `${gateway.stats.logins.ok} logins, one per credential`,
      );
      return own.body.workspace === null && shared.body.workspace === gateway.credentials.sharedWorkspaceId
        ? 0
        : 1;
    } finally {
      app.dispose();
      await gateway.close();
    }
  }

  if (!clientId || !clientSecret || !sharingKey) {
    io.err('Set EKA_CLIENT_ID, EKA_CLIENT_SECRET and EKA_SHARING_KEY (or none, for the embedded emulator).');
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
  const app = createApp({
    baseUrl,
    clientId,
    clientSecret,
    sharingKey,
    apiPath: env.EKA_API_PATH,
    log: io.out,
  });
  try {
    const own = await app.call('own');
    const shared = await app.call('shared');
    return own.status < 300 && shared.status < 300 ? 0 : 1;
  } finally {
    app.dispose();
  }
}
