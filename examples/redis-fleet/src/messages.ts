import type { AuthState } from '@eka/auth-core';

/** Primary → worker. */
export type ToWorker = { type: 'run' } | { type: 'stop' } | { type: 'logout' } | { type: 'exit' };

/** Worker → primary. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'token'; source: 'login' | 'refresh' | 'storage' }
  | { type: 'state'; state: AuthState }
  | { type: 'warning'; message: string }
  | { type: 'done'; ok: number; failed: number; errors: string[] };
