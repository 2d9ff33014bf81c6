import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmptyRegistry } from '../src/fakeRegistry';
import {
  copyWorkspace,
  ROOT,
  readManifest,
  replaceChangesets,
  runCommand,
  type WorkspaceCopy,
} from '../src/workspaceCopy';

interface PlannedRelease {
  name: string;
  type: 'major' | 'minor' | 'patch' | 'none';
  oldVersion: string;
  newVersion: string;
}

const CORE = '@eka/auth-core';
let copy: WorkspaceCopy;

beforeAll(() => {
  copy = copyWorkspace();
}, 120_000);

afterAll(() => copy?.remove());

/** `changeset status --output`: what `changeset version` would do, without doing it. */
async function releasePlan(): Promise<PlannedRelease[]> {
  const output = await copy.changeset(['status', '--output=release-plan.json']);
  expect(output.code, output.transcript).toBe(0);
  const plan = JSON.parse(readFileSync(join(copy.dir, 'release-plan.json'), 'utf8')) as {
    releases: PlannedRelease[];
  };
  return plan.releases.filter((release) => release.type !== 'none');
}

const publicNames = () => copy.packages.filter((pkg) => !pkg.private).map((pkg) => pkg.name);
const privatePackages = () => copy.packages.filter((pkg) => pkg.private);

describe('the pending changesets, released for real in a copy of the workspace (dry run)', () => {
  beforeAll(() => copy.reset());

  it('changeset version, then pnpm -r publish --dry-run: planned versions, independent, private packages untouched', async () => {
    const pending = copy.pendingChangesets();
    const asked = new Map<string, string>(); // what the changesets themselves ask for, per package
    for (const file of pending) {
      const text = readFileSync(join(copy.dir, '.changeset', file), 'utf8');
      for (const [, name, type] of text.matchAll(/^["']?([^"':\n]+)["']?:\s*(major|minor|patch)\s*$/gm)) {
        const rank = ['patch', 'minor', 'major'];
        if (rank.indexOf(type!) > rank.indexOf(asked.get(name!) ?? '')) asked.set(name!, type!);
      }
    }
    const plan = await releasePlan();
    const before = copy.versions();

    const version = await copy.changeset(['version']);
    expect(version.code, version.transcript).toBe(0);
    const after = copy.versions();
    expect(copy.pendingChangesets(), 'changeset version consumes every changeset').toEqual([]);

    // Each package moves to the version planned for it from its own bump: no shared version.
    for (const name of publicNames()) {
      const release = plan.find((candidate) => candidate.name === name);
      expect(after[name], name).toBe(release ? release.newVersion : before[name]);
    }
    // Private packages (examples, bench, tests) are never versioned and get no changelog.
    for (const pkg of privatePackages()) {
      expect(after[pkg.name], pkg.name).toBe(before[pkg.name]);
      expect(existsSync(join(copy.dir, pkg.dir, 'CHANGELOG.md')), `${pkg.name} has no CHANGELOG.md`).toBe(
        false,
      );
    }
    for (const release of plan) {
      expect(publicNames(), `${release.name} is released, so it must be public`).toContain(release.name);
      const changelog = readFileSync(
        join(copy.dir, copy.packages.find((p) => p.name === release.name)!.dir, 'CHANGELOG.md'),
        'utf8',
      );
      expect(changelog, release.name).toContain(`## ${release.newVersion}`);
    }

    const registry = await startEmptyRegistry();
    try {
      const publish = await copy.pnpm([
        '-r',
        'publish',
        '--dry-run',
        '--no-git-checks',
        `--registry=${registry.url}`,
      ]);
      expect(publish.code, publish.transcript).toBe(0);
      const published = [...publish.stdout.matchAll(/^\+ (@?[^@\s]+)@(\S+)$/gm)].map(
        ([, name, v]) => `${name}@${v}`,
      );
      expect(published.sort()).toEqual(
        publicNames()
          .map((name) => `${name}@${after[name]}`)
          .sort(),
      );
      expect(
        registry.requests.filter((request) => !request.startsWith('GET ')),
        'a dry run writes nothing',
      ).toEqual([]);
    } finally {
      await registry.close();
    }

    // Report the plan, and what no changeset asked for: a major forced by a peer range (see CONTRIBUTING.md).
    const lines = plan.map(
      (release) =>
        `${release.name} ${release.oldVersion} → ${release.newVersion} (${release.type}${asked.get(release.name) === release.type ? '' : `; changesets asked for ${asked.get(release.name) ?? 'nothing'}`})`,
    );
    console.log(`[release] pending changesets (${pending.join(', ')}) release:\n  ${lines.join('\n  ')}`);
    const forced = plan.filter((release) => release.type === 'major' && asked.get(release.name) !== 'major');
    if (forced.length > 0)
      console.warn(
        `[release] WARNING: ${forced.map((release) => `${release.name} → ${release.newVersion}`).join(', ')} get a major ` +
          `that no changeset asked for: ${CORE}'s next version leaves their peer range (^${before[CORE]}). See CONTRIBUTING.md, "Peer ranges".`,
      );
  });
});

