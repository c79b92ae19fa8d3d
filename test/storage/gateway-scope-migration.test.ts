// Migration 007 scopes DDI gateway tokens to one customer (issue 15). A token made before it,
// on a server with one customer, becomes that customer's and keeps working; with several
// customers it could act for any of them, so it is no longer accepted. On both dialects.
import t from 'tap';
import { cpSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { knownMigrations, migrationsDirectory } from '../../server/storage/migrations.js';
import { migrateSqlite } from '../../server/storage/sqlite/migrate.js';
import { createSqliteDatabase } from '../../server/storage/sqlite/session.js';
import { createPostgresDatabase } from '../../server/storage/postgres/session.js';
import { migratePostgres } from '../../server/storage/postgres/migrate.js';
import { createStore } from '../../server/storage/store.js';
import type { Dialect, SqlDatabase } from '../../server/storage/sql.js';
import { postgresTestDatabase, postgresUnavailable } from '../helpers/database.js';

const scoping = '007_access_control.sql';

/** A database migrated up to, not including, 007; `finish` applies the rest. */
async function beforeScoping(
  t: Parameters<typeof postgresTestDatabase>[0],
  dialect: Dialect,
): Promise<{ session: SqlDatabase; finish: () => Promise<void> }> {
  const work = mkdtempSync(join(tmpdir(), 'sluice-migration-007-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const directory = join(work, dialect);
  cpSync(migrationsDirectory(dialect), directory, { recursive: true });
  const later = knownMigrations(directory).filter((name) => name >= scoping);
  for (const name of later) unlinkSync(join(directory, name));
  const restore = () => cpSync(migrationsDirectory(dialect), directory, { recursive: true });
  if (dialect === 'sqlite') {
    const db = new Database(join(work, 'sluice.db'));
    db.pragma('foreign_keys = ON');
    migrateSqlite(db, directory);
    const session = createSqliteDatabase(db);
    t.teardown(() => session.close());
    return {
      session,
      finish: async () => {
        restore();
        migrateSqlite(db, directory);
      },
    };
  }
  const { url } = await postgresTestDatabase(t, { empty: true });
  const session = createPostgresDatabase(url);
  t.teardown(() => session.close());
  await migratePostgres(session, directory);
  return {
    session,
    finish: async () => {
      restore();
      await migratePostgres(session, directory);
    },
  };
}

const at = '2026-11-01T00:00:00.000Z';
const insertToken = (session: SqlDatabase, id: string, hash: string) =>
  session.run('INSERT INTO ddi_gateway_tokens (id, hash, tenant, created_by, created_at) VALUES (?, ?, ?, ?, ?)', [
    id,
    hash,
    'DEFAULT',
    'user:sam',
    at,
  ]);
const insertCustomer = (session: SqlDatabase, id: string) =>
  session.run('INSERT INTO customers (id, name, timezone, created_at) VALUES (?, ?, ?, ?)', [id, id, 'UTC', at]);

for (const dialect of ['sqlite', 'postgres'] as const) {
  t.test(dialect, { skip: dialect === 'postgres' ? ((await postgresUnavailable()) ?? false) : false }, async (t) => {
    t.test("one customer: an old gateway token becomes that customer's", async (t) => {
      const { session, finish } = await beforeScoping(t, dialect);
      await insertCustomer(session, 'acme');
      await insertToken(session, 'g-1', 'a'.repeat(64));
      await finish();
      const store = createStore(session);
      t.same(await store.ddi.gatewayToken('a'.repeat(64)), { tenant: 'DEFAULT', customer: 'acme' });
    });
    t.test('several customers: an old gateway token is no longer accepted, and listed without a customer', async (t) => {
      const { session, finish } = await beforeScoping(t, dialect);
      await insertCustomer(session, 'acme');
      await insertCustomer(session, 'beta');
      await insertToken(session, 'g-1', 'b'.repeat(64));
      await finish();
      const store = createStore(session);
      t.equal(await store.ddi.gatewayToken('b'.repeat(64)), undefined);
      t.match(await store.ddi.gatewayTokens(), [{ id: 'g-1', customer: null, revokedAt: null }]);
      t.notOk(await store.ddi.replaceGatewayTokenHash('g-1', 'c'.repeat(64)), 'and cannot be rotated into use');
    });
  });
}
