// SQLite is the embedded default store (DESIGN.md, "One machine first"). Migrations are
// numbered SQL files, each applied once, in order, inside its own transaction.
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Db = Database.Database;

/**
 * The package's migrations folder: the nearest ancestor of this module's folder that holds
 * one. Found rather than fixed, because this module runs from server/storage/ under tsx and
 * from a chunk in dist/server/ in the built server (`npm run build`).
 */
function findMigrationsDirectory(from: string): string {
  for (let directory = from; ; directory = dirname(directory)) {
    const candidate = join(directory, 'migrations');
    if (existsSync(join(candidate, '001_init.sql'))) return candidate;
    if (dirname(directory) === directory) throw new Error(`no migrations folder above ${from}`);
  }
}

const migrationsDirectory = findMigrationsDirectory(dirname(fileURLToPath(import.meta.url)));

export function openDatabase(path: string): Db {
  const db = new Database(path);
  // WAL lets readers proceed during a write; NORMAL sync is durable across process crashes
  // (only an OS crash can lose the last transactions) and is the usual pairing with WAL.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
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

/** The migrations this code knows, in the order they apply (a backup newer than these is refused). */
export function knownMigrations(directory = migrationsDirectory): string[] {
  return readdirSync(directory).filter((name) => /^\d{3}_[\w-]+\.sql$/.test(name)).sort();
}

export function migrate(db: Db, directory = migrationsDirectory): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((row) => row.name),
  );
  const files = knownMigrations(directory);
  const ran: string[] = [];
  for (const name of files) {
    if (applied.has(name)) continue;
    const sql = readFileSync(join(directory, name), 'utf8');
    // Foreign keys are checked at commit so that a migration may create tables in any order.
    db.pragma('defer_foreign_keys = ON');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, new Date().toISOString());
    })();
    ran.push(name);
  }
  return ran;
}
