// How long statements take, told to whoever watches (the metrics plugin) without the storage
// layer knowing who that is. Unwatched, a statement costs one property read more; watched,
// two clock reads and a call. The kind is the session method that ran the statement, never
// anything taken from the SQL text, so that nothing is built per statement.
export type StatementKind = 'all' | 'get' | 'run' | 'transaction';

/** `seconds`: from the statement's start to its result (or failure). */
export type StatementObserver = (kind: StatementKind, seconds: number) => void;

const unwatched = -1;

/** Shared by a database and every session of its transactions. */
export class StatementTiming {
  observer: StatementObserver | null = null;

  timeSync<T>(kind: StatementKind, run: () => T): T {
    const started = this.start();
    try {
      return run();
    } finally {
      this.finish(kind, started);
    }
  }

  time<T>(kind: StatementKind, run: () => Promise<T>): Promise<T> {
    const started = this.start();
    if (started === unwatched) return run();
    return run().finally(() => this.finish(kind, started));
  }

  /** A start mark for `finish`; no clock is read while nobody watches. */
  start(): number {
    return this.observer ? performance.now() : unwatched;
  }

  finish(kind: StatementKind, started: number): void {
    if (started !== unwatched) this.observer?.(kind, (performance.now() - started) / 1000);
  }
}
