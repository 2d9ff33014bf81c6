import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createEkaAuth } from '../src/index';
import { fakeEka, SECRET } from './fakeEka';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('lifecycle', () => {
  it('a Node process holding an EkaAuth with a scheduled refresh and a pending timeout exits when its work is done', () => {
    expect(existsSync(dist), 'build @eka/auth-core first (turbo runs build before test)').toBe(true);
    const script = `
      import { createEkaAuth } from ${JSON.stringify(dist)};
      let calls = 0;
      const fetch = async () => {
        calls++;
        if (calls > 1) return new Promise(() => {}); // a refresh that hangs (its timeout is pending)
        return Response.json({ access_token: 'a', refresh_token: 'r', expires_in: 1800 });
      };
      const auth = createEkaAuth({ clientId: 'c', clientSecret: 's', fetch, autoRefresh: true, timeoutMs: 600000 });
      await auth.getAccessToken();
      auth.getAccessToken({ forceRefresh: true }).catch(() => {});
      console.log('work done');
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(child.stdout).toContain('work done');
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('creating and disposing 10,000 instances leaves no listeners or timers behind', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let n = 0;
    const fetch = (async () =>
      Response.json({
        access_token: `token-${++n}`,
        refresh_token: 'r',
        expires_in: 1800,
      })) as typeof globalThis.fetch;
    const signal = new AbortController().signal;
    let added = 0;
    let removed = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<typeof remove>) => {
      removed++;
      remove(...args);
    };
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) {
      const auth = createEkaAuth({ clientId: 'c', clientSecret: SECRET, fetch, autoRefresh: true });
      const unsubscribe = auth.subscribe(() => {});
      await auth.authorize('https://api.eka.care/x', { signal });
      unsubscribe();
      auth.dispose();
    }
    expect(added).toBe(removed);
    gc();
    // 10k disposed instances must not be retained (each holds closures, timers and tokens: ~kBs).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('autoRefresh refreshes on an unref’d timer when the window opens, and dispose() cancels it', async () => {
    const eka = fakeEka({ expiresIn: 1 });
    const auth = createEkaAuth({ clientId: 'c', clientSecret: SECRET, fetch: eka.fetch, autoRefresh: true });
    await auth.getAccessToken();
    await new Promise((r) => setTimeout(r, 1_100));
    expect(eka.stats.refreshes).toBeGreaterThanOrEqual(1);
    auth.dispose();
    const after = eka.stats.refreshes;
    await new Promise((r) => setTimeout(r, 1_100));
    expect(eka.stats.refreshes).toBe(after);
  });
});
