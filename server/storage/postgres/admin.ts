// Creating and dropping whole databases, for the test harness and for tools that set up a
// fresh database: statements that run outside any transaction, on a small pool of their own
// against the server's maintenance database.
import pg from 'pg';
import { createHash } from 'node:crypto';
import { parseDatabaseUrl } from '../database-url.js';
import { knownMigrations, migrationsDirectory, readMigration } from '../migrations.js';
import { createPostgresDatabase, poolConfig } from './session.js';
import { migratePostgres } from './migrate.js';

const databaseName = /^[a-z_][a-z0-9_]{0,62}$/;
const pools = new Map<string, pg.Pool>();

function adminPool(url: string, timeoutMillis?: number): pg.Pool {
  const key = `${url} ${timeoutMillis ?? ''}`;
  let pool = pools.get(key);
  if (!pool) {
    const location = parseDatabaseUrl(url, 'the PostgreSQL URL');
    if (location.kind !== 'postgres') throw new Error(`not a PostgreSQL URL: ${url}`);
    // allowExitOnIdle: a test process ends when its work is done, not ten seconds later.
    pool = new pg.Pool({
      ...poolConfig(location.connection),
      ...(timeoutMillis ? { connectionTimeoutMillis: timeoutMillis } : {}),
      max: 2,
      allowExitOnIdle: true,
    });
    pool.on('error', () => undefined);
    pools.set(key, pool);
  }
  return pool;
}

function checkName(name: string): string {
  if (!databaseName.test(name)) throw new Error(`database name "${name}": lower-case letters, digits and _ only`);
  return name;
}

/** `url` with its database replaced by `name`, credentials and parameters kept. */
export function urlOfDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  parsed.searchParams.delete('dbname');
  return parsed.toString();
}

/**
 * A new database named `name` on the server `adminUrl` connects to, a copy of `template`
 * (default: empty); returns its URL. Collation and character classes are "C", the byte order
 * SQLite compares text in, so that ORDER BY on text sorts alike on both dialects.
 * `settings` become the database's defaults for every connection to it.
 */
export async function createDatabase(
  adminUrl: string,
  name: string,
  options: { template?: string; settings?: Record<string, string> } = {},
): Promise<string> {
  const pool = adminPool(adminUrl);
  const source = options.template ? checkName(options.template) : 'template0';
  await pool.query(`CREATE DATABASE ${checkName(name)} TEMPLATE ${source} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  for (const [setting, value] of Object.entries(options.settings ?? {})) {
    if (!/^[a-z_]+$/.test(setting) || !/^[\w.]+$/.test(value)) throw new Error(`setting ${setting}=${value}`);
    await pool.query(`ALTER DATABASE ${name} SET ${setting} = ${value}`);
  }
  return urlOfDatabase(adminUrl, name);
}

/** Drops `name`, ending any connection still open to it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await adminPool(adminUrl).query(`DROP DATABASE IF EXISTS ${checkName(name)} WITH (FORCE)`);
}

/** Lock keys on the maintenance database, apart from the migration runner's (which is per database anyway). */
const templateLockKey = '126909663503206';

/**
 * A database with every migration of this checkout applied, to copy test databases from:
 * copying it is much faster than migrating each copy. Named after the migrations' digest, so
 * that a changed migration makes a new template; made once, under a lock, however many test
 * processes ask at once. Templates of other migration sets are dropped when a new one is made.
 */
export async function migratedTemplate(adminUrl: string, prefix = 'sluice_template'): Promise<string> {
  const digest = createHash('sha256');
  const directory = migrationsDirectory('postgres');
  for (const name of knownMigrations(directory)) digest.update(name).update('\0').update(readMigration(directory, name)).update('\0');
  const name = checkName(`${prefix}_${digest.digest('hex').slice(0, 16)}`);
  const pool = adminPool(adminUrl);
  const exists = async (client: pg.PoolClient | pg.Pool) =>
    (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  if (await exists(pool)) return name;
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [templateLockKey]);
    try {
      if (await exists(client)) return name;
      const building = `${name}_building`;
      await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      const url = await createDatabase(adminUrl, building);
      const database = createPostgresDatabase(url);
      try {
        await migratePostgres(database);
      } finally {
        await database.close();
      }
      // Renamed only once complete, so a template that exists is a whole one.
      await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      const stale = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2', [
        `${prefix}\\_%`,
        name,
      ]);
      for (const row of stale.rows) await client.query(`DROP DATABASE IF EXISTS ${checkName(row.datname)} WITH (FORCE)`);
      return name;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [templateLockKey]);
    }
  } finally {
    client.release();
  }
}

/** Whether a PostgreSQL server answers at `url` within `timeoutMillis`; the reason if not. */
export async function probe(url: string, timeoutMillis = 2000): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await adminPool(url, timeoutMillis).query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message || (error as { code?: string }).code || String(error) };
  }
}

// used by bench (H12): what one database has done, from PostgreSQL's cumulative statistics
// (pg_stat_database, no extension or restart needed). Backends report their counts when they
// go idle (at most once a second) and when they exit, so a reading after the database's last
// connection closed is complete.
export interface DatabaseActivity {
  /** Committed transactions; a statement outside BEGIN … COMMIT is one. */
  commits: number;
  rollbacks: number;
  rowsReturned: number;
  rowsFetched: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  blocksRead: number;
  blocksHit: number;
  /** Time the database's backends spent executing statements. */
  activeMilliseconds: number;
}

export async function databaseActivity(adminUrl: string, name: string): Promise<DatabaseActivity> {
  const row =
    (
      await adminPool(adminUrl).query(
        `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, blks_read, blks_hit, active_time
     FROM pg_stat_database WHERE datname = $1`,
        [checkName(name)],
      )
    ).rows[0] ?? {};
  return {
    commits: Number(row.xact_commit ?? 0),
    rollbacks: Number(row.xact_rollback ?? 0),
    rowsReturned: Number(row.tup_returned ?? 0),
    rowsFetched: Number(row.tup_fetched ?? 0),
    rowsInserted: Number(row.tup_inserted ?? 0),
    rowsUpdated: Number(row.tup_updated ?? 0),
    rowsDeleted: Number(row.tup_deleted ?? 0),
    blocksRead: Number(row.blks_read ?? 0),
    blocksHit: Number(row.blks_hit ?? 0),
    activeMilliseconds: Number(row.active_time ?? 0),
  };
}

/** The process ids of the backends connected to `name` now (their CPU time is in /proc). */
export async function backendProcesses(adminUrl: string, name: string): Promise<number[]> {
  const rows = (await adminPool(adminUrl).query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [checkName(name)]))
    .rows;
  return rows.map((row) => Number(row.pid));
}
