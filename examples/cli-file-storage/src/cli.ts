import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEkaAuth, type EkaAuthEvent } from '@eka/auth-core';
import { fileStorage } from '@eka/auth-core/file';
import { createAuthFetch } from '@eka/auth-fetch';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  /** The command's result (JSON), for scripts. */
  out: (line: string) => void;
  /** Diagnostics: where the token came from, errors. */
  err: (line: string) => void;
}

/**
 * Where tokens are kept when neither `--store` nor EKA_TOKEN_FILE says otherwise: a per-user folder
 * under the temp directory (a real CLI would rather use ~/.config/<name>). fileStorage creates the
 * folder with mode 0700 and the file with 0600.
 */
export const DEFAULT_TOKEN_FILE = join(
  tmpdir(),
  `eka-example-cli-${process.getuid?.() ?? 'user'}`,
  'tokens.json',
);

export const USAGE = `Usage: eka-example-cli [--store <file>] [--base-url <url>] [get <path> | logout]

  get <path>   GET an Eka API path and print {"status", "body"} as JSON (default: get /api/echo)
  logout       forget the stored tokens

  --store      token file (default: $EKA_TOKEN_FILE, else ${DEFAULT_TOKEN_FILE})
  --base-url   Eka gateway (default: $EKA_BASE_URL, else https://api.eka.care)

  Credentials come from EKA_CLIENT_ID and EKA_CLIENT_SECRET only: never put a secret on a command line.`;

export interface CliOptions {
  command: 'get' | 'logout';
  /** API path for `get`. */
  path: string;
  /** Token file. */
  store: string;
  baseUrl: string | undefined;
}

/** Parse the command line; the token file falls back to EKA_TOKEN_FILE, then to the default. */
export function parseCli(argv: readonly string[], env: Env): CliOptions | { error: string } {
  const parsed = parse(argv);
  if (typeof parsed === 'string') return { error: parsed };
  const [command = 'get', path = '/api/echo', ...extra] = parsed.positionals;
  if (command !== 'get' && command !== 'logout') return { error: `unknown command "${command}"` };
  if (extra.length > 0 || (command === 'logout' && parsed.positionals.length > 1))
    return { error: 'too many arguments' };
  return {
    command,
    path,
    store: parsed.values.store || env.EKA_TOKEN_FILE || DEFAULT_TOKEN_FILE,
    baseUrl: parsed.values['base-url'] || env.EKA_BASE_URL || undefined,
  };
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: { store: { type: 'string' }, 'base-url': { type: 'string' } },
      allowPositionals: true,
    });
  } catch (error) {
    return (error as Error).message;
  }
}

export interface RunConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Token file, written with mode 0600. */
  store: string;
  command: 'get' | 'logout';
  path: string;
}

/**
 * One run of the CLI, as one process would do it: a fresh `EkaAuth` whose tokens live in the file,
 * so a second run finds a valid token there and makes no login. Returns the exit code.
 */
export async function runCommand(config: RunConfig, io: Io): Promise<number> {
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
    storage: fileStorage(config.store),
    onEvent: (event: EkaAuthEvent) => {
      if (event.type === 'token') io.err(`eka: token #${event.generation} from ${event.source}`);
      if (event.type === 'warning') io.err(`eka: warning: ${event.message}`);
    },
  });
  try {
    if (config.command === 'logout') {
      await auth.logout();
      io.err(`eka: logged out; tokens removed from ${config.store}`);
      return 0;
    }
    const ekaFetch = createAuthFetch(auth);
    const response = await ekaFetch(new URL(config.path, config.baseUrl));
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: print the text
    }
    io.out(JSON.stringify({ status: response.status, body }));
    return response.ok ? 0 : 1;
  } finally {
    auth.dispose();
  }
}
