import { afterEach, describe, expect, it } from 'vitest';
import { createEkaAuth, type EkaAuth, type EkaAuthEvent } from '../src/index';
import { type WebLockManager, webStorage } from '../src/web';
import { fakeEka, manualClock, SECRET } from './fakeEka';

const URL_ = 'https://api.eka.care/x';
const KEY = 'eka-auth:cid';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Tab {
  area: Storage;
  events: EventTarget;
  /** Fires `pagehide` and stops receiving changes (a closed tab). */
  close(): void;
}

/**
 * A fake browser: every tab has its own replica of localStorage (like Chrome's per-process cache);
 * a write reaches the other tabs `delayMs` later, in order, as a `storage` event there.
 */
function fakeBrowser(delayMs = 5) {
  const tabs = new Set<{ data: Map<string, string>; tab: Tab }>();
  const seed = new Map<string, string>();
  const open = (): Tab => {
    const data = new Map(seed);
    const change = (key: string | null, value: string | null) => {
      if (key === null) data.clear();
      else if (value === null) data.delete(key);
      else data.set(key, value);
    };
    const publish = (key: string | null, oldValue: string | null, newValue: string | null) => {
      if (key === null) seed.clear();
      else if (newValue === null) seed.delete(key);
      else seed.set(key, newValue);
      for (const other of tabs) {
        if (other.tab === tab) continue;
        setTimeout(() => {
          if (!tabs.has(other)) return;
          if (key === null) other.data.clear();
          else if (newValue === null) other.data.delete(key);
          else other.data.set(key, newValue);
          const event = Object.assign(new Event('storage'), {
            key,
            oldValue,
            newValue,
            storageArea: other.tab.area,
          });
          other.tab.events.dispatchEvent(event);
        }, delayMs);
      }
    };
    const area: Storage = {
      getItem: (k) => data.get(k) ?? null,
      setItem(k, v) {
        const old = data.get(k) ?? null;
        change(k, String(v));
        publish(k, old, String(v));
      },
      removeItem(k) {
        if (!data.has(k)) return;
        const old = data.get(k) ?? null;
        change(k, null);
        publish(k, old, null);
      },
      clear() {
        change(null, null);
        publish(null, null, null);
      },
      key: (i) => [...data.keys()][i] ?? null,
      get length() {
        return data.size;
      },
    };
    const events = new EventTarget();
    const entry = { data, tab: undefined as unknown as Tab };
    const tab: Tab = {
      area,
      events,
      close() {
        events.dispatchEvent(new Event('pagehide'));
        tabs.delete(entry);
      },
    };
    entry.tab = tab;
    tabs.add(entry);
    return tab;
  };
  return { open };
}

/** An in-process Web Locks API: one holder per name, FIFO, a waiter's signal rejects only that waiter. */
function fakeLocks() {
  const tails = new Map<string, Promise<void>>();
  const names: string[] = [];
  const held = new Set<string>();
  const manager: WebLockManager = {
    async request<T>(
      name: string,
      { signal, ifAvailable }: { signal?: AbortSignal; ifAvailable?: boolean },
      fn: (lock: unknown) => Promise<T>,
    ) {
      names.push(name);
      if (ifAvailable && (held.has(name) || tails.has(name))) return fn(null);
      let done!: () => void;
      const turn = new Promise<void>((resolve) => (done = resolve));
      const before = tails.get(name) ?? Promise.resolve();
      const tail = before.then(() => turn);
      tails.set(name, tail);
      try {
        await new Promise<void>((resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          void before.then(() => resolve());
        });
        held.add(name);
        return await fn({ name });
      } finally {
        held.delete(name);
        done();
        void tail.then(() => tails.get(name) === tail && tails.delete(name));
      }
    },
  };
  return { manager, names };
}

const opened: EkaAuth[] = [];
afterEach(() => {
  for (const auth of opened.splice(0)) auth.dispose();
});

