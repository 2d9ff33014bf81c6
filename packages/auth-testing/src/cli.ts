import { CLI_USAGE, parseCliArgs } from './parseCliArgs';
import { type EkaGateway, startEkaGateway } from './startEkaGateway';

/** The banner printed once the gateway listens. */
function banner(gateway: EkaGateway, header: string, accessTtlSec: number): string {
  const { credentials: c } = gateway;
  return [
    `Eka gateway emulator listening on ${gateway.url}`,
    `  foreign origin:    ${gateway.foreignUrl}`,
    `  client id:         ${c.clientId}`,
    `  client secret:     ${c.clientSecret}`,
    `  sharing key:       ${c.sharingKey} (workspace ${c.sharedWorkspaceId})`,
    `  long-lived token:  ${c.longLivedToken}`,
    `  token header:      ${header}`,
    `  access token ttl:  ${accessTtlSec} s`,
    `  login:             POST ${gateway.url}/connect-auth/v1/account/login`,
    'Press Ctrl+C to stop.',
  ].join('\n');
}

/** Runs the `eka-gateway` bin: start, print, stay up until SIGINT/SIGTERM. */
async function main(argv: readonly string[]): Promise<void> {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${CLI_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (command.help) {
    console.log(CLI_USAGE);
    return;
  }
  const { options } = command;
  const gateway = await startEkaGateway(options);
  console.log(banner(gateway, options.acceptHeader ?? 'both', options.accessTokenTtlSec ?? 1800));
  const stop = (signal: string) => {
    console.log(`\n${signal}: stopping. Stats: ${JSON.stringify(gateway.stats)}`);
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
