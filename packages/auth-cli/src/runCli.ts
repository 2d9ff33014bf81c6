import { version } from '../package.json';
import { diagnosisLines, formatReport, palette } from './formatReport';
import { getToken } from './getToken';
import { CLI_USAGE, type CliCommand, parseCliArgs, UsageError } from './parseCliArgs';
import { runDoctor } from './runDoctor';

/** A place `eka-auth` writes to. */
export interface CliStream {
  /** Writes `text` as is (the CLI adds its own newlines). */
  write(text: string): unknown;
  /** Colours are used only when this is true (and `NO_COLOR` is not set). */
  isTTY?: boolean;
}

/** The world `eka-auth` runs in: the process's by default, or a test's. */
export interface CliIo {
  /** Environment variables (`EKA_*`, `NO_COLOR`, `XDG_CACHE_HOME`, `HOME`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Results only: the token, or the report. */
  stdout: CliStream;
  /** Errors, warnings and usage. */
  stderr: CliStream;
  /** The fetch for token calls. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Exit code: the check passed, or the token was printed. */
export const EXIT_OK = 0;
/** The check or the token failed (the reason is on stderr, or in the report). */
export const EXIT_FAILED = 1;
/** A bad command line or missing credentials (usage on stderr). */
export const EXIT_USAGE = 2;

/**
 * Runs `eka-auth` with `argv` (without `node` and the script) and resolves its exit code. Never
 * writes the client secret, the sharing key or a refresh token (access tokens only to stdout, only
 * from `token`); never rejects for a gateway failure.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const colour = (stream: CliStream) => !!stream.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  let command: CliCommand;
  try {
    command = parseCliArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`eka-auth: ${error.message}\n\n${CLI_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (command.command === 'help') {
    io.stdout.write(`${CLI_USAGE}\n`);
    return EXIT_OK;
  }
  if (command.command === 'version') {
    io.stdout.write(`${version}\n`);
    return EXIT_OK;
  }
  // Belt and braces: whatever is written, the secrets given are replaced.
  const secrets = [command.clientSecret, command.sharingKey].filter((s): s is string => !!s);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  const out = (text: string) => io.stdout.write(scrub(text));
  const err = (text: string) => io.stderr.write(scrub(text));
  const { clientId, clientSecret, sharingKey, baseUrl, timeoutMs } = command;
  const connection = {
    clientId,
    clientSecret,
    baseUrl,
    timeoutMs,
    fetch: io.fetch,
    ...(sharingKey ? { sharingKey } : {}),
  };

  if (command.command === 'doctor') {
    const report = await runDoctor(connection);
    if (command.json) out(`${JSON.stringify(report, null, 2)}\n`);
    else out(formatReport(report, palette(colour(io.stdout))));
    return report.ok ? EXIT_OK : EXIT_FAILED;
  }

  const p = palette(colour(io.stderr));
  const result = await getToken({
    ...connection,
    cachePath: command.cachePath,
    forceRefresh: command.forceRefresh,
    onWarning: (message) => err(`eka-auth: ${p.warn('warning')}: ${message}\n`),
  });
  if (!result.ok) {
    err(`eka-auth: no token.\n${diagnosisLines(result.diagnosis, p).join('\n')}\n`);
    err('    (`eka-auth doctor` checks login and refresh step by step.)\n');
    return EXIT_FAILED;
  }
  const token = result.accessToken;
  if (!command.header) out(`${token}\n`);
  else if (command.headerMode === 'auth') out(`auth: ${token}\n`);
  else if (command.headerMode === 'authorization') out(`Authorization: Bearer ${token}\n`);
  else out(`auth: ${token}\nAuthorization: Bearer ${token}\n`);
  return EXIT_OK;
}