function tabAuth(
  tab: Tab,
  eka: ReturnType<typeof fakeEka>,
  clock: ReturnType<typeof manualClock>,
  locks: WebLockManager | null,
  extra: { timeoutMs?: number; leaseMs?: number; maxWaitMs?: number } = {},
) {
  const events: EkaAuthEvent[] = [];
  const auth = createEkaAuth({
    clientId: 'cid',
    clientSecret: SECRET,
    fetch: eka.fetch,
    clock: clock.clock,
    random: () => 0.5,
    timeoutMs: extra.timeoutMs ?? 5_000,
    maxWaitMs: extra.maxWaitMs,
    storage: webStorage({ area: tab.area, events: tab.events, locks, leaseMs: extra.leaseMs }),
    onEvent: (event) => events.push(event),
  });
  opened.push(auth);
  return { auth, events };
}

/** Tab A logs in; tabs B, C … start from the stored session (no login of their own). */
async function loggedInTabs(count: number, locks: WebLockManager | null, delayMs = 5) {
  const browser = fakeBrowser(delayMs);
  const eka = fakeEka();
  const clock = manualClock();
  const tabs = [browser.open()];
  const first = tabAuth(tabs[0]!, eka, clock, locks);
  await first.auth.authorize(URL_);
  await sleep(delayMs * 4);
  const all = [first];
  for (let i = 1; i < count; i++) {
    const tab = browser.open();
    tabs.push(tab);
    const opened = tabAuth(tab, eka, clock, locks);
    await opened.auth.authorize(URL_);
    all.push(opened);
  }
  expect(eka.stats.logins).toBe(1);
  return { browser, eka, clock, tabs, all };
}

describe('webStorage across tabs', () => {
  const modes = [
    ['Web Locks', () => fakeLocks().manager],
    ['the storage lease (no Web Locks)', () => null],
  ] as const;

  it.each(modes)('%s: three tabs hitting expiry together make exactly one refresh', async (_, locks) => {
    const { eka, clock, all } = await loggedInTabs(3, locks());
    clock.advance(1_800_001);
    const decisions = await Promise.all(all.map(({ auth }) => auth.authorize(URL_)));
    expect(eka.stats.refreshes).toBe(1);
    expect(eka.stats.reused).toBe(0);
    expect(eka.stats.logins).toBe(1);
    expect(new Set(decisions.map((d) => d.headers?.authorization))).toEqual(new Set(['Bearer at-2']));
  });

  it.each(modes)('%s: a 401 in two tabs at once makes one refresh', async (_, locks) => {
    const { eka, all } = await loggedInTabs(2, locks());
    const decisions = await Promise.all(all.map(({ auth }) => auth.authorize(URL_)));
    const outcomes = await Promise.all(all.map(({ auth }, i) => auth.handleUnauthorized(decisions[i]!)));
    expect(outcomes.map((o) => o.action)).toEqual(['retry', 'retry']);
    expect(eka.stats.refreshes).toBe(1);
    expect(eka.stats.reused).toBe(0);
  });

  it('a refresh in one tab reaches the others as a storage event: adopted, no second refresh', async () => {
    const { eka, all } = await loggedInTabs(2, null);
    const [a, b] = all;
    await a!.auth.getAccessToken({ forceRefresh: true });
    await sleep(30);
    expect(b!.auth.getSnapshot().generation).toBe(2);
    expect((await b!.auth.authorize(URL_)).headers?.authorization).toBe('Bearer at-2');
    expect(b!.events).toContainEqual(expect.objectContaining({ type: 'token', source: 'storage' }));
    expect(eka.stats.refreshes).toBe(1);
  });

  it('logout in one tab logs out every other tab', async () => {
    const { all, tabs } = await loggedInTabs(3, fakeLocks().manager);
    await all[1]!.auth.logout();
    await sleep(30);
    expect(all.map(({ auth }) => auth.state)).toEqual([
      'unauthenticated',
      'unauthenticated',
      'unauthenticated',
    ]);
    expect(tabs.map((tab) => tab.area.getItem(KEY))).toEqual([null, null, null]);
  });

  it('another tab logs out while this one refreshes: the refresh result is discarded here', async () => {
    const { eka, all, tabs } = await loggedInTabs(2, fakeLocks().manager);
    const [a, b] = all;
    const gate = eka.gate('refresh');
    const pending = a!.auth.getAccessToken({ forceRefresh: true });
    await sleep(10);
    await b!.auth.logout();
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT' });
    gate.release();
    await sleep(30);
    expect([a!.auth.state, b!.auth.state]).toEqual(['unauthenticated', 'unauthenticated']);
    expect(tabs.map((tab) => tab.area.getItem(KEY))).toEqual([null, null]);
  });

  it('clear() of the area in another tab logs out too; other keys and areas are ignored', async () => {
    const browser = fakeBrowser();
    const tab = browser.open();
    const seen: unknown[] = [];
    const storage = webStorage({ area: tab.area, events: tab.events, locks: null });
    const stop = storage.subscribe!(KEY, (value) => seen.push(value));
    const other = browser.open();
    other.area.setItem('something-else', '1');
    other.area.setItem(KEY, '{"v":1}');
    tab.events.dispatchEvent(
      Object.assign(new Event('storage'), { key: KEY, newValue: 'x', storageArea: other.area }),
    );
    other.area.clear();
    await sleep(30);
    expect(seen).toEqual(['{"v":1}', null]);
    stop();
    other.area.setItem(KEY, '{"v":1}');
    await sleep(30);
    expect(seen).toHaveLength(2);
  });
});

