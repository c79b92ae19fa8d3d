// The database each test runs on. SQLite (a temporary directory) by default; with
// SLUICE_TEST_DATABASE=postgres, a fresh PostgreSQL database per test, created on the server
// SLUICE_TEST_POSTGRES_URL names (default postgres://sluice:sluice@127.0.0.1:5432/sluice, a
// role allowed to CREATE DATABASE) and dropped at the test's teardown.
//
// The storage contract tests (`forEachStore`) run on SQLite always and on PostgreSQL too:
// required when SLUICE_TEST_DATABASE=postgres or CI is set (an unreachable server fails the
// test, so CI cannot pass without it), otherwise run when the server answers and skipped,
// with the reason, when it does not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { openStore } from '../../server/storage/open.js';
import type { OpenStore } from '../../server/storage/store.js';
import type { Dialect, SqlDatabase } from '../../server/storage/sql.js';
import { openDatabase } from '../../server/storage/database.js';
import { createSqliteDatabase } from '../../server/storage/sqlite/session.js';
import { createPostgresDatabase } from '../../server/storage/postgres/session.js';
import { createDatabase, dropDatabase, migratedTemplate, probe } from '../../server/storage/postgres/admin.js';
import { redactDatabaseUrl } from '../../server/storage/database-url.js';

export interface Teardown {
  teardown: (fn: () => unknown) => void;
}

export const testDialect: Dialect = process.env.SLUICE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const postgresAdminUrl = process.env.SLUICE_TEST_POSTGRES_URL || 'postgres://sluice:sluice@127.0.0.1:5432/sluice';
const postgresRequired = testDialect === 'postgres' || Boolean(process.env.CI);

let reachable: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

/** Why the PostgreSQL half of a contract test does not run here, or null when it does. */
export async function postgresUnavailable(): Promise<string | null> {
  const answer = await (reachable ??= probe(postgresAdminUrl));
  if (answer.ok) return null;
  const reason = `no PostgreSQL at ${redactDatabaseUrl(postgresAdminUrl)} (${answer.reason}); set SLUICE_TEST_POSTGRES_URL (README, "Running on PostgreSQL")`;
  if (postgresRequired)
    throw new Error(`${reason}: required because ${testDialect === 'postgres' ? 'SLUICE_TEST_DATABASE=postgres' : 'CI is set'}`);
  return reason;
}

export interface TestDatabase {
  /** The URL to hand to openStore, buildApp or `sluice server --database`. */
  url: string;
  name: string;
  drop: () => Promise<void>;
}

// Drops run in the background, so that a test does not wait for PostgreSQL's checkpoint;
// each keeps the process alive until it is done, and one that fails says so.
function dropInBackground(name: string): Promise<void> {
  const dropping = dropDatabase(postgresAdminUrl, name).catch((error: Error) => {
    process.stderr.write(`could not drop test database ${name}: ${error.message}\n`);
  });
  return dropping;
}

/**
 * A fresh PostgreSQL database, migrated (a copy of a migrated template, which is faster
 * than migrating) or, with `empty`, without even schema_migrations. Commits do not wait for
 * the disk (synchronous_commit = off, this database only): a crash of PostgreSQL itself
 * could lose the last ones, which a test database can afford. The caller drops it.
 */
export async function createPostgresTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  const template = options.empty ? undefined : await migratedTemplate(postgresAdminUrl);
  const url = await createDatabase(postgresAdminUrl, name, { template, settings: { synchronous_commit: 'off' } });
  let dropped: Promise<void> | undefined;
  return { url, name, drop: () => (dropped ??= dropInBackground(name)) };
}

/** A fresh PostgreSQL database dropped at `t`'s teardown. */
export async function postgresTestDatabase(t: Teardown, options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const database = await createPostgresTestDatabase(options);
  t.teardown(() => {
    void database.drop();
  });
  return database;
}

/**
 * The database URL a test server should use: a fresh PostgreSQL database when the suite runs
 * on PostgreSQL, undefined on SQLite (the server's own default, DIR/sluice.db). The caller
 * drops it with `drop` after closing the server.
 */
export async function testServerDatabase(): Promise<{ url: string | undefined; drop: () => Promise<void> }> {
  if (testDialect === 'sqlite') return { url: undefined, drop: async () => undefined };
  await postgresUnavailable();
  const database = await createPostgresTestDatabase();
  return { url: database.url, drop: database.drop };
}

/**
 * Waits until no client session but this one is connected to the PostgreSQL database at
 * `url`, at most `timeoutMs`; returns how many are left (0: none). After a server's process
 * is gone, its sessions end as soon as PostgreSQL notices the closed socket: until then a
 * transaction whose COMMIT it had sent may still land, so a crash test reads only after this.
 */
export async function waitForNoOtherSessions(url: string, timeoutMs = 10_000): Promise<number> {
  // One connection, so that the count leaves out exactly the session that runs it.
  const database = createPostgresDatabase(url, { poolSize: 1, pipelinedConnections: 0 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await database.get<{ n: number }>(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      const sessions = Number(row?.n ?? 0);
      if (sessions === 0 || Date.now() > deadline) return sessions;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await database.close();
  }
}

/** An open, migrated, empty store on `dialect`, closed (and its database removed) at teardown. */
export async function openTestStore(t: Teardown, dialect: Dialect = testDialect): Promise<OpenStore & { url?: string }> {
  if (dialect === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    const store = await openStore({ dataDir });
    t.teardown(async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    return store;
  }
  const database = await createPostgresTestDatabase();
  let store: OpenStore;
  try {
    store = await openStore({ url: database.url, dataDir: tmpdir() });
  } catch (error) {
    await database.drop();
    throw error;
  }
  t.teardown(async () => {
    await store.close();
    void database.drop();
  });
  return Object.assign(store, { url: database.url });
}

/** A bare SQL session on a migrated database of `dialect` (no repositories), closed and removed at teardown. */
export async function openTestSession(t: Teardown, dialect: Dialect): Promise<SqlDatabase> {
  if (dialect === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-session-'));
    const database = createSqliteDatabase(openDatabase(join(dataDir, 'sluice.db')));
    t.teardown(async () => {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    return database;
  }
  const created = await createPostgresTestDatabase();
  const database = createPostgresDatabase(created.url);
  t.teardown(async () => {
    await database.close();
    void created.drop();
  });
  return database;
}

/** Like forEachStore, on bare sessions: for the tests of the SQL seam itself. */
export function forEachSession(t: Test, name: string, body: (t: Test, session: SqlDatabase) => Promise<void>): void {
  t.test(name, async (t) => {
    t.test('sqlite', async (t) => body(t, await openTestSession(t, 'sqlite')));
    const unavailable = await postgresUnavailable();
    t.test('postgres', { skip: unavailable ?? false }, async (t) => body(t, await openTestSession(t, 'postgres')));
  });
}

/**
 * A contract test on both stores: `name` with a subtest per dialect, each on a fresh store.
 * The PostgreSQL one is skipped, saying why, only where PostgreSQL is optional (see above).
 */
export function forEachStore(t: Test, name: string, body: (t: Test, store: OpenStore) => Promise<void>): void {
  t.test(name, async (t) => {
    t.test('sqlite', async (t) => body(t, await openTestStore(t, 'sqlite')));
    const unavailable = await postgresUnavailable();
    t.test('postgres', { skip: unavailable ?? false }, async (t) => body(t, await openTestStore(t, 'postgres')));
  });
}
