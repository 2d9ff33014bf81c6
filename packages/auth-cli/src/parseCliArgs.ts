import { parseArgs } from 'node:util';
import type { HeaderMode } from '@eka/auth-core';
import { defaultCachePath } from './defaultCachePath';

/** Production gateway, used when neither `--base-url` nor `EKA_BASE_URL` is given. */
export const DEFAULT_BASE_URL = 'https://api.eka.care';

/** Usage text of the `eka-auth` bin. */
export const CLI_USAGE = `Usage: eka-auth <command> [options]

Commands:
  doctor    log in, refresh (v2) and report what works, what does not and what to do next
  token     print a fresh access token (cached between runs) and nothing else on stdout

Credentials (environment preferred: flags end up in shell history and \`ps\`):
  --client-id <id>         or EKA_CLIENT_ID
  --client-secret <secret> or EKA_CLIENT_SECRET
  --sharing-key <key>      or EKA_SHARING_KEY (optional: act on another workspace)
  --base-url <url>         or EKA_BASE_URL (default ${DEFAULT_BASE_URL}; sandbox https://api.dev.eka.care)
  --timeout-ms <n>         or EKA_TIMEOUT_MS: timeout of one login/refresh call (default 10000)

doctor:
  --json                   one JSON report on stdout, for scripts

token:
  --header                 print the whole header line(s) instead of the bare token
  --header-mode <mode>     or EKA_HEADER_MODE: auth | authorization | both (default authorization);
                           with both, two lines: pipe them to \`curl -H @-\`
  --cache <path>           or EKA_AUTH_CACHE: session file (default $XDG_CACHE_HOME/eka-auth/sessions.json)
  --no-cache               do not read or write the session file
  --force-refresh          refresh even when the cached token is still valid

  -h, --help               show this help
  -v, --version            show the version

Exit codes: 0 ok, 1 the check or the token failed, 2 usage (bad flag, missing credentials).`;

/** Settings shared by every command, after flags and environment are merged. */
interface ConnectionConfig {
  /** `client_id`. */
  clientId: string;
  /** `client_secret`: never printed. */
  clientSecret: string;
  /** Optional sharing key: never printed. */
  sharingKey: string | undefined;
  /** The gateway base URL as given (validated by the core). */
  baseUrl: string;
  /** Timeout of one login/refresh HTTP call. */
  timeoutMs: number;
}

/** `eka-auth doctor`. */
interface DoctorCommand extends ConnectionConfig {
  /** Which command. */
  command: 'doctor';
  /** Print one JSON report instead of text. */
  json: boolean;
}

/** `eka-auth token`. */
interface TokenCommand extends ConnectionConfig {
  /** Which command. */
  command: 'token';
  /** Print header line(s) instead of the bare token. */
  header: boolean;
  /** Which header(s) `--header` prints. */
  headerMode: HeaderMode;
  /** The session file, or `null` with `--no-cache`. */
  cachePath: string | null;
  /** Refresh even when the cached token is valid. */
  forceRefresh: boolean;
}

/** What the command line asked for. */
export type CliCommand = { command: 'help' } | { command: 'version' } | DoctorCommand | TokenCommand;

/** A bad command line: the bin prints the message and the usage on stderr and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const HEADER_MODES: readonly string[] = ['auth', 'authorization', 'both'];
const DOCTOR_ONLY = ['json'] as const;
const TOKEN_ONLY = ['header', 'header-mode', 'cache', 'no-cache', 'force-refresh'] as const;

/**
 * Parses `eka-auth` arguments, with `env` (`EKA_*` variables) as the fallback of every flag.
 * Throws a {@link UsageError} on an unknown command or flag, a bad value or missing credentials.
 */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // node:util's messages name the flag ("Unknown option '--nope'") and never echo a value.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('missing command: doctor or token');
  // Arguments are echoed only when they look like a word: a pasted secret never reaches stderr.
  if (command !== 'doctor' && command !== 'token') throw new UsageError(`unknown command${quoted(command)}`);
  if (rest.length > 0) throw new UsageError(`unexpected argument${quoted(rest[0]!)}`);
  const foreign = command === 'doctor' ? TOKEN_ONLY : DOCTOR_ONLY;
  const misplaced = foreign.find((flag) => values[flag] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} is not an option of "${command}"`);

  const pick = (flag: string | undefined, name: string) => (flag !== undefined ? flag : nonEmpty(env[name]));
  const clientId = pick(values['client-id'], 'EKA_CLIENT_ID');
  const clientSecret = pick(values['client-secret'], 'EKA_CLIENT_SECRET');
  const missing = [
    !clientId && 'EKA_CLIENT_ID (--client-id)',
    !clientSecret && 'EKA_CLIENT_SECRET (--client-secret)',
  ];
  if (!clientId || !clientSecret) {
    throw new UsageError(`missing credentials: set ${missing.filter(Boolean).join(' and ')}`);
  }
  const timeoutText = pick(values['timeout-ms'], 'EKA_TIMEOUT_MS');
  const config: ConnectionConfig = {
    clientId,
    clientSecret,
    sharingKey: pick(values['sharing-key'], 'EKA_SHARING_KEY'),
    baseUrl: pick(values['base-url'], 'EKA_BASE_URL') ?? DEFAULT_BASE_URL,
    timeoutMs: timeoutText === undefined ? 10_000 : integer(timeoutText, '--timeout-ms', 1, 600_000),
  };
  if (command === 'doctor') return { command, ...config, json: !!values.json };
  const modeText = pick(values['header-mode'], 'EKA_HEADER_MODE') ?? 'authorization';
  if (!HEADER_MODES.includes(modeText))
    throw new UsageError('--header-mode must be auth, authorization or both');
  if (values['no-cache'] && values.cache !== undefined)
    throw new UsageError('give --cache or --no-cache, not both');
  return {
    command,
    ...config,
    header: !!values.header,
    headerMode: modeText as HeaderMode,
    cachePath: values['no-cache'] ? null : (pick(values.cache, 'EKA_AUTH_CACHE') ?? defaultCachePath(env)),
    forceRefresh: !!values['force-refresh'],
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'sharing-key': { type: 'string' },
      'base-url': { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
      header: { type: 'boolean' },
      'header-mode': { type: 'string' },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean' },
      'force-refresh': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

const quoted = (text: string) => (/^[a-z][a-z-]{0,19}$/.test(text) ? ` "${text}"` : '');

const nonEmpty = (value: string | undefined) => (value ? value : undefined);

/** `text` as an integer within [min, max], else a UsageError naming `flag`. */
function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
  }
  return value;
}
