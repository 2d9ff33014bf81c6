import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fileStorage } from '../src/file';
import { createEkaAuth, type EkaAuthEvent, MemoryStorage, type TokenStorage } from '../src/index';
import { webStorage } from '../src/web';
import { fakeEka, flush, manualClock, SECRET } from './fakeEka';

const URL_ = 'https://api.eka.care/x';

function make(storage: TokenStorage, eka = fakeEka(), clock = manualClock()) {
  const events: EkaAuthEvent[] = [];
  const auth = createEkaAuth({
    clientId: 'cid',
    clientSecret: SECRET,
    fetch: eka.fetch,
    clock: clock.clock,
    random: () => 0.5,
    storage,
    onEvent: (e) => events.push(e),
  });
  return { auth, eka, events, clock };
}

/** An in-process stand-in for a shared store with a lock (what Redis or Web Locks give). */
function sharedLockedStorage() {
  const inner = new MemoryStorage();
  let tail: Promise<unknown> = Promise.resolve();
  const storage: TokenStorage = {
    get: (k) => inner.get(k),
    set: (k, v) => inner.set(k, v),
    delete: (k) => inner.delete(k),
    lock<T>(_key: string, fn: () => Promise<T>) {
      const run = tail.then(fn, fn);
      tail = run.catch(() => undefined);
      return run;
    },
  };
  return storage;
}

