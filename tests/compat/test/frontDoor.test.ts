import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The front door as written: the README's opening commands, .ci/run and the root scripts agree, and the
// README's one-liners for other clients are the setups tests/compat runs.
const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const ciRun = read('.ci/run');
const rootPackage = JSON.parse(read('package.json'));
const clientsSource = readFileSync(new URL('../scenario/clients.mjs', import.meta.url), 'utf8');
const pnpmVersion = String(rootPackage.packageManager).replace(/^pnpm@/, '');

/** The commands of the README's first code block, comments stripped. */
const openingCommands = () => {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block
    .trim()
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim());
};

describe('front door', () => {
  it('the README opens with two commands: install pnpm + demo, then the whole suite', () => {
    expect(readme.indexOf('```sh')).toBeLessThan(readme.indexOf('\n## '));
    expect(openingCommands()).toEqual([
      `npm i -g pnpm@${pnpmVersion} && pnpm install && pnpm demo`,
      'pnpm test',
    ]);
  });

  it('pnpm test starts with the precheck; .ci/run runs it, installs the same pnpm and ends with pnpm test', () => {
    expect(rootPackage.scripts.test).toMatch(/^node tooling\/precheck\.mjs && /);
    const commands = ciRun.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
    expect(commands).toContain('node tooling/precheck.mjs');
    expect(commands.join('\n'), 'the apt logic lives in the precheck only').not.toContain('apt-get');
    expect(ciRun).toContain(`npm install -g pnpm@${pnpmVersion}`);
    expect(commands.at(-1)).toBe('pnpm test');
  });

  it('keeps the vitest summary as the closing line of pnpm test', () => {
    expect(rootPackage.scripts.test).toMatch(/pnpm test:vitest$/);
    expect(rootPackage.scripts['test:vitest']).toContain('node tooling/summary.mjs; exit $code');
  });

  it("the README's one-liners for other clients are the setups the compat scenarios run", () => {
    const section = readme.slice(
      readme.indexOf('## Other HTTP clients'),
      readme.indexOf('### Compatibility results'),
    );
    for (const setup of [
      'ky.create({ fetch: createAuthFetch(auth) })',
      'createFetch({ fetch: createAuthFetch(auth) })',
      '.fetchPolyfill(createAuthFetch(auth))',
    ]) {
      expect(section).toContain(setup);
      expect(clientsSource).toContain(setup);
    }
    expect(section).toContain('axiosRetry(api); attachEkaAuth(api, auth);');
    expect(clientsSource).toMatch(/axiosRetry\(api[^)]*\);\s+attachEkaAuth\(api, auth\);/);
  });
});
