// SQLite is the embedded default store (DESIGN.md, "One machine first"). openDatabase opens
// and migrates a SQLite file (sqlite/migrate.ts) for the callers that still use the
// synchronous connection; the store itself opens through open.ts.
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { migrateSqlite } from './sqlite/migrate.js';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  // SQLite would create the file 0644 under the process's umask; created owner-only here, and
  // SQLite gives its -wal and -shm the database file's mode.
  if (path !== ':memory:') closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path);
  // WAL lets readers proceed during a write; NORMAL sync is durable across process crashes
  // (only an OS crash can lose the last transactions) and is the usual pairing with WAL.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrateSqlite(db);
  cachePreparedStatements(db);
  return db;
}

/**
 * Compiling SQL took a fifth of the check-in's CPU in the profile (BENCHMARKS.md): every
 * statement is compiled once per SQL text and reused. Statements are only run, never
 * iterated concurrently, so one compiled statement per text is safe.
 */
function cachePreparedStatements(db: Db): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<typeof compile>>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = compile(sql);
      cache.set(sql, statement);
    }
    return statement;
  }) as typeof db.prepare;
}

export { knownMigrations } from './migrations.js';

/** Applies the SQLite migrations not yet applied; returns their names. */
export function migrate(db: Db, directory?: string): string[] {
  return migrateSqlite(db, directory);
}
