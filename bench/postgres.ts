// The PostgreSQL side of the benchmarks: a fresh, empty database per run on the server
// BENCH_POSTGRES_URL names (default: the role and database the tests use), migrated by the
// first `sluice server` that opens it, as in production, and dropped afterwards; and what
// the database did meanwhile, read from PostgreSQL's own statistics (pg_stat_database) and
// the CPU time of its backends.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createDatabase,
  dropDatabase,
  databaseActivity,
  backendProcesses,
  probe,
  type DatabaseActivity,
} from '../server/storage/postgres/admin.js';
import { redactDatabaseUrl } from '../server/storage/database-url.js';
import { cpuSeconds } from './processes.js';

export const postgresAdminUrl = process.env.BENCH_POSTGRES_URL || 'postgres://sluice:sluice@127.0.0.1:5432/sluice';

/** Why the PostgreSQL rows cannot run here, or null when they can. */
export async function postgresUnavailable(): Promise<string | null> {
  const answer = await probe(postgresAdminUrl);
  return answer.ok ? null : `no PostgreSQL at ${redactDatabaseUrl(postgresAdminUrl)} (${answer.reason}); set BENCH_POSTGRES_URL`;
}

export interface BenchDatabase {
  url: string;
  name: string;
  activity(): Promise<DatabaseActivity>;
  /** Reads the activity once every connection to the database has closed and reported. */
  settledActivity(): Promise<DatabaseActivity>;
  /** CPU seconds of the backends connected now, by process id. */
  backendCpu(): Promise<Map<number, number>>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `sluice_bench_${randomBytes(5).toString('hex')}`;
  // Defaults as a production database has them: synchronous_commit on, so every commit
  // waits for the WAL to reach the disk (SQLite's synchronous = NORMAL does not).
  const url = await createDatabase(postgresAdminUrl, name);
  const activity = () => databaseActivity(postgresAdminUrl, name);
  return {
    url,
    name,
    activity,
    async settledActivity() {
      // A backend reports its last counts as it exits, a moment after its client hung up.
      for (let attempt = 0; attempt < 50 && (await backendProcesses(postgresAdminUrl, name)).length > 0; attempt++) await sleep(100);
      await sleep(300);
      return activity();
    },
    async backendCpu() {
      const cpu = new Map<number, number>();
      for (const pid of await backendProcesses(postgresAdminUrl, name)) {
        try {
          cpu.set(pid, cpuSeconds(pid));
        } catch {
          /* it exited meanwhile */
        }
      }
      return cpu;
    },
    drop: () => dropDatabase(postgresAdminUrl, name),
  };
}

/**
 * The CPU time the database's backends use from now until `stop()`, read every `everyMs`:
 * pools open and close connections as load comes and goes, so two readings alone would miss
 * a backend that came and went between them (at most one interval of one is missed here).
 */
export function sampleBackendCpu(database: BenchDatabase, everyMs = 500) {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let initial = true;
  const read = async () => {
    for (const [pid, seconds] of await database.backendCpu()) {
      // One connected since the first reading counts from zero.
      if (!first.has(pid)) first.set(pid, initial ? seconds : 0);
      last.set(pid, seconds);
    }
    initial = false;
  };
  let stopped = false;
  const started = read();
  const loop = started.then(async () => {
    while (!stopped) {
      await sleep(everyMs);
      await read();
    }
  });
  return {
    started,
    async stop(): Promise<number> {
      stopped = true;
      await loop;
      await read();
      let used = 0;
      for (const [pid, seconds] of last) used += seconds - (first.get(pid) ?? 0);
      return used;
    },
  };
}

export function activityBetween(before: DatabaseActivity, after: DatabaseActivity): DatabaseActivity {
  return Object.fromEntries(
    Object.keys(after).map((key) => [key, after[key as keyof DatabaseActivity] - before[key as keyof DatabaseActivity]]),
  ) as unknown as DatabaseActivity;
}