describe('version policy (synthetic changesets in the same copy)', () => {
  // The policy as it applies after the first release: every published package at 1.0.0
  // (in the repository they are 0.0.0 until then, and the first-release changesets are majors).
  beforeEach(() => {
    copy.reset();
    for (const pkg of copy.packages.filter((p) => !p.private)) {
      const file = join(copy.dir, pkg.dir, 'package.json');
      writeFileSync(
        file,
        JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: '1.0.0' }, null, 2),
      );
    }
  });

  const peersOf = (name: string) =>
    copy.packages
      .filter((pkg) => !pkg.private && readManifest(copy.dir, pkg).peerDependencies?.[name])
      .map((pkg) => pkg.name)
      .sort();

  it('independent versions: a patch to @eka/auth-fetch releases @eka/auth-fetch alone', async () => {
    replaceChangesets(copy, { '@eka/auth-fetch': 'patch' });
    const plan = await releasePlan();
    expect(plan.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: '@eka/auth-fetch', type: 'patch' },
    ]);
  });

  it('peers in range: a core patch releases the core alone (onlyUpdatePeerDependentsWhenOutOfRange)', async () => {
    expect(peersOf(CORE).length, 'adapters peer on the core').toBeGreaterThan(0);
    replaceChangesets(copy, { [CORE]: 'patch' });
    const plan = await releasePlan();
    expect(plan.map(({ name, type }) => ({ name, type }))).toEqual([{ name: CORE, type: 'patch' }]);
  });

  it('peers out of range: a core minor in 0.x leaves `^0.x` and gives every adapter a major; from 1.x it releases the core alone', async () => {
    const coreVersion = copy.versions()[CORE]!;
    replaceChangesets(copy, { [CORE]: 'minor' });
    const plan = await releasePlan();
    const dependents = plan.filter((release) => release.name !== CORE);
    if (coreVersion.startsWith('0.')) {
      expect(dependents.map((release) => release.name).sort()).toEqual(peersOf(CORE));
      expect(new Set(dependents.map((release) => release.type))).toEqual(new Set(['major']));
    } else {
      expect(dependents).toEqual([]);
    }
  });

  it('a changeset naming a private package versions nothing, and check-changesets rejects it', async () => {
    const example = privatePackages()[0]!;
    const before = copy.versions()[example.name];
    replaceChangesets(copy, { [example.name]: 'patch' });
    const check = await runCommand(
      process.execPath,
      [join(ROOT, 'tooling', 'check-changesets.mjs'), 'HEAD'],
      copy.dir,
    );
    expect(check.code, check.transcript).toBe(1);
    expect(check.stdout).toContain(`names ${example.name}, which is private`);
    // changesets silently ignores it (and leaves it pending): the package is not versioned.
    const output = await copy.changeset(['version']);
    expect(copy.versions()[example.name], output.transcript).toBe(before);
    expect(existsSync(join(copy.dir, example.dir, 'CHANGELOG.md'))).toBe(false);
  });
});
