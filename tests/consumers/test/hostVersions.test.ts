import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchProject, runCommand, type ScratchProject } from '../src/scratch';
import { ensureBuilt, type PackedPackage, pack, publishedPackages } from '../src/workspace';

const HOST_FIXTURES = new URL('../host-fixtures', import.meta.url).pathname;
const SCENARIO = new URL('../fixtures/scenario.mjs', import.meta.url).pathname;

/**
 * The newest major of each host client, installed with npm's defaults next to the packed adapter — no
 * `--legacy-peer-deps`, no `--force` — the way `npm i @eka/auth-got got` does it today. `driven` names the
 * adapter fixtures/scenario.mjs makes a real call through, where the host supports this Node.
 */
const NEWEST_HOSTS = [
  { adapter: '@eka/auth-axios', host: 'axios', range: '1' },
  { adapter: '@eka/auth-got', host: 'got', range: '16' },
  { adapter: '@eka/auth-openapi-fetch', host: 'openapi-fetch', range: '0.17' },
] as const;

/**
 * vitest (for @eka/auth-testing/contract) and msw (for @eka/auth-testing/msw), the oldest and newest
 * release of each major the peer ranges claim that the workspace does not already run (it has vitest
 * 4.1 and msw 2.15): each pair gets a scratch project and runs host-fixtures/ with its own vitest.
 */
const TEST_HOSTS = [
  { vitest: '3.0.0', msw: '2.0.0' },
  { vitest: '3.2.7', msw: '2.15.0' },
  // vitest 4.0.0 itself no longer starts ("Unknown method: getBuiltins"), with or without us: 4.0.1 is
  // the oldest 4 that runs.
  { vitest: '4.0.1', msw: '2.0.0' },
  { vitest: '5.0.0', msw: '3.0.0' },
  { vitest: '5.1.2', msw: '3.0.5' },
] as const;

const packages = publishedPackages();
let tarballDir: string;
let packed: PackedPackage[] = [];
const tarball = (name: string) => packed.find((pkg) => pkg.manifest.name === name)!.tarball;
const scratches: ScratchProject[] = [];

const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
/** True when this Node is at least the lowest version a `>=22` / `^22.12.0 || …` engines range admits. */
const nodeAdmits = (range = '*') => {
  const [, major = '0', minor = '0'] = /(\d+)(?:\.(\d+))?/.exec(range) ?? [];
  return nodeMajor > Number(major) || (nodeMajor === Number(major) && nodeMinor >= Number(minor));
};
const manifestIn = (dir: string, name: string) =>
  JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
    engines?: { node?: string };
  };
/** npm's output lines about peer conflicts (ERESOLVE, "Conflicting peer dependency", "invalid"). */
const peerTrouble = (text: string) =>
  text.split('\n').filter((line) => /ERESOLVE|conflicting peer|peer dep.*invalid|invalid:/i.test(line));

async function scratchWith(dependencies: Record<string, string>, tarballs: string[], fixtures?: string) {
  const project = await createScratchProject({ tarballs, dependencies, fixtures, loglevel: 'warn' });
  scratches.push(project);
  return project;
}

beforeAll(async () => {
  await ensureBuilt(packages);
  tarballDir = mkdtempSync(join(tmpdir(), 'eka-host-tarballs-'));
  packed = await Promise.all(packages.map((pkg) => pack(pkg, tarballDir)));
}, 240_000);

afterAll(() => {
  for (const project of scratches) project.remove();
  if (tarballDir && !process.env.EKA_KEEP_SCRATCH) rmSync(tarballDir, { recursive: true, force: true });
});

describe.each(NEWEST_HOSTS)(
  '$adapter next to $host@$range (the newest major)',
  ({ adapter, host, range }) => {
    let project: Promise<ScratchProject> | undefined;
    const install = () => {
      project ??= scratchWith({ [host]: range }, [
        tarball('@eka/auth-core'),
        tarball('@eka/auth-testing'),
        tarball(adapter),
      ]);
      return project;
    };

    it('npm install succeeds with no peer conflict, and npm ls finds no invalid peer', async () => {
      const { install: result, dir } = await install();
      expect(result.code, result.transcript).toBe(0);
      expect(peerTrouble(`${result.stdout}${result.stderr}`), result.transcript).toEqual([]);
      const ls = await runCommand('npm', ['ls', '--all', '--omit=optional'], { cwd: dir });
      expect(ls.code, ls.transcript).toBe(0);
      expect(peerTrouble(ls.stdout), ls.transcript).toEqual([]);
    });

    it('a real call through the packed adapter (where the host runs on this Node)', async ({ skip }) => {
      const { dir } = await install();
      const { version, engines } = manifestIn(dir, host);
      if (!nodeAdmits(engines?.node))
        return skip(
          `${host} ${version} needs Node ${engines?.node} (tests/node-matrix runs this on Node >= 22)`,
        );
      cpSync(SCENARIO, join(dir, 'scenario.mjs'));
      const output = await runCommand(process.execPath, ['scenario.mjs', JSON.stringify([adapter])], {
        cwd: dir,
      });
      const line = output.stdout.split('\n').find((text) => text.startsWith('EKA_CONSUMER_RESULT '));
      expect(line, output.transcript).toBeDefined();
      const { results, stats } = JSON.parse(line!.slice('EKA_CONSUMER_RESULT '.length));
      expect(results, output.transcript).toEqual({
        [adapter]: {
          first: { status: 200, clientId: 'demo-client' },
          afterRevoke: { status: 200, clientId: 'demo-client' },
        },
      });
      expect(stats).toMatchObject({ logins: { ok: 1 }, refreshes: { ok: 1, reused: 0 }, tokenLeaks: 0 });
      console.log(`[consumers] ${adapter} with ${host} ${version} on Node ${process.versions.node}: passed`);
    });
  },
);

describe.each(TEST_HOSTS)('@eka/auth-testing with vitest $vitest and msw $msw', ({ vitest, msw }) => {
  let project: Promise<ScratchProject> | undefined;
  const install = () => {
    project ??= scratchWith(
      { vitest, msw },
      ['@eka/auth-core', '@eka/auth-fetch', '@eka/auth-testing'].map(tarball),
      HOST_FIXTURES,
    );
    return project;
  };

  it('npm install succeeds with no peer conflict', async () => {
    const { install: result } = await install();
    expect(result.code, result.transcript).toBe(0);
    expect(peerTrouble(`${result.stdout}${result.stderr}`), result.transcript).toEqual([]);
  });

  it('its vitest runs the packed adapter contract (fetch) and the packed msw handlers', async ({ skip }) => {
    const { dir } = await install();
    const needs = [manifestIn(dir, 'vitest'), manifestIn(dir, 'msw')].find(
      (manifest) => !nodeAdmits(manifest.engines?.node),
    );
    if (needs) return skip(`needs Node ${needs.engines?.node} (tests/node-matrix runs this on Node >= 22)`);
    const output = await runCommand(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.config.mjs'],
      { cwd: dir, timeoutMs: 240_000 },
    );
    expect(output.code, output.transcript).toBe(0);
    const summary = output.stdout.split('\n').find((text) => /^\s*Tests\s/.test(text)) ?? '';
    expect(summary, output.transcript).toMatch(/\d+ passed/);
    expect(summary, output.transcript).not.toMatch(/failed/);
    console.log(
      `[consumers] vitest ${vitest} + msw ${msw} on Node ${process.versions.node}: ${summary.trim()}`,
    );
  });
});
