import { MemoryStorage, type StoredSession, storageKeyFor } from '@eka/auth-core';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { main } from '../src/run';

describe('sharing-key example', () => {
  let gateway: EkaGateway;
  let storage: MemoryStorage;
  let app: ReturnType<typeof createApp>;
  beforeEach(async () => {
    gateway = await startEkaGateway();
    storage = new MemoryStorage();
    app = createApp({
      baseUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      sharingKey: gateway.credentials.sharingKey!,
      apiPath: '/api/echo',
      storage,
    });
  });
  afterEach(async () => {
    app.dispose();
    await gateway.close();
  });

  it('the sharing key acts on the other workspace; without it, on the own one', async () => {
    const own = await app.call('own');
    const shared = await app.call('shared');
    expect(own).toMatchObject({ status: 200, body: { workspace: null, clientId: 'demo-client' } });
    expect(shared).toMatchObject({ status: 200, body: { workspace: 'ws-partner', clientId: 'demo-client' } });
    expect(shared.body.workspace).toBe(gateway.credentials.sharedWorkspaceId);
    expect(gateway.stats.logins.ok).toBe(2); // one login per credential
    expect(gateway.stats.protocolViolations).toEqual([]);
  });

  it('the two EkaAuth instances keep separate tokens, also in one shared store', async () => {
    const [own1, shared1] = [await app.call('own'), await app.call('shared')];
    const [own2, shared2] = await Promise.all([app.call('own'), app.call('shared')]);
    // Two different tokens (gateway generations), each reused by its own instance only.
    expect(own1.body.generation).not.toBe(shared1.body.generation);
    expect(own2.body.generation).toBe(own1.body.generation);
    expect(shared2.body.generation).toBe(shared1.body.generation);
    expect(shared2.body.workspace).toBe('ws-partner');
    expect(own2.body.workspace).toBeNull();
    expect(gateway.stats.logins.ok).toBe(2);

    // One store, two keys: the sharing key's entry is keyed by a hash of it, never the key itself.
    const ownKey = storageKeyFor(gateway.credentials.clientId, undefined, gateway.url);
    const sharedKey = storageKeyFor(
      gateway.credentials.clientId,
      gateway.credentials.sharingKey,
      gateway.url,
    );
    expect(ownKey).not.toBe(sharedKey);
    expect(sharedKey).not.toContain(gateway.credentials.sharingKey!);
    const ownSession = storage.get(ownKey) as StoredSession;
    const sharedSession = storage.get(sharedKey) as StoredSession;
    expect(ownSession.accessToken).toBeTruthy();
    expect(sharedSession.accessToken).toBeTruthy();
    expect(ownSession.accessToken).not.toBe(sharedSession.accessToken);
    expect(ownSession.refreshToken).not.toBe(sharedSession.refreshToken);
  });

  it('each session refreshes and logs out on its own; the workspace survives a refresh', async () => {
    await app.call('own');
    await app.call('shared');
    gateway.control.revokeAllAccessTokens();
    const [own, shared] = await Promise.all([app.call('own'), app.call('shared')]);
    expect(own.body.workspace).toBeNull();
    expect(shared.body.workspace).toBe('ws-partner');
    expect(gateway.stats.refreshes).toEqual({ ok: 2, rejected: 0, reused: 0 }); // one per session

    await app.auths.shared.logout();
    expect(app.auths.shared.state).toBe('unauthenticated');
    expect(app.auths.own.state).toBe('valid');
    const ownAgain = await app.call('own');
    expect(ownAgain.body.generation).toBe(own.body.generation); // untouched by the other's logout
    const sharedAgain = await app.call('shared');
    expect(sharedAgain.body.workspace).toBe('ws-partner');
    expect(gateway.stats.logins.ok).toBe(3); // only the logged-out session logged in again
  });

  it('main() with no EKA_* variables runs both workspaces on the embedded emulator', async () => {
    const out: string[] = [];
    const code = await main({}, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('[own] GET /api/echo → HTTP 200 — workspace null');
    expect(text).toContain('[shared] GET /api/echo → HTTP 200 — workspace "ws-partner"');
    expect(text).toContain('2 logins, one per credential');
    expect(text).not.toContain('demo-sharing-key');
  });

  it('main() needs all three variables for the real gateway', async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(await main({ EKA_CLIENT_ID: 'x', EKA_CLIENT_SECRET: 'y' }, io)).toBe(1);
    expect(err[0]).toMatch(/EKA_SHARING_KEY/);
  });
});
