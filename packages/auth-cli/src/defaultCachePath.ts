import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where `eka-auth token` keeps sessions by default: `$XDG_CACHE_HOME/eka-auth/sessions.json`, else
 * `%LOCALAPPDATA%\eka-auth\sessions.json` on Windows, else `~/.cache/eka-auth/sessions.json`.
 */
export function defaultCachePath(env: Readonly<Record<string, string | undefined>>): string {
  const base =
    env.XDG_CACHE_HOME ||
    (process.platform === 'win32' && env.LOCALAPPDATA) ||
    join(env.HOME || homedir(), '.cache');
  return join(base, 'eka-auth', 'sessions.json');
}