describe('storage', () => {
  it('slow storage: a request right after construction waits for it and does not log in again', async () => {
    const eka = fakeEka();
    const stored = {
      v: 1,
      accessToken: 'from-storage',
      refreshToken: 'r',
      expiresAt: Date.now() + 3_600_000,
    };
    let release!: () => void;
    const slow: TokenStorage = {
      get: () => new Promise((resolve) => (release = () => resolve(stored))),
      set: vi.fn(),
      delete: vi.fn(),
    };
    const { auth } = make(slow, eka, manualClock(Date.now()));
    const pending = auth.authorize(URL_);
    await flush();
    release();
    expect((await pending).headers?.authorization).toBe('Bearer from-storage');
    expect(eka.stats.logins).toBe(0);
  });

  it('a throwing storage degrades to memory with one warning, never a crash', async () => {
    const broken: TokenStorage = {
      get: () => {
        throw new Error('SecurityError: no localStorage');
      },
      set: () => {
        throw new Error('QuotaExceededError');
      },
      delete: () => {
        throw new Error('nope');
      },
    };
    const { auth, events, eka } = make(broken);
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    await auth.getAccessToken({ forceRefresh: true });
    expect(events.filter((e) => e.type === 'warning' && e.message.includes('storage failed'))).toHaveLength(
      1,
    );
    expect(eka.stats.logins).toBe(1);
  });

  it("a storage failure's warning never carries what the storage quoted (the tokens)", async () => {
    const storage = new MemoryStorage();
    storage.set = (_key, value) => {
      throw Object.assign(new Error(`value too large: ${JSON.stringify(value)}`), { code: 'E2BIG' });
    };
    const { auth, events } = make(storage);
    const token = await auth.getAccessToken();
    await flush();
    const warning = events.find((e) => e.type === 'warning' && e.message.includes('storage failed'));
    expect(warning).toBeDefined();
    expect((warning as any).error).toMatchObject({
      code: 'STORAGE_FAILURE',
      message: 'storage failed (Error E2BIG)',
    });
    const { inspect } = await import('node:util');
    for (const text of [inspect(warning, { depth: Infinity, showHidden: true }), JSON.stringify(warning)])
      expect(text).not.toContain(token);
  });

  it('a storage that never answers degrades to memory after timeoutMs instead of hanging requests', async () => {
    const never = new Promise<never>(() => {});
    const hung: TokenStorage = { get: () => never, set: () => never, delete: () => never };
    const eka = fakeEka();
    const events: EkaAuthEvent[] = [];
    const auth = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: eka.fetch,
      storage: hung,
      timeoutMs: 200,
      onEvent: (e) => events.push(e),
    });
    expect(await auth.getAccessToken()).toBe('at-1');
    expect(events.some((e) => e.type === 'warning' && e.message.includes('storage failed'))).toBe(true);
    expect(await auth.getAccessToken()).toBe('at-1');
    expect(eka.stats.logins).toBe(1);
    auth.dispose();
  });

  it('a storage lock that ignores the signal and never calls back: the attempt still ends in time', async () => {
    const storage = Object.assign(new MemoryStorage(), {
      lock: () => new Promise<never>(() => {}),
    });
    const eka = fakeEka();
    const auth = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: eka.fetch,
      storage,
      timeoutMs: 100,
      retry: { attempts: 2, baseDelayMs: 1 },
      maxWaitMs: 0,
    });
    const started = Date.now();
    const error = await auth.getAccessToken().catch((e) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(eka.stats.logins).toBe(0);
    auth.dispose();
  });

  it('a quota error on save degrades after a good load', async () => {
    const storage = new MemoryStorage();
    storage.set = () => {
      throw new Error('QuotaExceededError');
    };
    const { auth, events } = make(storage);
    await auth.authorize(URL_);
    await flush();
    expect(events.some((e) => e.type === 'warning')).toBe(true);
    expect(auth.state).toBe('valid');
  });

  it('corrupt stored data is ignored with a warning', async () => {
    for (const garbage of [
      '{not json',
      { v: 1 },
      { v: 2, accessToken: 'x' },
      42,
      { v: 1, accessToken: 'a', expiresAt: 'soon' },
    ]) {
      const storage = new MemoryStorage();
      storage.set('eka-auth:cid', garbage as any);
      const { auth, events, eka } = make(storage);
      expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
      expect(events.some((e) => e.type === 'warning' && e.message.includes('corrupt'))).toBe(true);
      expect(eka.stats.logins).toBe(1);
    }
  });

  it('persists the session; a second instance on the same storage makes no login', async () => {
    const storage = new MemoryStorage();
    const clock = manualClock();
    const one = make(storage, fakeEka(), clock);
    await one.auth.authorize(URL_);
    await flush();
    const eka2 = fakeEka();
    const two = make(storage, eka2, clock);
    expect((await two.auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(eka2.calls).toHaveLength(0);
  });

  it('one client id on two gateways (staging, production) over one storage: each keeps its own token', async () => {
    const storage = new MemoryStorage();
    const staging = fakeEka();
    const production = fakeEka();
    const at = (baseUrl: string | undefined, eka: ReturnType<typeof fakeEka>) =>
      createEkaAuth({ clientId: 'cid', clientSecret: SECRET, baseUrl, fetch: eka.fetch, storage });
    const one = at('https://staging.example.com', staging);
    await one.authorize('https://staging.example.com/x');
    await flush();
    const two = at(undefined, production);
    await two.authorize(URL_);
    expect(production.stats.logins).toBe(1);
    expect(storage.get('eka-auth:cid@https://staging.example.com')?.accessToken).toBe('at-1');
    expect(storage.get('eka-auth:cid')?.accessToken).toBe('at-1');
    expect(staging.stats.logins).toBe(1);
    expect(two.getSnapshot().generation).toBe(1);
  });

  it('logout() deletes the stored session', async () => {
    const storage = new MemoryStorage();
    const { auth } = make(storage);
    await auth.authorize(URL_);
    await flush();
    expect(storage.get('eka-auth:cid')).toBeDefined();
    await auth.logout();
    expect(storage.get('eka-auth:cid')).toBeUndefined();
  });

  it('with a storage lock: check → lock → re-check gives one refresh for two instances', async () => {
    const storage = sharedLockedStorage();
    const eka = fakeEka();
    const clock = manualClock();
    const a = make(storage, eka, clock);
    await a.auth.authorize(URL_);
    await flush();
    const b = make(storage, eka, clock);
    await b.auth.authorize(URL_);
    clock.advance(1800_001);
    const [da, db] = await Promise.all([a.auth.authorize(URL_), b.auth.authorize(URL_)]);
    expect(eka.stats.refreshes).toBe(1);
    expect(eka.stats.logins).toBe(1);
    expect(da.headers?.authorization).toBe(db.headers?.authorization);
    expect(eka.stats.reused).toBe(0);
  });

  it('a 401 on a token another instance already replaced adopts the stored one (no refresh)', async () => {
    const storage = sharedLockedStorage();
    const eka = fakeEka();
    const a = make(storage, eka);
    const b = make(storage, eka);
    const da = await a.auth.authorize(URL_);
    await flush();
    const db = await b.auth.authorize(URL_);
    expect(eka.stats.logins).toBe(1);
    await a.auth.handleUnauthorized(da);
    const outcome = await b.auth.handleUnauthorized(db);
    expect(outcome).toMatchObject({
      action: 'retry',
      decision: { headers: { authorization: 'Bearer at-2' } },
    });
    expect(eka.stats.refreshes).toBe(1);
  });

  it('another tab/process logs out while this one refreshes → the refresh result is discarded', async () => {
    let notify!: (value: unknown) => void;
    const storage = new MemoryStorage() as MemoryStorage & TokenStorage;
    storage.subscribe = (_key, listener) => {
      notify = listener;
      return () => {};
    };
    const eka = fakeEka();
    const { auth } = make(storage, eka);
    const d = await auth.authorize(URL_);
    const gate = eka.gate('refresh');
    const pending = auth.handleUnauthorized(d);
    await flush();
    notify(null);
    expect(await pending).toMatchObject({ action: 'fail', error: { code: 'LOGGED_OUT' } });
    gate.release();
    await flush();
    expect(auth.state).toBe('unauthenticated');
  });

  it("adopts another tab's new token from a storage notification", async () => {
    let notify!: (value: unknown) => void;
    const storage = new MemoryStorage() as MemoryStorage & TokenStorage;
    storage.subscribe = (_key, listener) => {
      notify = listener;
      return () => {};
    };
    const { auth, clock } = make(storage);
    await auth.authorize(URL_);
    notify(JSON.stringify({ v: 1, accessToken: 'other-tab', expiresAt: clock.clock() + 1_000_000 }));
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer other-tab');
    expect(auth.getSnapshot().generation).toBe(2);
  });
});

