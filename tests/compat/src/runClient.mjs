// The host side of the compat suite: runs scenario/main.mjs for one client in a child Node process — the
// Node running this file when it satisfies the `engines.node` of every package the client is made of, and
// otherwise a Node 24 from the npm registry (the `node` package, through `npm exec`, cached by npm after
// the first run). ky 2 and wretch 3 declare `engines.node >= 22` while this repository supports Node 20.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clients } from '../scenario/clients.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Node major fetched from the registry when the running Node is too old for a client. */
const NEWER_NODE_MAJOR = 24;

/**
 * The oldest Node major the packages accept, read from their `engines.node` (`>=N`, `>= N.x.y`, `^N`);
 * 0 when none declares one.
 */
export function requiredNodeMajor(packages) {
  let major = 0;
  for (const name of packages) {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'node_modules', name, 'package.json'), 'utf8'));
    const match = /^\s*(?:>=|\^)?\s*(\d+)/.exec(manifest.engines?.node ?? '');
    if (match) major = Math.max(major, Number(match[1]));
  }
  return major;
}

/**
 * The environment for child processes: the caller's, minus what pnpm and vitest set for their own
 * scripts (`NODE_OPTIONS` may load vitest's hooks; `npm_*` would point npm at the workspace's settings).
 */
function childEnv() {
  const keep = /^npm_config_(registry|cache|userconfig|cafile|strict_ssl|proxy|https_proxy|noproxy)$/i;
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    if (key === 'NODE_OPTIONS' || key === 'NODE_PATH' || key === 'VITEST' || key.startsWith('VITEST_'))
      continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1' };
}

/** Runs a command to its end; resolves `{ code, stdout, stderr }`, never rejects on a non-zero exit. */
function run(command, args, timeoutMs) {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: packageDir, env: childEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: error && !stderr ? String(error.message) : stderr });
      },
    );
  });
}

let newerNode;

/**
 * Path of a Node binary of at least `major`: `EKA_COMPAT_NODE` when set, the running Node when it is
 * new enough, else Node {@link NEWER_NODE_MAJOR} from the npm registry (`npm exec --package=node@24`).
 */
async function nodeBinary(major) {
  if (process.env.EKA_COMPAT_NODE) return process.env.EKA_COMPAT_NODE;
  if (Number(process.versions.node.split('.')[0]) >= major) return process.execPath;
  newerNode ??= run(
    'npm',
    [
      'exec',
      '--yes',
      '--prefer-offline',
      `--package=node@${Math.max(major, NEWER_NODE_MAJOR)}`,
      '--',
      'node',
      '-p',
      'process.execPath',
    ],
    240_000,
  ).then(({ code, stdout, stderr }) => {
    if (code !== 0)
      throw new Error(`could not get Node ${NEWER_NODE_MAJOR} from the npm registry:\n${stderr}`);
    return stdout.trim().split('\n').pop();
  });
  return newerNode;
}

/**
 * Runs every compat scenario for `client` on the Node its packages need.
 * @returns {Promise<{ nodePath: string, requiredMajor: number, result: any }>}
 */
export async function runClient(client) {
  const requiredMajor = requiredNodeMajor(clients[client].packages);
  const nodePath = await nodeBinary(requiredMajor);
  const { code, stdout, stderr } = await run(nodePath, ['scenario/main.mjs', client], 120_000);
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{'))
    throw new Error(`scenario for ${client} on ${nodePath} exited ${code}:\n${stdout}\n${stderr}`);
  return { nodePath, requiredMajor, result: JSON.parse(line) };
}
