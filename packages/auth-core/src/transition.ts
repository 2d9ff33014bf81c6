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

/**
 * The pure transition function: no I/O, no clock. Returns the next state, or `undefined` when
 * `event` is not legal in `state` (the driver treats that as a bug and never applies it).
 *
 * | from \ event   | START      | TOKEN | REJECTED | TRANSIENT_NO_TOKEN | TRANSIENT_KEEP_TOKEN | LOGOUT          |
 * | --------------- | ---------- | ----- | -------- | ------------------ | -------------------- | --------------- |
 * | unauthenticated | refreshing | valid |          |                    |                      | unauthenticated |
 * | refreshing      |            | valid | failed   | failed             | valid                | unauthenticated |
 * | valid           | refreshing | valid |          |                    |                      | unauthenticated |
 * | failed          | refreshing | valid |          |                    |                      | unauthenticated |
 */
export function transition(state: AuthState, event: MachineEvent): AuthState | undefined {
  if (event === 'LOGOUT') return 'unauthenticated';
  if (event === 'TOKEN') return 'valid';
  // A login/refresh under way is never started twice, and only one under way can fail.
  if (event === 'START') return state === 'refreshing' ? undefined : 'refreshing';
  if (state !== 'refreshing') return undefined;
  if (event === 'TRANSIENT_KEEP_TOKEN') return 'valid';
  return event === 'REJECTED' || event === 'TRANSIENT_NO_TOKEN' ? 'failed' : undefined;
}