describe('webStorage', () => {
  function fakeArea(): Storage {
    const map = new Map<string, string>();
    return {
      getItem: (k) => map.get(k) ?? null,
      setItem: (k, v) => void map.set(k, String(v)),
      removeItem: (k) => void map.delete(k),
      clear: () => map.clear(),
      key: (i) => [...map.keys()][i] ?? null,
      get length() {
        return map.size;
      },
    };
  }

  it('round-trips a session through a Storage as JSON', async () => {
    const area = fakeArea();
    const { auth } = make(webStorage({ area }));
    await auth.authorize(URL_);
    await flush();
    expect(JSON.parse(area.getItem('eka-auth:cid')!)).toMatchObject({
      v: 1,
      accessToken: 'at-1',
      refreshToken: 'rt-1',
    });
    const eka2 = fakeEka();
    const again = make(webStorage({ area }), eka2);
    expect((await again.auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(eka2.calls).toHaveLength(0);
  });

  it('without localStorage (server rendering) degrades to memory with a warning', async () => {
    expect((globalThis as any).localStorage).toBeUndefined();
    const { auth, events } = make(webStorage());
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(events.some((e) => e.type === 'warning' && e.message.includes('storage failed'))).toBe(true);
  });

  it('uses navigator.locks for cross-tab single flight when present', async () => {
    const request = vi.fn((_name: string, _opts: unknown, fn: () => Promise<unknown>) => fn());
    vi.stubGlobal('navigator', { locks: { request } });
    try {
      const storage = webStorage({ area: fakeArea() });
      expect(storage.lock).toBeTypeOf('function');
      const { auth } = make(storage);
      await auth.authorize(URL_);
      expect(request).toHaveBeenCalledWith(
        'eka-auth:cid',
        expect.objectContaining({ signal: expect.anything() }),
        expect.any(Function),
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('fileStorage', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'eka-file-'));

  it('writes 0600 with an atomic rename; a second run makes no login', async () => {
    const path = join(dir(), 'nested', 'tokens.json');
    const first = make(fileStorage(path));
    await first.auth.authorize(URL_);
    await flush();
    await vi.waitFor(() => expect(() => statSync(path)).not.toThrow());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).not.toContain(SECRET);
    const eka2 = fakeEka();
    const second = make(fileStorage(path), eka2);
    expect((await second.auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(eka2.calls).toHaveLength(0);
  });

  it.each(['{"half": ', '[]', '5', 'null'])(
    'a corrupt file (%s) is ignored with a warning and replaced',
    async (text) => {
      const path = join(dir(), 'tokens.json');
      writeFileSync(path, text);
      const { auth, events } = make(fileStorage(path));
      expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
      expect(events.some((e) => e.type === 'warning' && e.message.includes('corrupt'))).toBe(true);
      await vi.waitFor(() =>
        expect(JSON.parse(readFileSync(path, 'utf8'))['eka-auth:cid'].accessToken).toBe('at-1'),
      );
    },
  );

  it('two processes on one file: check → lock file → re-check gives one refresh between them', async () => {
    const path = join(dir(), 'tokens.json');
    const eka = fakeEka();
    const clock = manualClock();
    // Two fileStorage objects share nothing in memory: only the files coordinate them, as two processes.
    const a = make(fileStorage(path), eka, clock);
    await a.auth.authorize(URL_);
    await vi.waitFor(() => expect(() => statSync(path)).not.toThrow());
    const b = make(fileStorage(path), eka, clock);
    await b.auth.authorize(URL_);
    expect(eka.stats.logins).toBe(1);
    clock.advance(1800_001);
    const [da, db] = await Promise.all([a.auth.authorize(URL_), b.auth.authorize(URL_)]);
    expect(eka.stats.refreshes).toBe(1);
    expect(eka.stats.reused).toBe(0);
    expect(da.headers?.authorization).toBe(db.headers?.authorization);
    expect(readdirSync(join(path, '..')).filter((name) => name !== 'tokens.json')).toEqual([]);
  });

  it('eight processes finding one abandoned lock: one takes it over, one refresh between them', async () => {
    // The race needs an unlucky interleaving (and an inode number reused at once): a dozen rounds.
    for (let round = 0; round < 12; round++) {
      const path = join(dir(), 'tokens.json');
      const eka = fakeEka();
      const clock = manualClock();
      const first = make(fileStorage(path), eka, clock);
      await first.auth.authorize(URL_);
      await vi.waitFor(() => expect(() => statSync(path)).not.toThrow());
      first.auth.dispose();
      clock.advance(1800_001);
      writeFileSync(`${path}.lock`, `${spawnSync(process.execPath, ['-e', '']).pid}\n`);
      const fleet = Array.from({ length: 8 }, () => make(fileStorage(path), eka, clock));
      await Promise.all(fleet.map(({ auth }) => auth.authorize(URL_)));
      expect(eka.stats.refreshes).toBe(1);
      expect(eka.stats.reused).toBe(0);
      expect(eka.stats.logins).toBe(1);
      for (const { auth } of fleet) auth.dispose();
    }
  }, 30_000);

  it('a logout in another process while this one refreshes over one file: the refresh is discarded', async () => {
    const path = join(dir(), 'tokens.json');
    const eka = fakeEka();
    const clock = manualClock();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let refreshing!: () => void;
    const started = new Promise<void>((r) => (refreshing = r));
    const slowRefresh = (async (url: string, init: RequestInit) => {
      if (url.endsWith('/refresh-token')) {
        refreshing();
        await held;
      }
      return eka.fetch(url, init);
    }) as typeof fetch;
    const a = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: slowRefresh,
      clock: clock.clock,
      storage: fileStorage(path),
    });
    await a.getAccessToken();
    const b = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: eka.fetch,
      clock: clock.clock,
      storage: fileStorage(path),
    });
    expect(await b.getAccessToken()).toBe('at-1');
    clock.advance(1800_001);
    const waiting = a.getAccessToken().catch((e) => e);
    await started;
    await b.logout();
    release();
    expect(await waiting).toMatchObject({ code: 'LOGGED_OUT' });
    expect(a.state).toBe('unauthenticated');
    expect(JSON.parse(readFileSync(path, 'utf8'))['eka-auth:cid']).toBeUndefined();
    a.dispose();
    b.dispose();
  });

  it("a crashed holder's lock file is taken over once it is stale", async () => {
    const path = join(dir(), 'tokens.json');
    const lock = `${path}.lock`;
    writeFileSync(lock, `${process.pid}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    const { auth, eka } = make(fileStorage(path, { staleLockMs: 1_000 }));
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(eka.stats.logins).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock file left by a process that is gone is taken over at once', async () => {
    const path = join(dir(), 'tokens.json');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(`${path}.lock`, `${dead}\n`);
    const { auth, eka } = make(fileStorage(path, { staleLockMs: 600_000 }));
    expect((await auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-1');
    expect(eka.stats.logins).toBe(1);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('a live holder keeps its lock: the waiter times out, then succeeds once it is released', async () => {
    const path = join(dir(), 'tokens.json');
    const storage = fileStorage(path, { staleLockMs: 300 });
    let release!: () => void;
    const held = storage.lock!('eka-auth:cid', () => new Promise<void>((r) => (release = r)), {
      signal: new AbortController().signal,
    });
    await vi.waitFor(() => expect(release).toBeDefined());
    const eka = fakeEka();
    const auth = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: eka.fetch,
      storage,
      timeoutMs: 1_000,
    });
    // Held (and touched) well past staleLockMs: never taken over while its holder lives.
    const error = await auth.getAccessToken({ maxWaitMs: 0 }).catch((e) => e);
    expect(error.code).toBe('TIMEOUT');
    expect(eka.stats.logins).toBe(0);
    release();
    await held;
    expect(await auth.getAccessToken()).toBe('at-1');
    auth.dispose();
  });

  it("a holder whose lock was taken over while it was frozen neither touches nor removes the new holder's lock", async () => {
    const path = join(dir(), 'tokens.json');
    const lock = `${path}.lock`;
    const storage = fileStorage(path, { staleLockMs: 150 });
    let release!: () => void;
    const held = storage.lock!('eka-auth:cid', () => new Promise<void>((r) => (release = r)), {
      signal: new AbortController().signal,
    });
    await vi.waitFor(() => expect(release).toBeDefined());
    // Another process decided our lock was stale and took it: a new file in its place.
    rmSync(lock);
    writeFileSync(lock, `${process.ppid}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    await new Promise((r) => setTimeout(r, 200));
    expect(statSync(lock).mtimeMs).toBeLessThan(Date.now() - 30_000);
    release();
    await held;
    expect(readFileSync(lock, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('concurrent saves of two credentials to one file keep both', async () => {
    const path = join(dir(), 'tokens.json');
    const session = (accessToken: string) => ({ v: 1 as const, accessToken });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => fileStorage(path).set(`key-${i}`, session(`at-${i}`))),
    );
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8'))).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `key-${i}`),
    );
  });

  it('logout removes the entry', async () => {
    const path = join(dir(), 'tokens.json');
    const { auth } = make(fileStorage(path));
    await auth.authorize(URL_);
    await flush();
    await auth.logout();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({});
  });
});

describe('storage: forceRefresh', () => {
  it('getAccessToken({ forceRefresh }) right after construction refreshes the stored token, once', async () => {
    const eka = fakeEka();
    const clock = manualClock();
    const first = make(new MemoryStorage(), eka, clock);
    await first.auth.getAccessToken();
    const shared = new MemoryStorage();
    await shared.set('eka-auth:cid', {
      v: 1,
      accessToken: 'at-1',
      refreshToken: 'rt-1',
      expiresAt: clock.clock() + 3_600_000,
    });
    const { auth } = make(shared, eka, clock);
    expect(await auth.getAccessToken({ forceRefresh: true })).toBe('at-2');
    expect(eka.stats.refreshes).toBe(1);
  });
});
