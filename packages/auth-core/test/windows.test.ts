import { describe, expect, it } from 'vitest';
import { TransientError } from '../src/errors';
import { backoffDelay, refreshWindows, retryDelay, type Timing } from '../src/windows';

const timing: Timing = {
  refreshWindowMs: 300_000,
  mustRefreshWindowMs: 30_000,
  attempts: 3,
  retryBaseMs: 100,
  retryMaxMs: 5_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
};
const transient = (retryAfterMs?: number) => new TransientError('TRANSIENT', 'x', { retryAfterMs });

describe('refreshWindows', () => {
  it('opens the windows before expiry, scaled to the lifetime, the should-window jittered', () => {
    const tokens = { accessToken: 'a', obtainedAt: 0, expiresAt: 1_800_000 };
    expect(refreshWindows(tokens, 0, timing, () => 0)).toEqual({ shouldAt: 1_500_000, mustAt: 1_770_000 });
    expect(refreshWindows(tokens, 0, timing, () => 1).shouldAt).toBe(1_575_000);
    // A 10 s token: 20 % / 5 % of the lifetime instead of the configured 5 min / 30 s.
    const short = refreshWindows({ accessToken: 'a', obtainedAt: 0, expiresAt: 10_000 }, 0, timing, () => 0);
    expect(short).toEqual({ shouldAt: 8_000, mustAt: 9_500 });
  });

  it('never refreshes a token of unknown lifetime on the clock', () => {
    expect(refreshWindows({ accessToken: 'a' }, 0, timing, Math.random)).toEqual({
      shouldAt: Number.POSITIVE_INFINITY,
      mustAt: Number.POSITIVE_INFINITY,
    });
  });
});

describe('retryDelay', () => {
  it('doubles with jitter between attempts, and stops when the attempts are spent', () => {
    expect(retryDelay(transient(), 1, timing, () => 1)).toBe(100);
    expect(retryDelay(transient(), 2, timing, () => 1)).toBe(200);
    expect(retryDelay(transient(), 2, timing, () => 0)).toBe(100);
    expect(retryDelay(transient(), 3, timing, () => 1)).toBeUndefined();
  });

  it('honours Retry-After up to the cap; a longer one ends the retries', () => {
    expect(retryDelay(transient(2_000), 1, timing, () => 1)).toBe(2_000);
    expect(retryDelay(transient(5_001), 1, timing, () => 1)).toBeUndefined();
  });

  it('never retries a rejection', () => {
    const rejected = new TransientError('CREDENTIALS_REJECTED', 'no');
    expect(retryDelay(rejected, 1, timing, () => 1)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter up to the cap; Retry-After wins when longer', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(transient(), n, timing, () => 0))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect(backoffDelay(transient(), 20, timing, () => 1)).toBe(60_000);
    expect(backoffDelay(transient(30_000), 1, timing, () => 1)).toBe(30_000);
  });
});
