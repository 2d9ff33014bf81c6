import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredSession, TokenStorage } from './types';

/**
 * Token storage in a JSON file for Node CLIs: tokens survive between runs, so a second run makes
 * no login. The file is written with mode 0600 (directory 0700) by write-then-rename, so a crash
 * never leaves half a file; a corrupt file is ignored with a warning and overwritten on the next save.
 * One file can hold several credentials (one entry per storage key).
 */
export function fileStorage(path: string): TokenStorage {
  const readAll = async (): Promise<Record<string, unknown> | string> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error: any) {
      if (error?.code === 'ENOENT') return {};
      throw error;
    }
    try {
      const parsed = JSON.parse(text);
      return parsed && typeof parsed === 'object' ? parsed : text;
    } catch {
      return text;
    }
  };
  const update = async (change: (all: Record<string, unknown>) => void) => {
    const current = await readAll();
    const all = typeof current === 'string' ? {} : current;
    change(all);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, JSON.stringify(all, null, 2), { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  };
  return {
    async get(key) {
      const all = await readAll();
      // A corrupt file is handed over as text: the core rejects it with a warning.
      return typeof all === 'string' ? all : all[key];
    },
    set: (key, value: StoredSession) =>
      update((all) => {
        all[key] = value;
      }),
    delete: (key) =>
      update((all) => {
        delete all[key];
      }),
  };
}
