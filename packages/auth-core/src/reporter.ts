import type { AuthSnapshot, EkaAuthEvent } from './types';

/** Where events, warnings and snapshots go: any number of listeners, none of which can break the session. */
export interface Reporter {
  emit(event: EkaAuthEvent): void;
  /** A `warning` event, or `console.warn` when nobody listens to events. */
  warn(message: string, cause?: unknown): void;
  onEvent(listener: (event: EkaAuthEvent) => void): () => void;
  subscribe(listener: (snapshot: AuthSnapshot) => void): () => void;
  notify(snapshot: AuthSnapshot): void;
  clear(): void;
}

/** Create the {@link Reporter} of one `EkaAuth`; `onEvent` (the option) is its first event listener. */
export function createReporter(onEvent?: (event: EkaAuthEvent) => void): Reporter {
  const events = new Set<(event: EkaAuthEvent) => void>();
  const snapshots = new Set<(snapshot: AuthSnapshot) => void>();
  if (onEvent) events.add(onEvent);
  const add =
    <T>(set: Set<T>) =>
    (listener: T) => {
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    };
  /**
   * Call every listener; one that throws — or an async one whose promise rejects — is reported
   * through `onError` (or ignored), never left to crash the process as an unhandled rejection.
   */
  const each = <T>(set: Set<(value: T) => void>, value: T, onError = (_: unknown) => {}) => {
    for (const listener of [...set]) {
      try {
        const result: any = listener(value);
        if (typeof result?.then === 'function') result.then(undefined, onError);
      } catch (cause) {
        onError(cause);
      }
    }
  };
  const reporter: Reporter = {
    emit: (event) => each(events, event),
    warn(message, cause) {
      if (events.size) reporter.emit({ type: 'warning', message, error: cause });
      else console.warn(`[@eka/auth-core] ${message}`);
    },
    onEvent: add(events),
    subscribe: add(snapshots),
    notify: (snapshot) =>
      each(snapshots, snapshot, (cause) =>
        reporter.warn('a subscribe() listener threw; the session is unaffected', cause),
      ),
    clear() {
      events.clear();
      snapshots.clear();
    },
  };
  return reporter;
}
