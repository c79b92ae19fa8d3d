// Device presence (`last_seen_at`, and the agent state a check-in reports) written behind:
// check-ins are recorded in memory and written together, one transaction every
// `flushMilliseconds`. One write transaction per check-in cost about as much as the rest of
// the check-in's database work together (BENCHMARKS.md).
//
// Presence is a hint, so this is the one write allowed to be lost: a crash loses at most the
// batch not yet written, and the device's next check-in writes it again. Device events are
// not presence and are stored before their 2xx (services/device-events.ts). Readers see
// presence at most `flushMilliseconds` late; `close()` writes what is pending.
import type { Store } from './store.js';

export interface PresenceWriter {
  /** Notes that `device` checked in at `at`, reporting `state` (null: it reported none). */
  seen(device: string, at: Date, state: string | null): void;
  /** Writes every pending observation now, in one transaction; rejects (keeping them) when that fails. */
  flush(): Promise<void>;
  /** Flushes and stops the timer; later observations are written straight away. */
  close(): Promise<void>;
}

export const defaultPresenceFlushMilliseconds = 250;

interface Observation {
  at: Date;
  state: string | null;
}

export function createPresenceWriter(store: Store, flushMilliseconds = defaultPresenceFlushMilliseconds): PresenceWriter {
  let pending = new Map<string, Observation>();
  let closed = false;
  // One write at a time: a flush asked for while one runs waits for it, then writes what came since.
  let writing: Promise<void> = Promise.resolve();

  const write = async () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      // Sorted, so that two processes writing overlapping batches take row locks in one order.
      const observations = [...batch]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([device, observation]) => ({ device, ...observation }));
      await store.transaction((tx) => tx.devices.recordPresence(observations));
    } catch (error) {
      // Nothing was written (one transaction): keep the batch for the next flush, under
      // anything noted since, which is newer.
      pending = new Map([...batch, ...pending]);
      throw error;
    }
  };
  const flush = () => {
    const next = writing.then(write);
    writing = next.catch(() => undefined);
    return next;
  };
  // A failed write on the timer (say, the database busy past its timeout) is retried on the
  // next tick rather than thrown where nothing can catch it.
  const timer = setInterval(() => {
    flush().catch(() => undefined);
  }, flushMilliseconds);
  // The timer alone never keeps a process alive; whoever closes the store calls close().
  timer.unref();

  return {
    seen(device, at, state) {
      // Check-ins in one interval merge as consecutive writes would: the latest time, and
      // the latest state the device reported (a check-in without a state keeps the last one).
      const earlier = pending.get(device);
      pending.set(device, { at, state: state ?? earlier?.state ?? null });
      if (closed) flush().catch(() => undefined);
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
