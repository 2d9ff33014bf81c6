import { syncItems } from './job';

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
      io.out('The gateway will answer the next API call with 503 (gateway.control.failNext)…');
      gateway.control.failNext('api', 1, { status: 503 });
      const result = await syncItems({
        baseUrl: gateway.url,
        clientId: gateway.credentials.clientId,
        clientSecret: gateway.credentials.clientSecret,
        retry: { backoffLimitMs: 300 },
        log: io.out,
      });
      io.out(
        `synced ${result.items.length} items from ${result.pages} pages: ${result.items.map((i) => i.name).join(', ')}`,
      );
      io.out(
        `emulator: ${gateway.stats.logins.ok} login, ${gateway.stats.injectedFailures} × 503 retried by got ` +
          `(${result.retries.length} retry), ${gateway.stats.apiCalls.ok} page requests`,
      );
      return result.items.length === 6 && gateway.stats.logins.ok === 1 ? 0 : 1;
    } finally {
      await gateway.close();
    }
  }

  if (!clientId || !clientSecret) {
    io.err('Set both EKA_CLIENT_ID and EKA_CLIENT_SECRET (or neither, for the embedded emulator).');
    return 1;
  }
  if (!env.EKA_ITEMS_PATH) {
    io.err(
      'Set EKA_ITEMS_PATH to a GET endpoint that returns a JSON array with Link rel="next" paging ' +
        '(api/items exists only on the emulator).',
    );
    return 1;
  }
  const baseUrl = env.EKA_BASE_URL || 'https://api.eka.care';
  io.out(`Using the real Eka gateway at ${baseUrl}.`);
  const result = await syncItems({
    baseUrl,
    clientId,
    clientSecret,
    itemsPath: env.EKA_ITEMS_PATH,
    log: io.out,
  });
  io.out(`synced ${result.items.length} items from ${result.pages} pages`);
  return 0;
}
