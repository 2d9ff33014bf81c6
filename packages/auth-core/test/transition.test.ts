import { describe, expect, it } from 'vitest';
import { type AuthState, type MachineEvent, transition } from '../src/index';

const STATES: AuthState[] = ['unauthenticated', 'refreshing', 'valid', 'failed'];
const EVENTS: MachineEvent[] = [
  'START',
  'TOKEN',
  'REJECTED',
  'TRANSIENT_NO_TOKEN',
  'TRANSIENT_KEEP_TOKEN',
  'LOGOUT',
];

describe('transition', () => {
  it('is exactly the documented table (undefined = illegal)', () => {
    const table = Object.fromEntries(
      STATES.map((state) => [state, EVENTS.map((event) => transition(state, event) ?? '-').join(' ')]),
    );
    // START TOKEN REJECTED TRANSIENT_NO_TOKEN TRANSIENT_KEEP_TOKEN LOGOUT
    expect(table).toEqual({
      unauthenticated: 'refreshing valid - - - unauthenticated',
      refreshing: '- valid failed failed valid unauthenticated',
      valid: 'refreshing valid - - - unauthenticated',
      failed: 'refreshing valid - - - unauthenticated',
    });
  });

  it('refuses an unknown event', () => {
    for (const state of STATES) expect(transition(state, 'NOPE' as MachineEvent)).toBeUndefined();
  });
});
