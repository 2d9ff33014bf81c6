import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Env, type Io, parseCli, runCommand, USAGE } from './cli';

/**
 * The CLI. With EKA_CLIENT_ID and EKA_CLIENT_SECRET it runs the command against EKA_BASE_URL /
 * `--base-url` (default https://api.eka.care). With neither it starts the embedded emulator and runs
 * the command twice on a temporary token file, as two processes would, to show that the second run
 * makes no login. Returns the exit code.
 */
export async function main(argv: readonly string[], env: Env, io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  const options = parseCli(argv, env);
  if ('error' in options) {
    io.err(`${options.error}\n\n${USAGE}`);
    return 2;
  }
  const { EKA_CLIENT_ID: clientId, EKA_CLIENT_SECRET: clientSecret } = env;

  if (!clientId && !clientSecret) {
    if (options.baseUrl) {
      io.err('A gateway URL was given: set EKA_CLIENT_ID and EKA_CLIENT_SECRET for it too.');
      return 2;
    }
    io.err('No EKA_CLIENT_ID / EKA_CLIENT_SECRET set: using the embedded Eka gateway emulator.');
    const { startEkaGateway } = await import('@eka/auth-testing');
    const gateway = await startEkaGateway();
    const dir = await mkdtemp(join(tmpdir(), 'eka-example-cli-'));
    const store = join(dir, 'tokens.json');
    try {
      const { clientId, clientSecret } = gateway.credentials;
      const run = { ...options, store, baseUrl: gateway.url, clientId, clientSecret };
      for (const n of [1, 2]) {
        const code = await runCommand(run, io);
        io.err(`run ${n}: exit ${code}, ${gateway.stats.logins.ok} login(s) at the gateway so far`);
        if (code !== 0) return code;
      }
      const mode = ((await stat(store)).mode & 0o777).toString(8).padStart(4, '0');
      io.err(`token file ${store}: mode ${mode}`);
      return gateway.stats.logins.ok === 1 ? 0 : 1;
    } finally {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  if (!clientId || !clientSecret) {
    io.err('Set both EKA_CLIENT_ID and EKA_CLIENT_SECRET (or neither, for the embedded emulator).');
    return 2;
  }
  return runCommand(
    { ...options, baseUrl: options.baseUrl ?? 'https://api.eka.care', clientId, clientSecret },
    io,
  );
}
