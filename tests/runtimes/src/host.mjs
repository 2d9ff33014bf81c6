// The host side of the runtime matrix (always Node): starts the Eka gateway emulator and a tiny control
// server on loopback, finds each runtime's binary in node_modules, runs scenario/ on it and returns a
// named outcome: `ran` (with the scenario's result) or `unavailable` (with a documented reason code).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { startEkaGateway } from '@eka/auth-testing';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const scenarioDir = join(packageDir, 'scenario');
const require = createRequire(join(packageDir, 'package.json'));

/**
 * @typedef {'node' | 'bun' | 'deno' | 'workerd'} Runtime
 * @typedef {{ runtime: Runtime, available: true, version: string, command: string }} AvailableProbe
 * @typedef {{ runtime: Runtime, available: false, reason: string, detail: string }} UnavailableProbe
 * @typedef {AvailableProbe | UnavailableProbe} Probe
 * @typedef {{ runtime: { name: string, version: string }, steps: Record<string, any>, error?: string }} ScenarioResult
 * @typedef {import('@eka/auth-testing').GatewayStats} GatewayStats
 * @typedef {(AvailableProbe & { outcome: 'ran', result: ScenarioResult, stats: GatewayStats })
 *   | (UnavailableProbe & { outcome: 'unavailable' })} Outcome
 */

/** Every runtime of the matrix, in report order. */
export const RUNTIMES = /** @type {const} */ (['node', 'bun', 'deno', 'workerd']);

/**
 * Why a runtime can be skipped. Anything else is a failure. Documented in tests/runtimes/README.md.
 * - `no-binary-for-platform`: the runtime's npm package ships no binary for this OS/CPU/libc.
 * - `install-script-not-run`: the package is there but its postinstall never linked the binary
 *   (it is missing from `onlyBuiltDependencies`, or `pnpm install --ignore-scripts` was used).
 * - `binary-does-not-start`: the binary exists but `--version` fails (old glibc, CPU without AVX2, …).
 * - `node-too-old-for-miniflare`: miniflare's `engines.node` excludes this Node.
 */
export const UNAVAILABLE_REASONS = /** @type {const} */ ([
  'no-binary-for-platform',
  'install-script-not-run',
  'binary-does-not-start',
  'node-too-old-for-miniflare',
]);

/**
 * Failures of the packages themselves on a runtime, known and tracked (see README.md, "Known issues").
 * The runtime's test asserts the symptom — so it fails, asking for the entry to go, once the packages
 * are fixed — and runs the scenario once more with the documented workaround, which must pass.
 */
/** @type {Partial<Record<Runtime, { symptom: RegExp, summary: string, workaround: 'workers-safe-fetch' }>>} */
export const KNOWN_ISSUES = {};

/** Generous bound for one runtime run: only there so a hang fails instead of blocking CI. */
const RUN_TIMEOUT_MS = 90_000;

/** Environment for the child runtimes: no update checks, no telemetry, no prompts, no colours. */
const childEnv = () => ({
  ...process.env,
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
  DO_NOT_TRACK: '1',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
});

/** @returns {UnavailableProbe} */
const unavailable = (runtime, reason, detail) => ({ runtime, available: false, reason, detail });

/** Runs `bin --version` and returns its first line, or the failure. */
function versionOf(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', env: childEnv(), timeout: 30_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  if (run.error || run.status !== 0) return { ok: false, output: run.error?.message ?? output };
  // `1.4.5`, `deno 2.9.6 (stable, …)`, `workerd 2026-04-26` → the version itself.
  const first = output.split('\n')[0];
  return { ok: true, output: /\d[\w.-]*/.exec(first)?.[0] ?? first };
}

/**
 * The binary an npm-distributed runtime (bun, deno) installs, and whether it starts.
 * @returns {Probe}
 */
