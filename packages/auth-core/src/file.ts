import { chmod, type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredSession, TokenStorage } from './types';

/** Options of {@link fileStorage}. */
export interface FileStorageOptions {
  /**
   * A lock file untouched for this long is taken over even if its process seems alive (a live holder
   * touches it every third of this; one whose process is gone from this machine is taken over at once).
   * Default 10 000 ms.
   */
  staleLockMs?: number;
}

/**
 * Token storage in a JSON file for Node CLIs and processes on one machine: tokens survive between
 * runs, so a second run makes no login. The file is written with mode 0600 (directory 0700) by
 * write-then-rename, so a crash never leaves half a file; a corrupt file is ignored with a warning and
 * overwritten on the next save. One file can hold several credentials (one entry per storage key).
 *
 * Processes sharing the file make one login/refresh between them and never present a refresh token
 * twice: the core runs each under `lock`, which holds `<path>.lock` (created exclusively, holding the
 * pid), and whoever waited finds the new session in the file. Writes hold `<path>.write.lock`, so two
 * processes saving different credentials never lose one.
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
      // Anything but a JSON object (`[]`, a number, `null`) is corrupt: handed over as text, then overwritten.
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : text;
    } catch {
      return text;
    }
  };
  const update = (change: (all: Record<string, unknown>) => void) =>
    withLockFile(`${path}.write.lock`, staleMs, undefined, async () => {
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
    lock: (_key, fn, { signal }) => withLockFile(`${path}.lock`, staleMs, signal, fn),
  };
}

/**
 * Runs `fn` while holding `file`, created exclusively (`wx`) with our pid in it. Others wait, polling
 * with a growing pause, until it is removed, `signal` aborts, or it is abandoned: its pid is gone from
 * this machine, or nobody touched it for `staleMs` (a live holder touches it every `staleMs / 3`).
 */
async function withLockFile<T>(
  file: string,
  staleMs: number,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Unique to this holding: the pid (to tell a dead holder) and a nonce (inode numbers are reused at
  // once on most file systems, so only the content tells one lock file from the next).
  const id = `${process.pid} ${Date.now().toString(36)}${Math.random().toString(36).slice(2)}\n`;
  let handle: FileHandle | undefined;
  for (let pause = 5; !(handle = await tryLock(file, id)); pause = Math.min(pause * 2, 100)) {
    const abandoned = await abandonedLock(file, staleMs);
    if (abandoned !== undefined) {
      await takeOver(file, abandoned, staleMs);
      continue;
    }
    await wait(pause + Math.random() * pause, signal);
  }
  const held = handle;
  // Touched through our own handle: a lock taken over meanwhile (we were frozen past `staleMs`) is
  // another process's file, which we neither keep alive nor remove.
  const touch = setInterval(() => {
    const now = new Date();
    held.utimes(now, now).catch(() => {});
  }, staleMs / 3);
  touch.unref?.();
  try {
    return await fn();
  } finally {
    clearInterval(touch);
    await held.close().catch(() => {});
    if ((await readFile(file, 'utf8').catch(() => undefined)) === id) await rm(file, { force: true });
  }
}

/**
 * Removes the abandoned lock `file` (whose content was `content`), one waiter at a time: under
 * `<file>.takeover` it is checked again, so of several waiters that found it abandoned only one
 * removes it, and none removes the lock another has taken since. A takeover guard left by a process
 * that died holding it (a few milliseconds' window) is removed once older than `staleMs`.
 */
async function takeOver(file: string, content: string, staleMs: number): Promise<void> {
  const guardFile = `${file}.takeover`;
  const guard = await tryLock(guardFile, `${process.pid}\n`);
  if (!guard) {
    const info = await stat(guardFile).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > staleMs) await rm(guardFile, { force: true });
    else await wait(5, undefined);
    return;
  }
  try {
    if ((await abandonedLock(file, staleMs)) === content) await rm(file, { force: true });
  } finally {
    await guard.close().catch(() => {});
    await rm(guardFile, { force: true });
  }
}

/** Creates `file` exclusively and writes `content`; `undefined` when it exists (another holder). */
async function tryLock(file: string, content: string): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error: any) {
    if (error?.code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(file, { force: true });
    throw error;
  }
  return handle;
}

/** The content of an abandoned lock file (see {@link withLockFile}); `undefined` while held or gone. */
async function abandonedLock(file: string, staleMs: number): Promise<string | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    if (Date.now() - info.mtimeMs > staleMs) return text;
    const pid = Number.parseInt(text, 10);
    // The pid is written right after the exclusive create: an empty file is a holder about to write it.
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
      return undefined;
    } catch (error: any) {
      return error?.code === 'ESRCH' ? text : undefined;
    }
  } catch {
    // Released meanwhile: the next attempt takes it.
    return undefined;
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
