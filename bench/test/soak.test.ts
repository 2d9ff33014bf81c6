import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockingMemoryStorage } from '../soak/LockingMemoryStorage.mjs';
import { deriveSeed, mulberry32 } from '../soak/mulberry32.mjs';
import { runSoak } from '../soak/runSoak.mjs';
import { soakChecks } from '../soak/soakChecks.mjs';
import { soakMarkdown } from '../soak/soakMarkdown.mjs';

/** A fixed seed keeps `pnpm test` reproducible; SOAK_SEED replays (or explores) another. */
const SEED = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) >>> 0 : 20_261_201;
/** The short run: both phases together stay under a minute (plus a drain of a few hundred ms). */
const SINGLE_SECONDS = 24;
const BURST_SECONDS = 12;

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('mulberry32', () => {
  it('replays the same sequence for a seed, and another for another seed or stream', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, mulberry32(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(deriveSeed(42, 'load')).not.toBe(deriveSeed(42, 'chaos'));
    for (const x of draw(7)) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('LockingMemoryStorage', () => {
  it('runs lock holders one at a time, in arrival order', async () => {
    const storage = new LockingMemoryStorage();
    const log: string[] = [];
    const hold = (name: string) =>
      storage.lock(
        'k',
        async () => {
          log.push(`${name} in`);
          await tick();
          log.push(`${name} out`);
          return name;
        },
        { signal: new AbortController().signal },
      );
    expect(await Promise.all([hold('a'), hold('b'), hold('c')])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
    expect(storage.stats).toMatchObject({ locks: 3, maxQueue: 3, queued: 0 });
  });

  it('lets an aborted waiter leave the queue without letting the next one skip the holder', async () => {
    const storage = new LockingMemoryStorage();
    const log: string[] = [];
    let releaseHolder!: () => void;
    const holder = storage.lock('k', () => new Promise<void>((resolve) => (releaseHolder = resolve)), {
      signal: new AbortController().signal,
    });
    const leaving = new AbortController();
    const waiter = storage.lock('k', async () => log.push('aborted waiter ran'), { signal: leaving.signal });
    const next = storage.lock('k', async () => log.push('next ran'), {
      signal: new AbortController().signal,
    });
    leaving.abort();
    await expect(waiter).rejects.toMatchObject({ name: 'AbortError' });
    await tick();
    expect(log).toEqual([]);
    releaseHolder();
    await holder;
    await next;
    expect(log).toEqual(['next ran']);
    expect(storage.stats.abortedWaits).toBe(1);
  });

  it('releases the lock when the holder throws, and hands back copies of stored values', async () => {
    const storage = new LockingMemoryStorage();
    const signal = new AbortController().signal;
    await expect(
      storage.lock(
        'k',
        async () => {
          throw new Error('boom');
        },
        { signal },
      ),
    ).rejects.toThrow('boom');
    expect(await storage.lock('k', async () => 'free', { signal })).toBe('free');
    const value = { v: 1 as const, accessToken: 'a' };
    await storage.set('k', value);
    expect(await storage.get('k')).toEqual(value);
    expect(await storage.get('k')).not.toBe(value);
    await storage.delete('k');
    expect(await storage.get('k')).toBeUndefined();
  });
});

describe('soak', () => {
  type Result = Awaited<ReturnType<typeof runSoak>>;
  const results: Record<'single' | 'burst', Result | undefined> = { single: undefined, burst: undefined };

  beforeAll(async () => {
    results.single = await runSoak({ seed: SEED, seconds: SINGLE_SECONDS, phase: 'single' });
    results.burst = await runSoak({ seed: SEED, seconds: BURST_SECONDS, phase: 'burst' });
  }, 150_000);

  afterAll(() => {
    const done = [results.single, results.burst].filter((r) => r !== undefined);
    // The report goes to the test log, so a red run shows every number and the seed to replay it.
    if (done.length) console.log(soakMarkdown(done, { title: `Chaos soak (short run, seed ${SEED})` }));
  });

  /** One phase's check by name, with a message that names the seed and the numbers behind it. */
  const expectCheck = (phase: 'single' | 'burst', name: string) => {
    const result = results[phase]!;
    const check = soakChecks(result).find((c) => c.name === name)!;
    const context = {
      seed: result.seed,
      hung: result.hung.slice(0, 3),
      untyped: result.untyped.slice(0, 3),
      unhandled: result.unhandled.slice(0, 3),
      failuresByCode: result.failuresByCode,
      tokenCalls: result.tokenCalls,
      requests: result.requests,
    };
    expect(
      check.actual,
      `${phase}: ${name} (SOAK_SEED=${result.seed}) ${JSON.stringify(context)}`,
    ).toBeLessThanOrEqual(check.limit);
  };

  for (const phase of ['single', 'burst'] as const) {
    it(`${phase}: sends requests through all four adapters and three instances`, () => {
      const result = results[phase]!;
      expect(result.requests).toBeGreaterThan(200);
      for (const row of [...Object.values(result.byAdapter), ...Object.values(result.bySlot)]) {
        expect(row.requests).toBeGreaterThan(20);
      }
      expect(result.chaos.injected, 'faults were injected').toBeGreaterThan(0);
      expect(result.tokenCalls.injectedServed, 'and served').toBeGreaterThan(0);
      expect(result.aborted, 'callers aborted some requests').toBeGreaterThan(0);
    });
    it(`${phase}: no request hangs`, () => expectCheck(phase, 'hung requests'));
    it(`${phase}: no promise is left rejected and unhandled`, () =>
      expectCheck(phase, 'unhandled rejections'));
    it(`${phase}: every error is typed`, () => expectCheck(phase, 'untyped errors'));
    it(`${phase}: no refresh token is presented twice`, () =>
      expectCheck(phase, 'refresh tokens presented twice'));
    it(`${phase}: token-endpoint calls stay within the bound`, () =>
      expectCheck(phase, 'token-endpoint calls'));
  }

  it('single: at most 1 % of requests fail under single-shot faults (aborted by their caller excluded)', () =>
    expectCheck('single', 'failure rate under single-shot faults'));
});
