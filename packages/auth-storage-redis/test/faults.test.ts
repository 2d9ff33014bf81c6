import { startEkaGateway } from '@eka/auth-testing';
import { describe, expect, inject, it, onTestFailed, onTestFinished } from 'vitest';
import { sleep, until } from './clients';
import { type FleetEvent, holders, refreshesOf, startFleet, timeline } from './fleet/startFleet';
import { startRedisServer } from './redisServer';

const gatewayFor = async (ttlSec: number) => {
  const gateway = await startEkaGateway({ accessTokenTtlSec: ttlSec });
  onTestFinished(() => gateway.close());
  return gateway;
};
const expectNoFailures = (results: Map<number, Extract<FleetEvent, { type: 'result' }>>) => {
  for (const result of results.values()) expect(result.failed, result.errors.join(', ')).toBe(0);
};

describe('fleet faults', () => {
  it('a lock holder killed mid-refresh blocks the others only until its lock TTL', async () => {
    const gateway = await gatewayFor(3);
    const fleet = await startFleet({
      size: 4,
      redisUrl: inject('redisUrl'),
      gateway,
      prefix: `kill-${Date.now()}:`,
      lockTtlMs: 1_500,
      concurrency: 2,
      pauseMs: 10,
    });
    onTestFinished(() => fleet.destroy());
    onTestFailed(() => console.error(timeline(fleet.events, gateway.stats)));
    fleet.run();
    await fleet.waitFor((e) => e.type === 'token' && e.source === 'login');
    // The next refresh hangs at the gateway: whoever holds the lock then is stuck there.
    gateway.control.setLatency('refresh', 30_000);
    const stuck = await fleet.waitFor((e) => e.type === 'token-call' && e.kind === 'refresh', 8_000);
    // Kill it while the gateway holds its refresh (if it died after the gateway answered, the rotated
    // tokens would die with it: the next holder's refresh is then rejected and the core logs in once).
    await until(() => gateway.stats.tokenEndpointCalls === 2, 5_000, 'the refresh to reach the gateway');
    fleet.kill(stuck.member);
    const killedAt = Date.now();
    gateway.control.setLatency('refresh', 0);

    const next = await fleet.waitFor(
      (e) => e.type === 'token-call' && e.kind === 'refresh' && e.member !== stuck.member,
      8_000,
    );
    const blockedMs = next.at - killedAt;
    // Renewed every TTL/3 while alive, so the lock outlives the kill by 2/3..3/3 of the TTL.
    expect(blockedMs).toBeGreaterThan(800);
    expect(blockedMs).toBeLessThan(3_500);
    await sleep(1_000);
    const results = await fleet.stop();
    expect(results.size).toBe(3);
    expectNoFailures(results);
    expect(gateway.stats.logins.ok).toBe(1);
    // The killed holder's refresh never reached the token logic (its connection died with it).
    expect(gateway.stats.refreshes).toEqual({ ok: 1, rejected: 0, reused: 0 });
  });

  it('Redis restarted mid-run: members keep serving, warn once, and share the session again', async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const gateway = await gatewayFor(3);
    const fleet = await startFleet({
      size: 4,
      redisUrl: redis.url,
      gateway,
      prefix: 'restart:',
      retryIntervalMs: 200,
      concurrency: 2,
      pauseMs: 10,
    });
    onTestFinished(() => fleet.destroy());
    onTestFailed(() => console.error(timeline(fleet.events, gateway.stats)));
    fleet.run();
    await fleet.waitFor((e) => e.type === 'token' && e.source === 'refresh', 10_000);
    await until(() => holders(fleet.events, 2) === 4, 5_000, 'every member to adopt the refreshed token');
    // Down from the middle of this token's life until after it expired: every member refreshes
    // during the outage.
    await sleep(1_000);
    await redis.kill();
    await sleep(2_500);
    await redis.restart();
    await until(
      () =>
        new Set(
          fleet.events
            .filter((e) => e.type === 'warning' && e.code === 'REDIS_RECOVERED')
            .map((e) => e.member),
        ).size === 4,
      8_000,
      'every member to return to Redis',
    );
    const recovered = Date.now();
    const before = structuredClone(gateway.stats);
    await sleep(6_500); // two more expiries, shared again
    const results = await fleet.stop();

    expectNoFailures(results);
    for (let member = 0; member < 4; member++) {
      const codes = fleet.events.flatMap((e) =>
        e.type === 'warning' && e.member === member ? [e.code] : [],
      );
      // Once each, unless a loaded machine made a command exceed its timeout again (each flap alternates).
      expect(codes[0]).toBe('REDIS_UNAVAILABLE');
      expect(codes.at(-1)).toBe('REDIS_RECOVERED');
      expect(codes.every((c, i) => c === (i % 2 ? 'REDIS_RECOVERED' : 'REDIS_UNAVAILABLE'))).toBe(true);
    }
    // After recovery: no login, no reuse, and one refresh per expiry again.
    expect(gateway.stats.logins.ok).toBe(before.logins.ok);
    expect(gateway.stats.refreshes.reused).toBe(before.refreshes.reused);
    const after = refreshesOf(fleet.events).filter((e) => e.at > recovered);
    expect(after.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < after.length; i++) expect(after[i]!.at - after[i - 1]!.at).toBeGreaterThan(2_000);
  });

  it('clocks skewed by up to ±2 s between members: still no refresh token presented twice', async () => {
    const gateway = await gatewayFor(6);
    const fleet = await startFleet({
      size: 5,
      redisUrl: inject('redisUrl'),
      gateway,
      prefix: `skew-${Date.now()}:`,
      skewsMs: [-2_000, -1_000, 0, 1_000, 2_000],
      concurrency: 2,
      pauseMs: 10,
    });
    onTestFinished(() => fleet.destroy());
    onTestFailed(() => console.error(timeline(fleet.events, gateway.stats)));
    fleet.run();
    await sleep(14_000); // two to three expiries
    const results = await fleet.stop();
    expectNoFailures(results);
    expect(gateway.stats.refreshes.reused).toBe(0);
    expect(gateway.stats.refreshes.rejected).toBe(0);
    expect(gateway.stats.logins.ok).toBe(1);
    expect(gateway.stats.refreshes.ok).toBeGreaterThanOrEqual(2);
  });
});
