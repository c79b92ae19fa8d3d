// The PostgreSQL migration runner: each numbered file of migrations/postgres/ once, in order,
// each in its own transaction with its row in schema_migrations. Several server processes
// starting together on one database must migrate it once: the runner holds an advisory lock
// (scoped to this database) for its whole run, so the others wait, then find nothing to do.
// The lock belongs to the runner's connection, so a runner that dies releases it.
import type pg from 'pg';
import { knownMigrations, migrationsDirectory, readMigration } from '../migrations.js';
import type { PostgresDatabase } from './session.js';

/** Any fixed number serves; this one is "sluice" in ASCII, so that pg_locks shows what it is. */
export const migrationLockKey = '126909663503205';

export async function migratePostgres(
  database: Pick<PostgresDatabase, 'pool'>,
  directory = migrationsDirectory('postgres'),
): Promise<string[]> {
  const client = await database.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
    try {
      return await applyPending(client, directory);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]).catch((error: Error) => {
        broken = error;
      });
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: it is closed, not reused.
    client.release(broken);
  }
}

async function applyPending(client: pg.PoolClient, directory: string): Promise<string[]> {
  await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((row) => row.name));
  const ran: string[] = [];
  for (const name of knownMigrations(directory)) {
    if (applied.has(name)) continue;
    const sql = readMigration(directory, name);
    await client.query('BEGIN');
    try {
      // Without parameters node-postgres sends the simple query, which may hold several statements.
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [name, new Date().toISOString()]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw Object.assign(new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error }), {
        code: (error as { code?: string }).code,
      });
    }
    ran.push(name);
  }
  return ran;
}