describe('webStorage lease (no Web Locks)', () => {
  it('is chosen when navigator.locks is missing, and is gone after the refresh', async () => {
    const { eka, all, tabs } = await loggedInTabs(1, null);
    const gate = eka.gate('refresh');
    const pending = all[0]!.auth.getAccessToken({ forceRefresh: true });
    await sleep(60);
    expect(JSON.parse(tabs[0]!.area.getItem(`${KEY}:lease`)!)).toMatchObject({ id: expect.any(String) });
    gate.release();
    expect(await pending).toBe('at-2');
    expect(tabs[0]!.area.getItem(`${KEY}:lease`)).toBeNull();
    expect(webStorage({ area: tabs[0]!.area }).lock).toBeTypeOf('function');
  });

  it('is renewed while a slow refresh holds it, so no other tab takes over', async () => {
    const browser = fakeBrowser();
    const eka = fakeEka();
    const clock = manualClock();
    const [tabA, tabB] = [browser.open(), browser.open()];
    const a = tabAuth(tabA, eka, clock, null, { leaseMs: 300 });
    await a.auth.authorize(URL_);
    await sleep(20);
    const b = tabAuth(tabB, eka, clock, null, { leaseMs: 300 });
    await b.auth.authorize(URL_);
    const gate = eka.gate('refresh');
    const first = a.auth.getAccessToken({ forceRefresh: true });
    await sleep(60);
    clock.advance(1_800_001);
    const second = b.auth.authorize(URL_);
    await sleep(1_000); // more than three lease lifetimes
    expect(eka.stats.refreshes).toBe(1);
    gate.release();
    expect(await first).toBe('at-2');
    expect((await second).headers?.authorization).toBe('Bearer at-2');
    expect(eka.stats.refreshes).toBe(1);
    expect(eka.stats.reused).toBe(0);
  });

  it('a lease left by a crashed tab expires after leaseMs; the next refresh goes ahead', async () => {
    const browser = fakeBrowser();
    const tab = browser.open();
    tab.area.setItem(`${KEY}:lease`, JSON.stringify({ id: 'crashed', until: Date.now() + 300 }));
    const eka = fakeEka();
    const { auth } = tabAuth(tab, eka, manualClock(), null);
    const started = Date.now();
    expect(await auth.getAccessToken()).toBe('at-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('a tab closed mid-refresh releases the lease at once (pagehide)', async () => {
    const browser = fakeBrowser();
    const eka = fakeEka();
    const clock = manualClock();
    const [tabA, tabB] = [browser.open(), browser.open()];
    const a = tabAuth(tabA, eka, clock, null, { leaseMs: 60_000 });
    const gate = eka.gate('login');
    void a.auth.getAccessToken().catch(() => undefined);
    await sleep(80);
    expect(tabB.area.getItem(`${KEY}:lease`)).not.toBeNull();
    tabA.close();
    a.auth.dispose();
    const b = tabAuth(tabB, eka, clock, null, { leaseMs: 60_000 });
    const started = Date.now();
    expect(await b.auth.getAccessToken()).toBe('at-1'); // A's login never answered
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s lease
    gate.release();
  });

  it('waiting for a held lease ends with the refresh timeout and leaves that lease alone', async () => {
    const browser = fakeBrowser();
    const tab = browser.open();
    const held = JSON.stringify({ id: 'other-tab', until: Date.now() + 60_000 });
    tab.area.setItem(`${KEY}:lease`, held);
    const eka = fakeEka();
    const { auth, events } = tabAuth(tab, eka, manualClock(), null, { timeoutMs: 150, maxWaitMs: 0 });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'TIMEOUT' });
    // Each attempt of the flight waited its own timeout; none called the gateway.
    expect(events.filter((e) => e.type === 'failure')).toHaveLength(1);
    expect(eka.stats.logins).toBe(0);
    expect(tab.area.getItem(`${KEY}:lease`)).toBe(held);
  });

  it('two instances in one tab (which sees none of its own storage events) take turns', async () => {
    const browser = fakeBrowser();
    const tab = browser.open();
    const eka = fakeEka();
    const clock = manualClock();
    const shared = webStorage({ area: tab.area, events: tab.events, locks: null });
    const make = () =>
      createEkaAuth({
        clientId: 'cid',
        clientSecret: SECRET,
        fetch: eka.fetch,
        clock: clock.clock,
        storage: shared,
      });
    const [one, two] = [make(), make()];
    opened.push(one, two);
    const tokens = await Promise.all([one.getAccessToken(), two.getAccessToken()]);
    expect(tokens).toEqual(['at-1', 'at-1']);
    expect(eka.stats.logins).toBe(1);
    const separate = webStorage({ area: tab.area, events: tab.events, locks: null });
    const three = createEkaAuth({
      clientId: 'cid',
      clientSecret: SECRET,
      fetch: eka.fetch,
      clock: clock.clock,
      storage: separate,
    });
    opened.push(three);
    clock.advance(1_800_001);
    await Promise.all([one.getAccessToken(), three.getAccessToken()]);
    expect(eka.stats.refreshes).toBe(1);
    expect(eka.stats.reused).toBe(0);
  });

  it('two tabs writing the lease at the same moment: only one goes ahead', async () => {
    for (let round = 0; round < 5; round++) {
      const browser = fakeBrowser(10);
      const [tabA, tabB] = [browser.open(), browser.open()];
      const storages = [tabA, tabB].map((tab) =>
        webStorage({ area: tab.area, events: tab.events, locks: null }),
      );
      let inside = 0;
      let most = 0;
      const critical = async () => {
        inside++;
        most = Math.max(most, inside);
        await sleep(15);
        inside--;
      };
      const signal = new AbortController().signal;
      await Promise.all(storages.map((storage) => storage.lock!(KEY, critical, { signal })));
      expect(most).toBe(1);
    }
  });

  it('a storage that throws fails the lock before entering it (the core then degrades to memory)', async () => {
    const area = {
      getItem() {
        throw new Error('SecurityError');
      },
    } as unknown as Storage;
    const storage = webStorage({ area, locks: null });
    await expect(
      storage.lock!(KEY, async () => 'never', { signal: new AbortController().signal }),
    ).rejects.toThrow('SecurityError');
  });
});
