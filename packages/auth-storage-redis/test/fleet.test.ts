import { startEkaGateway } from '@eka/auth-testing';
import { describe, expect, inject, it, onTestFailed, onTestFinished } from 'vitest';
import { sleep, until } from './clients';
import { holders, refreshesOf, startFleet, timeline } from './fleet/startFleet';

const TTL_MS = 4_000;
const RUN_MS = 14_000;

describe('a fleet of 8 processes sharing one session through Redis', () => {
  it('one login, one refresh per expiry (+1 for a revoke), no refresh token reused, no request failed', async () => {
    const gateway = await startEkaGateway({ accessTokenTtlSec: TTL_MS / 1000 });
    onTestFinished(() => gateway.close());
    const fleet = await startFleet({
      size: 8,
      redisUrl: inject('redisUrl'),
      gateway,
      prefix: `fleet-${Date.now()}:`,
      concurrency: 3,
      pauseMs: 10,
    });
    onTestFinished(() => fleet.destroy());
    onTestFailed(() => console.error(timeline(fleet.events, gateway.stats)));

    const started = Date.now();
    fleet.run();
    // After the first refresh, once every member holds the new token, a server-side revoke in the
    // middle of that token's life. (Revoking while requests with the previous token are still on
    // the wire is covered by fleetEdgeCases.test.ts.)
    await fleet.waitFor((e) => e.type === 'token' && e.source === 'refresh', 10_000);
    await until(() => holders(fleet.events, 2) === 8, 5_000, 'every member to adopt the refreshed token');
    await sleep(1_000);
    const revokedAt = Date.now();
    gateway.control.revokeAllAccessTokens();
    await sleep(Math.max(0, started + RUN_MS - Date.now()));
    const results = await fleet.stop();
    // Every member made requests, and none failed.
    expect(results.size).toBe(8);
    for (const result of results.values()) {
      expect(result.failed, result.errors.join(', ')).toBe(0);
      expect(result.ok).toBeGreaterThan(10);
    }
    const { stats } = gateway;
    expect(stats.logins).toEqual({ ok: 1, rejected: 0 });
    expect(stats.refreshes).toEqual({ ok: stats.refreshes.ok, rejected: 0, reused: 0 });
    expect(stats.apiCalls.unauthorized).toBeGreaterThan(0); // the revoke did hit requests in flight

    // One refresh per token lifetime: consecutive refreshes are a lifetime apart, except the one
    // forced by the revoke, which follows the revoke at once.
    const refreshes = refreshesOf(fleet.events);
    expect(refreshes).toHaveLength(stats.refreshes.ok);
    const forced = refreshes.filter((r) => r.at >= revokedAt && r.at < revokedAt + 1_000);
    expect(forced).toHaveLength(1);
    for (let i = 1; i < refreshes.length; i++) {
      if (refreshes[i] === forced[0]) continue;
      expect(refreshes[i]!.at - refreshes[i - 1]!.at).toBeGreaterThan(TTL_MS * 0.7);
    }
    // 14 s of 4 s tokens refreshed ~0.7 s early, plus the revoke: 4 or 5 refreshes, never 8 × that.
    expect(refreshes.length).toBeGreaterThanOrEqual(4);
    expect(refreshes.length).toBeLessThanOrEqual(6);
    // The refreshes were spread over several members (whoever got the lock), each adopted by all.
    const adopted = fleet.events.filter((e) => e.type === 'token' && e.source === 'storage');
    expect(adopted.length).toBeGreaterThanOrEqual(7 * refreshes.length);
    expect(fleet.events.filter((e) => e.type === 'warning' || e.type === 'core-warning')).toEqual([]);
  });
});
