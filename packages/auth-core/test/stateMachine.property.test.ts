import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AuthDecision,
  type AuthState,
  createEkaAuth,
  type MachineEvent,
  transition,
} from '../src/index';
import { flush, SECRET } from './fakeEka';

const STATES: AuthState[] = ['unauthenticated', 'refreshing', 'valid', 'failed'];
const EVENTS: MachineEvent[] = [
  'START',
  'TOKEN',
  'REJECTED',
  'TRANSIENT_NO_TOKEN',
  'TRANSIENT_KEEP_TOKEN',
  'LOGOUT',
];
const LEGAL = new Set(
  STATES.flatMap((from) => EVENTS.map((e) => [from, transition(from, e)] as const))
    .filter(([, to]) => to !== undefined)
    .map(([from, to]) => `${from}>${to}`),
);

type Answer = 'ok' | 'reject' | 'unavailable' | 'network';
type Command =
  | { kind: 'request' }
  | { kind: 'abortingRequest' }
  | { kind: 'unauthorized'; pick: number }
  | { kind: 'answer'; with: Answer }
  | { kind: 'logout' }
  | { kind: 'clock'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'request' as const }),
  fc.constant({ kind: 'abortingRequest' as const }),
  fc.nat(50).map((pick) => ({ kind: 'unauthorized' as const, pick })),
  fc
    .constantFrom<Answer>('ok', 'ok', 'reject', 'unavailable', 'network')
    .map((w) => ({ kind: 'answer' as const, with: w })),
  fc.constant({ kind: 'logout' as const }),
  fc
    .constantFrom(1_000, 60_000, 1_500_000, 1_800_000, 3_600_000)
    .map((ms) => ({ kind: 'clock' as const, ms })),
);

describe('state machine (property-based)', () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    // Fake time (retry pauses, back-off waits, timeouts) driven by the commands; setImmediate stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 1_700_000_000_000 });
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    vi.useRealTimers();
    process.off('unhandledRejection', record);
  });

  it('random interleavings only take legal transitions, keep single flight and leave no waiter pending', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
        let issued = 0;
        let concurrent = 0;
        let maxConcurrent = 0;
        const pending: Array<(answer: Answer) => void> = [];
        const fetch = (async (_url: string, init: RequestInit) => {
          concurrent++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          const answer = await new Promise<Answer>((resolve) => {
            pending.push(resolve);
            init.signal?.addEventListener('abort', () => resolve('network'));
          });
          concurrent--;
          if (answer === 'network') throw new TypeError('fetch failed');
          if (answer === 'reject')
            return Response.json({ message: 'invalid credentials', code: 400 }, { status: 500 });
          if (answer === 'unavailable') return new Response('', { status: 503 });
          issued++;
          return Response.json({
            access_token: `at-${issued}`,
            refresh_token: `rt-${issued}`,
            expires_in: 1800,
          });
        }) as typeof globalThis.fetch;
        const illegal: string[] = [];
        const auth = createEkaAuth({
          clientId: 'cid',
          clientSecret: SECRET,
          fetch,
          timeoutMs: 60_000,
          onEvent: (e) => {
            if (e.type === 'state' && !LEGAL.has(`${e.from}>${e.to}`)) illegal.push(`${e.from}>${e.to}`);
          },
        });
        const settledFlags: boolean[] = [];
        const decisions: AuthDecision[] = [];
        const track = (p: Promise<unknown>) => {
          const i = settledFlags.push(false) - 1;
          p.then(
            (v: any) => {
              settledFlags[i] = true;
              if (v?.headers !== undefined) decisions.push(v);
            },
            () => {
              settledFlags[i] = true;
            },
          );
        };
        for (const c of commands) {
          if (c.kind === 'request') track(auth.authorize('https://api.eka.care/x'));
          else if (c.kind === 'abortingRequest') {
            const controller = new AbortController();
            track(auth.authorize('https://api.eka.care/x', { signal: controller.signal }));
            await flush();
            controller.abort();
          } else if (c.kind === 'unauthorized' && decisions.length) {
            track(auth.handleUnauthorized(decisions[c.pick % decisions.length]!));
          } else if (c.kind === 'answer') pending.shift()?.(c.with);
          else if (c.kind === 'logout') track(auth.logout());
          else if (c.kind === 'clock') await vi.advanceTimersByTimeAsync(c.ms);
          await flush();
        }
        // Drain: answer everything still waiting and let time pass; then every waiter must have settled.
        for (let i = 0; i < 30; i++) {
          while (pending.length) pending.shift()!('ok');
          await vi.advanceTimersByTimeAsync(10_000);
          await flush();
        }
        expect(illegal).toEqual([]);
        expect(maxConcurrent).toBeLessThanOrEqual(1);
        expect(settledFlags.every(Boolean)).toBe(true);
        expect(STATES).toContain(auth.state);
        auth.dispose();
        await flush();
        expect(unhandled).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
