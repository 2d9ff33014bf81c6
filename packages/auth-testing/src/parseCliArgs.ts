import { parseArgs } from 'node:util';
import type { StartEkaGatewayOptions } from './startEkaGateway';
import type { AcceptHeader } from './types';

/** Usage text of the `eka-gateway` bin. */
export const CLI_USAGE = `Usage: eka-gateway [options]

Starts the Eka API gateway emulator on 127.0.0.1 until SIGINT/SIGTERM.

Options:
  --port <n>           port to listen on (default 0 = any free port)
  --access-ttl <sec>   access token lifetime in seconds (default 1800)
  --refresh-ttl <sec>  refresh token lifetime in seconds (default 86400)
  --header <mode>      where API calls carry the token: auth | authorization | both (default both)
  --minimal-login      answer login with only { access_token }, like the 2024 capture
  --secret <text>      HS256 signing secret (default random)
  -h, --help           show this help`;

/** What the command line asked for. */
export type CliCommand = { help: true } | { help: false; options: StartEkaGatewayOptions };

const HEADERS: readonly string[] = ['auth', 'authorization', 'both'];

/** Parses `eka-gateway` arguments; throws a `TypeError` with a readable message on bad input. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'access-ttl': { type: 'string' },
      'refresh-ttl': { type: 'string' },
      header: { type: 'string' },
      'minimal-login': { type: 'boolean' },
      secret: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const options: StartEkaGatewayOptions = {};
  if (values.port !== undefined) options.port = integer(values.port, '--port', 0, 65_535);
  if (values['access-ttl'] !== undefined)
    options.accessTokenTtlSec = integer(values['access-ttl'], '--access-ttl', 1);
  if (values['refresh-ttl'] !== undefined) {
    options.refreshTokenTtlSec = integer(values['refresh-ttl'], '--refresh-ttl', 1);
  }
  if (values.header !== undefined) options.acceptHeader = header(values.header);
  if (values['minimal-login']) options.minimalLoginResponse = true;
  if (values.secret !== undefined) options.secret = values.secret;
  return { help: false, options };
}

/** `text` as an integer within [min, max], else a TypeError naming `flag`. */
function integer(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new TypeError(`${flag} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** `text` as an {@link AcceptHeader}, else a TypeError. */
function header(text: string): AcceptHeader {
  if (!HEADERS.includes(text)) throw new TypeError('--header must be auth, authorization or both');
  return text as AcceptHeader;
}
