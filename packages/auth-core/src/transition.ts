import type { AuthState } from './types';

/** Events that move the state machine. */
export type MachineEvent =
  /** A login or refresh started (on demand, in the background, or forced by a 401). */
  | 'START'
  /** A token was obtained or adopted from storage. */
  | 'TOKEN'
  /** Login/refresh rejected for good (credentials or refresh token). */
  | 'REJECTED'
  /** Login/refresh failed transiently and no usable token is left. */
  | 'TRANSIENT_NO_TOKEN'
  /** Login/refresh failed transiently but the current token is still usable. */
  | 'TRANSIENT_KEEP_TOKEN'
  /** logout(), here or in another tab/process. */
  | 'LOGOUT';

const TABLE: Record<AuthState, Partial<Record<MachineEvent, AuthState>>> = {
  unauthenticated: { START: 'refreshing', TOKEN: 'valid', LOGOUT: 'unauthenticated' },
  refreshing: {
    TOKEN: 'valid',
    REJECTED: 'failed',
    TRANSIENT_NO_TOKEN: 'failed',
    TRANSIENT_KEEP_TOKEN: 'valid',
    LOGOUT: 'unauthenticated',
  },
  valid: { START: 'refreshing', TOKEN: 'valid', LOGOUT: 'unauthenticated' },
  failed: { START: 'refreshing', TOKEN: 'valid', LOGOUT: 'unauthenticated' },
};

/**
 * The pure transition function: no I/O, no clock. Returns the next state, or `undefined` when
 * `event` is not legal in `state` (the driver treats that as a bug and never applies it).
 */
export function transition(state: AuthState, event: MachineEvent): AuthState | undefined {
  return TABLE[state][event];
}
