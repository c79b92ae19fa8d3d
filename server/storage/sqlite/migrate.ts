// The SQLite migration runner: each numbered file of migrations/sqlite/ once, in order, each
// in its own transaction with its row in schema_migrations. Each transaction takes SQLite's
// write lock first (IMMEDIATE) and looks again whether the migration is applied, so two
// processes opening one file together apply it once; the second waits on busy_timeout.
import type Database from 'better-sqlite3';
import { knownMigrations, migrationsDirectory, readMigration } from '../migrations.js';

export function migrateSqlite(db: Database.Database, directory = migrationsDirectory('sqlite')): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?');
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  const ran: string[] = [];
  for (const name of knownMigrations(directory)) {
    if (isApplied.get(name)) continue;
    const sql = readMigration(directory, name);
    // Foreign keys are checked at commit so that a migration may create tables in any order.
    db.pragma('defer_foreign_keys = ON');
    const applied = db
      .transaction(() => {
        if (isApplied.get(name)) return false;
        db.exec(sql);
        record.run(name, new Date().toISOString());
        return true;
      })
      .immediate();
    if (applied) ran.push(name);
  }
  return ran;
}
