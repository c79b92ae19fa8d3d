// Device presence (`last_seen_at`, and the agent state a check-in reports) written behind:
// check-ins are recorded in memory and written together, one transaction every
// `flushMilliseconds`. One write transaction per check-in cost about as much as the rest of
// the check-in's database work together (BENCHMARKS.md).
//
// Presence is a hint, so this is the one write allowed to be lost: a crash loses at most the
// last `flushMilliseconds` of it, and the device's next check-in writes it again. Device
// events are not presence and stay durable before their 2xx (services/device-events.ts).
// Readers see presence at most `flushMilliseconds` late; `close()` writes what is pending.
import type { Db } from './database.js';

export interface PresenceWriter {
  /** Notes that `device` checked in at `at`, reporting `state` (null: it reported none). */
  seen(device: string, at: Date, state: string | null): void;
  /** Writes every pending observation now, in one transaction. */
  flush(): void;
  /** Flushes and stops the timer; later observations are written straight away. */
  close(): void;
}

export const defaultPresenceFlushMilliseconds = 250;

interface Observation { at: string; state: string | null }

export function createPresenceWriter(db: Db, flushMilliseconds = defaultPresenceFlushMilliseconds): PresenceWriter {
  let pending = new Map<string, Observation>();
  let closed = false;
  // An observation never moves presence backwards: a device event (written at once) or
  // another server process may have stored a later time since this one was noted, and its
  // state is then the newer truth.
  const update = db.prepare(`UPDATE devices SET last_seen_at = @at, state = COALESCE(@state, state)
                             WHERE id = @id AND (last_seen_at IS NULL OR last_seen_at < @at)`);
  const write = db.transaction((batch: Map<string, Observation>) => {
    for (const [id, observation] of batch) update.run({ id, ...observation });
  });

  const flush = () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      write(batch);
    } catch (error) {
      // Nothing was written (one transaction): keep the batch for the next flush, under
      // anything noted since, which is newer.
      pending = new Map([...batch, ...pending]);
      throw error;
    }
  };
  // A failed write on the timer (say, the database busy past its timeout) is retried on the
  // next tick rather than thrown where nothing can catch it.
  const timer = setInterval(() => { try { flush(); } catch { /* kept for the next tick */ } }, flushMilliseconds);
  // The timer alone never keeps a process alive; whoever closes the database calls close().
  timer.unref();

  return {
    seen(device, at, state) {
      // Check-ins in one interval merge as consecutive writes would: the latest time, and
      // the latest state the device reported (a check-in without a state keeps the last one).
      const earlier = pending.get(device);
      pending.set(device, { at: at.toISOString(), state: state ?? earlier?.state ?? null });
      if (closed) flush();
    },
    flush,
    close() {
      closed = true;
      clearInterval(timer);
      flush();
    },
  };
}
