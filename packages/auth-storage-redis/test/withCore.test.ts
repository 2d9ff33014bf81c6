import { createEkaAuth, type EkaAuth, type EkaAuthEvent } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisStorage } from '../src/index';
import { CLIENT_KINDS, rawRedis, until } from './clients';

const url = inject('redisUrl');
let gateway: EkaGateway;
beforeAll(async () => {
  gateway = await startEkaGateway({ accessTokenTtlSec: 60 });
});
afterAll(() => gateway.close());

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each([CLIENT_KINDS[0]!, CLIENT_KINDS[3]!])('two EkaAuth on separate $name connections', (kind) => {
  let n = 0;
  const prefix = () => `with-core-${kind.name.replace(/\W/g, '')}-${++n}:`;
  const instance = async (p: string, extra: { sharingKey?: string } = {}) => {
    const client = await kind.create(url);
    const storage = redisStorage(client, { prefix: p });
    const events: EkaAuthEvent[] = [];
    const auth = createEkaAuth({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      storage,
      onEvent: (e) => events.push(e),
      ...extra,
    });
    cleanups.push(
      () => kind.close(client),
      () => storage.close(),
      () => auth.dispose(),
    );
    return { auth, events };
  };
  const token = (auth: EkaAuth) => auth.getAccessToken();

  it('share one login and one refresh, and a logout in one logs the other out', async () => {
    const p = prefix();
    gateway.control.resetStats();
    const [a, b] = [await instance(p), await instance(p)];
    const [ta, tb] = await Promise.all([token(a.auth), token(b.auth)]);
    expect(ta).toBe(tb);
    expect(gateway.stats.logins.ok).toBe(1);

    const refreshed = await a.auth.getAccessToken({ forceRefresh: true });
    await until(() =>
      b.events.some((e) => e.type === 'token' && e.source === 'storage' && e.generation >= 2),
    );
    expect(await token(b.auth)).toBe(refreshed);
    expect(gateway.stats.refreshes).toMatchObject({ ok: 1, reused: 0 });

    await a.auth.logout();
    await until(() => b.auth.state === 'unauthenticated', 5_000, 'the logout to reach the other instance');
    expect(gateway.stats.logins.ok).toBe(1);
  });

  it('keeps secrets out of Redis keys and channels (the sharing key is only hashed)', async () => {
    const p = prefix();
    const raw = rawRedis(url);
    cleanups.push(() => raw.disconnect());
    const { auth } = await instance(p, { sharingKey: gateway.credentials.sharingKey });
    await token(auth);
    const keys = await raw.keys(`${p}*`);
    expect(keys).toHaveLength(1);
    const channels = (await raw.call('PUBSUB', 'CHANNELS', `${p}*`)) as string[];
    expect(channels.length).toBeGreaterThan(0);
    for (const name of [...keys, ...channels]) {
      expect(name).not.toContain(gateway.credentials.sharingKey!);
      expect(name).not.toContain(gateway.credentials.clientSecret);
    }
    expect(JSON.parse((await raw.get(keys[0]!))!)).toMatchObject({ v: 1, accessToken: expect.any(String) });
  });
});