function probeNpmBinary(runtime, binName) {
  let manifestPath;
  try {
    manifestPath = require.resolve(`${runtime}/package.json`);
  } catch {
    return unavailable(runtime, 'no-binary-for-platform', `the "${runtime}" npm package is not installed`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const platforms = manifest.os ?? [];
  if (platforms.length > 0 && !platforms.includes(process.platform))
    return unavailable(
      runtime,
      'no-binary-for-platform',
      `${runtime} ships no binary for ${process.platform}`,
    );
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[binName];
  // deno's bin is a Node launcher (bin.cjs) for the executable its postinstall puts next to it;
  // run that executable directly (the launcher would install it lazily, racing parallel runs).
  const binPath = join(dirname(manifestPath), bin.endsWith('.cjs') ? binName : bin);
  if (!existsSync(binPath))
    return unavailable(runtime, 'install-script-not-run', `${binPath} is missing (postinstall not run)`);
  const version = versionOf(binPath);
  if (!version.ok && /postinstall/i.test(version.output))
    return unavailable(runtime, 'install-script-not-run', version.output.split('\n')[0]);
  if (!version.ok) {
    const platformPackages = Object.keys(manifest.optionalDependencies ?? {});
    const installed = platformPackages.some((name) => {
      try {
        require.resolve(`${name}/package.json`, { paths: [dirname(manifestPath)] });
        return true;
      } catch {
        return false;
      }
    });
    return installed
      ? unavailable(runtime, 'binary-does-not-start', version.output)
      : unavailable(
          runtime,
          'no-binary-for-platform',
          `no ${runtime} binary package for ${process.platform}-${process.arch}`,
        );
  }
  return { runtime, available: true, version: version.output, command: binPath };
}

/** True when `version` (x.y.z) satisfies a `>=a.b.c` engines range (the only form miniflare uses). */
function satisfiesMinimum(version, range) {
  const minimum = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (!minimum) return true;
  const have = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const want = Number(minimum[i + 1]);
    if (have[i] !== want) return have[i] > want;
  }
  return true;
}

/** @returns {Probe} */
function probeWorkerd() {
  const manifestPath = require.resolve('miniflare/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const engines = manifest.engines?.node ?? '';
  if (!satisfiesMinimum(process.versions.node, engines))
    return unavailable(
      'workerd',
      'node-too-old-for-miniflare',
      `miniflare ${manifest.version} needs Node ${engines}, this is ${process.version}`,
    );
  let workerdBin;
  try {
    const workerdManifest = require.resolve('workerd/package.json', { paths: [dirname(manifestPath)] });
    workerdBin = join(dirname(workerdManifest), 'bin', 'workerd');
  } catch {
    return unavailable('workerd', 'no-binary-for-platform', 'the "workerd" npm package is not installed');
  }
  const version = versionOf(workerdBin);
  if (!version.ok)
    return unavailable(
      'workerd',
      /Unsupported platform|could not find|not found/i.test(version.output)
        ? 'no-binary-for-platform'
        : 'binary-does-not-start',
      version.output.split('\n').slice(0, 3).join(' '),
    );
  return {
    runtime: 'workerd',
    available: true,
    version: `${version.output} (miniflare ${manifest.version})`,
    command: workerdBin,
  };
}

/**
 * Finds out whether `runtime` can run here, without running the scenario.
 * @param {Runtime} runtime
 * @returns {Probe}
 */
export function probeRuntime(runtime) {
  switch (runtime) {
    case 'node':
      return { runtime, available: true, version: process.versions.node, command: process.execPath };
    case 'bun':
      return probeNpmBinary('bun', 'bun');
    case 'deno':
      return probeNpmBinary('deno', 'deno');
    case 'workerd':
      return probeWorkerd();
    default:
      throw new Error(`unknown runtime ${runtime}`);
  }
}

/**
 * Starts the emulator and the control server the scenario uses to revoke tokens mid-run.
 * Every run gets its own pair, so the emulator's counters describe exactly one scenario.
 */
async function startHost() {
  const gateway = await startEkaGateway();
  const control = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/revoke-access-tokens') {
      gateway.control.revokeAllAccessTokens();
      response.writeHead(204).end();
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (control.address());
  const config = {
    gatewayUrl: gateway.url,
    controlUrl: `http://127.0.0.1:${port}`,
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
  };
  const close = async () => {
    control.closeAllConnections();
    await new Promise((resolve) => control.close(resolve));
    await gateway.close();
  };
  return { gateway, config, close };
}

/** Runs a command to completion; resolves with its output (never rejects on a non-zero exit). */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: packageDir,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

/** The scenario's JSON result from a child's stdout, or an error describing what came out instead. */
function parseResult(output) {
  const line = output.stdout.split('\n').find((text) => text.startsWith('EKA_SCENARIO_RESULT '));
  if (line) return JSON.parse(line.slice('EKA_SCENARIO_RESULT '.length));
  return {
    steps: {},
    error: `no result (exit ${output.code}): ${output.stderr.trim() || output.stdout.trim()}`,
  };
}

async function runInChild(probe, config) {
  const main = join(scenarioDir, 'main.mjs');
  const json = JSON.stringify(config);
  switch (probe.runtime) {
    case 'node':
      return parseResult(await run(process.execPath, [main, json]));
    case 'bun':
      return parseResult(await run(probe.command, [main, json]));
    case 'deno':
      // Only loopback network; no lockfile, no prompts. Bare specifiers resolve through node_modules.
      return parseResult(
        await run(probe.command, [
          'run',
          '--quiet',
          '--no-prompt',
          '--no-lock',
          '--allow-net=127.0.0.1',
          main,
          json,
        ]),
      );
    default:
      throw new Error(`not a child-process runtime: ${probe.runtime}`);
  }
}

/** Bundles scenario/worker.mjs the way wrangler would (esbuild, workerd conditions) and runs it in miniflare. */
async function runInWorkerd(config) {
  const { build } = await import('esbuild');
  const bundle = await build({
    entryPoints: [join(scenarioDir, 'worker.mjs')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const { Miniflare } = await import('miniflare');
  const miniflare = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0].text,
    // A fixed date: the behaviour must not change when workerd updates. No nodejs_compat flag:
    // core + fetch adapter must run on plain workers.
    compatibilityDate: '2025-09-01',
  });
  try {
    const response = await miniflare.dispatchFetch('http://scenario.local/', {
      method: 'POST',
      body: JSON.stringify(config),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { steps: {}, error: `worker answered ${response.status}: ${text.slice(0, 500)}` };
    }
  } finally {
    await miniflare.dispose();
  }
}

/**
 * Runs the scenario on `runtime` against a fresh emulator.
 * @param {Runtime} runtime
 * @param {Probe} [probe] from {@link probeRuntime}
 * @param {{ coreFetch?: 'default' | 'workers-safe-fetch' }} [options] `workers-safe-fetch`: the documented
 *   workaround of the known workerd issue (a `fetch` option for createEkaAuth)
 * @returns {Promise<Outcome>} the probe, plus (when it ran) the scenario result and the emulator's
 *   counters afterwards
 */
export async function runOnRuntime(runtime, probe = probeRuntime(runtime), { coreFetch = 'default' } = {}) {
  if (!probe.available) return { ...probe, outcome: 'unavailable' };
  const host = await startHost();
  try {
    const config = { ...host.config, coreFetch };
    const result = runtime === 'workerd' ? await runInWorkerd(config) : await runInChild(probe, config);
    return { ...probe, outcome: 'ran', result, stats: structuredClone(host.gateway.stats) };
  } finally {
    await host.close();
  }
}

/** What every runtime must produce: the steps of the scenario (the body echoed names the runtime). */
export function expectedSteps(runtime) {
  return {
    login: { state: 'valid', generation: 1 },
    call: { status: 200, generation: 1, bodyText: JSON.stringify({ hello: runtime }) },
    retry: { status: 200, generation: 2, snapshotGeneration: 2 },
    redirect: { status: 200, foreign: true, receivedAuth: false, receivedAuthorization: false },
  };
}

/** The emulator's view of a correct run: one login, one refresh, one 401, one foreign request, no leak. */
export function summariseStats(stats) {
  return {
    logins: stats.logins,
    refreshes: stats.refreshes,
    v1Refreshes: stats.v1Refreshes,
    unauthorized: stats.apiCalls.unauthorized,
    foreignRequests: stats.foreignRequests,
    tokenLeaks: stats.tokenLeaks,
    wrongPlace: stats.wrongPlace,
    protocolViolations: stats.protocolViolations,
  };
}

export const EXPECTED_STATS = {
  logins: { ok: 1, rejected: 0 },
  refreshes: { ok: 1, rejected: 0, reused: 0 },
  v1Refreshes: 0,
  unauthorized: 1,
  foreignRequests: 1,
  tokenLeaks: 0,
  wrongPlace: 0,
  protocolViolations: [],
};

/**
 * One line for logs and CI output.
 * @param {Outcome} outcome
 */
export function describeOutcome(outcome) {
  if (outcome.outcome === 'unavailable')
    return `${outcome.runtime}: NOT RUN — ${outcome.reason} (${outcome.detail}); see tests/runtimes/README.md`;
  const ok =
    !outcome.result.error &&
    isDeepStrictEqual(outcome.result.steps, expectedSteps(outcome.runtime)) &&
    isDeepStrictEqual(summariseStats(outcome.stats), EXPECTED_STATS);
  return `${outcome.runtime} ${outcome.version}: ${ok ? 'passed' : 'FAILED'} — login, call, revoke + 401 retry, cross-origin redirect (token leaks: ${outcome.stats.tokenLeaks})${outcome.result.error ? `; error: ${outcome.result.error}` : ''}`;
}
