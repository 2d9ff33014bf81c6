import { chmod, mkdir, open, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredSession, TokenStorage } from './types';

/** Options of {@link fileStorage}. */
export interface FileStorageOptions {
  /**
   * A lock file whose holder has not touched it for this long is taken over (its process crashed).
   * A live holder touches it every third of this. Default 10 000 ms.
   */
  staleLockMs?: number;
}

/**
 * Token storage in a JSON file for Node CLIs and small fleets on one machine: tokens survive between
 * runs, so a second run makes no login. The file is written with mode 0600 (directory 0700) by
 * write-then-rename, so a crash never leaves half a file; a corrupt file is ignored with a warning and
 * overwritten on the next save. One file can hold several credentials (one entry per storage key).
 *
 * Processes sharing the file make one login/refresh between them: the core runs each under `lock`, a
 * lock file beside the tokens (`<path>.<key>.lock`, created exclusively), and whoever waited adopts
 * the stored result. Writes are serialised by a second lock file (`<path>.lock`), so two processes
 * saving different credentials never lose one.
 */
export function fileStorage(path: string, options: FileStorageOptions = {}): TokenStorage {
  const staleMs = options.staleLockMs ?? 10_000;
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
  const update = (change: (all: Record<string, unknown>) => void) =>
    withLockFile(`${path}.lock`, staleMs, undefined, async () => {
      const current = await readAll();
      const all = typeof current === 'string' ? {} : current;
      change(all);
      const temporary = `${path}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(temporary, JSON.stringify(all, null, 2), { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, path);
    });
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
    lock: (key, fn, { signal }) =>
      withLockFile(`${path}.${key.replace(/[^\w.-]/g, '_')}.lock`, staleMs, signal, fn),
  };
}

/**
 * Runs `fn` while holding `file`, created exclusively (`wx`): other holders wait, polling with a
 * growing pause, until it is removed, `signal` aborts, or it is older than `staleMs` (its holder died:
 * a live holder touches it every `staleMs / 3`).
 */
async function withLockFile<T>(
  file: string,
  staleMs: number,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    signal?.throwIfAborted();
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.close();
      break;
    } catch (error: any) {
      if (error?.code !== 'EEXIST') throw error;
    }
    const touched = await stat(file).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (touched !== undefined && Date.now() - touched > staleMs) {
      // Take over by renaming the stale file away: of several waiters, only one rename succeeds.
      const away = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.stale`;
      if (
        await rename(file, away).then(
          () => true,
          () => false,
        )
      )
        await rm(away, { force: true });
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  const touch = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => {});
  }, staleMs / 3);
  touch.unref?.();
  try {
    return await fn();
  } finally {
    clearInterval(touch);
    await rm(file, { force: true });
  }
}
