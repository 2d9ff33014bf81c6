// The first step of `pnpm test` (and of .ci/run): the system programs the suite needs that npm cannot
// install — a real `redis-server` (storage-redis, the fleet example and bench) and Debian's Chromium (the
// browser example, at CHROMIUM_PATH or /usr/bin/chromium, as examples/browser-spa/test looks for it).
// Missing ones are installed when this runs as root with apt-get (as on CI), and it says so; otherwise it
// exits at once with one line naming the command to run. Node built-ins only: it runs before `pnpm install`.
//
// EKA_PRECHECK_INSTALL=0 never installs (just reports).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** True when `command --version` runs (found on the PATH and starts). */
const runs = (command) => {
  const probe = spawnSync(command, ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
};

/** True when `path` is a file (a symlink to one counts). */
const isFile = (path) => existsSync(path) && statSync(path).isFile();

/** What is missing: Debian package names, and a CHROMIUM_PATH that points nowhere (not installable). */
function missing() {
  const packages = [];
  if (!runs('redis-server')) packages.push('redis-server');
  const chromiumPath = process.env.CHROMIUM_PATH;
  if (chromiumPath) return { packages, badChromiumPath: isFile(chromiumPath) ? undefined : chromiumPath };
  if (!isFile(DEFAULT_CHROMIUM)) packages.push('chromium');
  return { packages, badChromiumPath: undefined };
}

/** Prints one line and exits 1. */
function fail(line) {
  console.error(line);
  process.exit(1);
}

/** `apt-get update` + `apt-get install -y` of `packages`, quietly; returns the output when it failed. */
function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...packages],
  ]) {
    const run = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (run.error || run.status !== 0)
      return `${run.error?.message ?? ''}${run.stdout ?? ''}${run.stderr ?? ''}`;
  }
  return undefined;
}

const { packages, badChromiumPath } = missing();
if (badChromiumPath)
  fail(
    `pnpm test: CHROMIUM_PATH=${badChromiumPath} is not a file: point it at a Chromium binary, or unset it to use ${DEFAULT_CHROMIUM} (apt-get install -y chromium).`,
  );
if (packages.length === 0) process.exit(0);

const list = packages.join(' ');
const chromiumHint = packages.includes('chromium') ? ', or set CHROMIUM_PATH to a Chromium binary' : '';
const canInstall = process.env.EKA_PRECHECK_INSTALL !== '0' && process.getuid?.() === 0 && runs('apt-get');
if (!canInstall)
  fail(
    `pnpm test needs ${list}, missing here: run \`${process.getuid?.() === 0 ? '' : 'sudo '}apt-get install -y ${list}\`${chromiumHint}.`,
  );

console.log(`pnpm test: installing ${list} (apt-get install -y ${list}, as root) …`);
const failure = aptInstall(packages);
const still = missing().packages;
if (failure || still.length > 0) {
  if (failure) console.error(failure.trim().split('\n').slice(-5).join('\n'));
  fail(
    `pnpm test: could not install ${still.join(' ') || list}: run \`apt-get install -y ${list}\` and see why.`,
  );
}
console.log(`pnpm test: installed ${list}.`);
