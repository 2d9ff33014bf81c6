import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** `$ command` plus its output, for assertion messages. */
  transcript: string;
}

/**
 * The environment for commands run in a scratch project: the caller's, minus what pnpm sets for its
 * scripts — `NODE_PATH` (its virtual store: `require()` would find workspace packages) and the `npm_*`
 * variables (the workspace's settings) — but keeping where the registry, cache and proxies are.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|cafile|strict_ssl|proxy|https_proxy|noproxy)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    // pnpm sets NODE_PATH to its virtual store for scripts: require() would find workspace packages.
    if (key === 'NODE_PATH' || key === 'NODE_OPTIONS' || key === 'VITEST' || key.startsWith('VITEST_'))
      continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
}

/** Runs a command; never rejects on a non-zero exit (the result says what happened). */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? cleanEnv(),
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        const transcript = `$ ${[command, ...args].join(' ')}  (in ${options.cwd}, exit ${code})\n${stdout}${stderr}`;
        resolve({ code, stdout, stderr, transcript });
      },
    );
  });
}

export interface ScratchProject {
  dir: string;
  /** How long `npm install` took, in ms (reported, never asserted). */
  installMs: number;
  install: CommandResult;
  remove(): void;
}

/**
 * A consumer project outside the workspace (in the OS temp dir, so no pnpm-workspace.yaml, .npmrc or
 * node_modules of ours is on its resolution path) with our tarballs and the host libraries installed by
 * npm — the way a user installs them. `--prefer-offline` reuses npm's cache: after the first run nothing
 * is downloaded. No install scripts run (ours have none; the test checks that).
 */
export async function createScratchProject(options: {
  tarballs: string[];
  dependencies: Record<string, string>;
  /** A folder copied into the project first. */
  fixtures?: string;
  /** npm's log level: `error` (default) hides warnings; `warn` shows peer and engine warnings. */
  loglevel?: 'error' | 'warn';
}): Promise<ScratchProject> {
  const dir = mkdtempSync(join(tmpdir(), 'eka-consumer-'));
  const remove = () => {
    if (!process.env.EKA_KEEP_SCRATCH) rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'eka-consumer-scratch', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    if (options.fixtures) cpSync(options.fixtures, dir, { recursive: true });
    const started = performance.now();
    const install = await runCommand(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--ignore-scripts',
        '--no-package-lock',
        `--loglevel=${options.loglevel ?? 'error'}`,
        ...options.tarballs,
        ...Object.entries(options.dependencies).map(([name, version]) => `${name}@${version}`),
      ],
      { cwd: dir, timeoutMs: 150_000 },
    );
    return { dir, install, installMs: Math.round(performance.now() - started), remove };
  } catch (error) {
    remove();
    throw error;
  }
}
