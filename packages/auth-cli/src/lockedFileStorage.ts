import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenStorage } from '@eka/auth-core';
import { fileStorage } from '@eka/auth-core/file';

/** Options of {@link lockedFileStorage}. */
export interface LockedFileStorageOptions {
  /** A lock file older than this counts as abandoned even if its process seems alive. Default 60 000. */
  staleMs?: number;
  /** Pause between attempts to take the lock. Default 50 ms (plus up to 50 ms of jitter). */
  pollMs?: number;
}

/**
 * The core's file storage (0600, atomic writes) plus a cross-process `lock`, so that several
 * `eka-auth token` runs started at once make one login or refresh between them and never present the
 * same refresh token twice: the first takes `<path>.lock` (created exclusively), the others wait for
 * it and then find the new session in the file. A lock left by a process that died (its pid is gone,
 * or the file is older than `staleMs`) is taken over. Waiting is bounded by the core's own timeout.
 */
export function lockedFileStorage(path: string, options: LockedFileStorageOptions = {}): TokenStorage {
  const storage = fileStorage(path);
  const lockPath = `${path}.lock`;
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 50;
  return {
    get: (key) => storage.get(key),
    set: (key, value) => storage.set(key, value),
    delete: (key) => storage.delete(key),
    async lock(_key, fn, { signal }) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      while (!(await tryLock(lockPath))) {
        const abandoned = await abandonedLock(lockPath, staleMs);
        if (abandoned !== undefined) {
          // Remove it only if it is still the same file (not a fresh lock another waiter just took).
          const now = await stat(lockPath).catch(() => undefined);
          if (now?.ino === abandoned) await unlink(lockPath).catch(() => {});
          continue;
        }
        await pause(pollMs + Math.random() * pollMs, signal);
      }
      try {
        return await fn();
      } finally {
        await unlink(lockPath).catch(() => {});
      }
    },
  };
}

/** Creates the lock file exclusively; false when another process holds it. */
async function tryLock(lockPath: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (error: any) {
    if (error?.code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * The inode of the lock file when its holder is gone (no such pid on this machine) or it is older than
 * `staleMs`; `undefined` while it is held (or already released).
 */
async function abandonedLock(lockPath: string, staleMs: number): Promise<number | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    if (Date.now() - info.mtimeMs > staleMs) return info.ino;
    const pid = Number(text.trim());
    // The pid is written right after the exclusive create: an empty file is a holder about to write it.
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
      return undefined;
    } catch (error: any) {
      return error?.code === 'ESRCH' ? info.ino : undefined;
    }
  } catch {
    // Released meanwhile: the next attempt takes it.
    return undefined;
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
