import { execFileSync } from 'node:child_process';

/** git with a fixed identity and no signing, hooks or user/system config: the same everywhere. */
export function git(args: string[], cwd: string): string {
  return execFileSync(
    'git',
    [
      '-c',
      'user.name=Release Check',
      '-c',
      'user.email=release-check@example.invalid',
      '-c',
      'commit.gpgsign=false',
      '-c',
      'core.hooksPath=/dev/null',
      ...args,
    ],
    {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    },
  );
}
