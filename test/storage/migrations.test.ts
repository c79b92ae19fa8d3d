// The migration runners (server/storage/sqlite/migrate.ts, postgres/migrate.ts): each
// migration once, in order, in its own transaction; on PostgreSQL, runners started together
// on one database apply each migration once between them. And the two dialects' migrations
// make the same schema: the same tables, columns, keys, indexes and foreign keys.
import t from 'tap';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knownMigrations, migrationsDirectory } from '../../server/storage/migrations.js';
import { openDatabase } from '../../server/storage/database.js';
import { migrateSqlite } from '../../server/storage/sqlite/migrate.js';
import { createSqliteDatabase } from '../../server/storage/sqlite/session.js';
import { createPostgresDatabase } from '../../server/storage/postgres/session.js';
import { migratePostgres } from '../../server/storage/postgres/migrate.js';
import type { SqlSession } from '../../server/storage/sql.js';
import { postgresTestDatabase, postgresUnavailable } from '../helpers/database.js';

const sqliteNames = knownMigrations(migrationsDirectory('sqlite'));
const postgresNames = knownMigrations(migrationsDirectory('postgres'));

t.test('both dialects have the same numbered migrations', async (t) => {
  t.ok(sqliteNames.length >= 6);
  t.same(postgresNames, sqliteNames, "same names: a backup's migration list means the same schema on either");
  t.same(
    sqliteNames.map((name) => name.slice(0, 3)),
    sqliteNames.map((_, index) => String(index + 1).padStart(3, '0')),
    'numbered 001, 002, … without gaps',
  );
  t.same(knownMigrations(), sqliteNames, "the default list (backups, restore) is SQLite's");
});

t.test('SQLite: each migration once; a second run applies nothing', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-migrate-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const db = openDatabase(join(directory, 'sluice.db'));
  t.teardown(() => db.close());
  t.same(migrateSqlite(db), [], 'openDatabase already applied them all');
  const rows = db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[];
  t.same(
    rows.map((row) => row.name),
    sqliteNames,
  );
});

t.test('SQLite: a failing migration leaves nothing of itself and stops the run', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-migrate-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const migrations = join(directory, 'migrations');
  mkdirSync(migrations);
  writeFileSync(join(migrations, '001_good.sql'), 'CREATE TABLE good (id TEXT PRIMARY KEY);');
  writeFileSync(join(migrations, '002_bad.sql'), 'CREATE TABLE half (id TEXT); INSERT INTO missing VALUES (1);');
  writeFileSync(join(migrations, '003_after.sql'), 'CREATE TABLE after (id TEXT);');
  const db = openDatabase(join(directory, 'sluice.db'));
  t.teardown(() => db.close());
  t.throws(() => migrateSqlite(db, migrations), /missing/);
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('good', 'half', 'after')").all() as { name: string }[]
  ).map((row) => row.name);
  t.same(tables, ['good'], "the failed migration's first statement was rolled back; the next never ran");
  t.ok(db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get('001_good.sql'));
  t.notOk(db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get('002_bad.sql'));
});

t.test('PostgreSQL: migrations under an advisory lock', { skip: (await postgresUnavailable()) ?? false }, async (t) => {
  t.test('five runners started together on one fresh database apply each migration once', async (t) => {
    const { url } = await postgresTestDatabase(t, { empty: true });
    const runners = Array.from({ length: 5 }, () => createPostgresDatabase(url));
    t.teardown(() => Promise.all(runners.map((runner) => runner.close())));
    const ran = await Promise.all(runners.map((runner) => migratePostgres(runner)));
    t.same(ran.flat().sort(), postgresNames, 'between them, every migration exactly once');
    t.equal(ran.filter((names) => names.length > 0).length, 1, 'one runner did the work; the others waited, then found nothing to do');
    const rows = await runners[0].all<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    t.same(
      rows.map((row) => row.name),
      postgresNames,
      'schema_migrations lists each once',
    );
    t.same(await migratePostgres(runners[1]), [], 'a later run applies nothing');
    const locks = await runners[0].get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    t.equal(locks?.n, 0, 'no runner still holds the lock');
  });

  t.test('a failing migration leaves nothing of itself, and the lock is released', async (t) => {
    const { url } = await postgresTestDatabase(t, { empty: true });
    const directory = mkdtempSync(join(tmpdir(), 'sluice-migrate-'));
    t.teardown(() => rmSync(directory, { recursive: true, force: true }));
    writeFileSync(join(directory, '001_good.sql'), 'CREATE TABLE good (id TEXT PRIMARY KEY);');
    writeFileSync(join(directory, '002_bad.sql'), 'CREATE TABLE half (id TEXT); INSERT INTO missing VALUES (1);');
    const database = createPostgresDatabase(url);
    t.teardown(() => database.close());
    await t.rejects(migratePostgres(database, directory), {
      message: /migration 002_bad\.sql failed: relation "missing" does not exist/,
      code: '42P01',
    });
    const tables = await database.all<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('good', 'half') ORDER BY table_name",
    );
    t.same(tables, [{ name: 'good' }]);
    // Fixed, the next start applies it: the first run's lock did not outlive it.
    writeFileSync(join(directory, '002_bad.sql'), 'CREATE TABLE half (id TEXT);');
    t.same(await migratePostgres(database, directory), ['002_bad.sql']);
  });

  t.test("the two dialects' migrations make the same schema", async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-schema-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const sqlite = createSqliteDatabase(openDatabase(join(dataDir, 'sluice.db')));
    t.teardown(() => sqlite.close());
    const { url } = await postgresTestDatabase(t, { empty: true });
    const postgres = createPostgresDatabase(url);
    t.teardown(() => postgres.close());
    await migratePostgres(postgres);
    const [left, right] = [await sqliteSchema(sqlite), await postgresSchema(postgres)];
    t.same(Object.keys(right.columns).sort(), Object.keys(left.columns).sort(), 'the same tables');
    for (const table of Object.keys(left.columns))
      t.same(right.columns[table], left.columns[table], `${table}: the same columns, types and NOT NULLs`);
    t.same(right.keys, left.keys, 'the same primary keys, unique keys and indexes (partial ones included)');
    t.same(right.foreignKeys, left.foreignKeys, 'the same foreign keys');
    t.same(right.checks, left.checks, 'as many CHECK constraints per table');
  });
});

t.test('the runner reads migrations from a copy of the folder (a new migration is picked up)', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-migrate-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const migrations = join(directory, 'sqlite');
  cpSync(migrationsDirectory('sqlite'), migrations, { recursive: true });
  const db = openDatabase(join(directory, 'sluice.db'));
  t.teardown(() => db.close());
  const next = `${String(sqliteNames.length + 1).padStart(3, '0')}_added.sql`;
  writeFileSync(join(migrations, next), 'CREATE TABLE added (id TEXT PRIMARY KEY);');
  t.same(migrateSqlite(db, migrations), [next], 'only the new one');
  t.same(migrateSqlite(db, migrations), []);
});

// The schema as both dialects can describe it: declared types mapped to one vocabulary.
interface Schema {
  columns: Record<string, string[]>;
  keys: string[];
  foreignKeys: string[];
  checks: Record<string, number>;
}

const sqliteType = (declared: string) =>
  (({ TEXT: 'text', INTEGER: 'integer', REAL: 'real' }) as Record<string, string>)[declared.toUpperCase()] ?? declared;
const postgresType = (declared: string) =>
  (({ text: 'text', integer: 'integer', bigint: 'integer', 'double precision': 'real' }) as Record<string, string>)[declared] ?? declared;

async function sqliteSchema(session: SqlSession): Promise<Schema> {
  const tables = await session.all<{ name: string; sql: string }>(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const schema: Schema = { columns: {}, keys: [], foreignKeys: [], checks: {} };
  for (const { name: table, sql } of tables) {
    const columns = await session.all<{ name: string; type: string; notnull: number; pk: number }>(
      'SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid',
      [table],
    );
    // A PRIMARY KEY column is NOT NULL in PostgreSQL; SQLite leaves a text key nullable unless said.
    schema.columns[table] = columns.map(
      (column) => `${column.name} ${sqliteType(column.type)}${column.notnull || column.pk ? ' not null' : ''}`,
    );
    const primary = columns
      .filter((column) => column.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((column) => column.name);
    if (primary.length) schema.keys.push(`${table}(${primary.join(',')}) unique`);
    for (const index of await session.all<{ name: string; unique: number; partial: number; origin: string }>(
      'SELECT name, "unique", partial, origin FROM pragma_index_list(?)',
      [table],
    )) {
      if (index.origin === 'pk') continue;
      const indexed = (await session.all<{ name: string }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [index.name])).map(
        (column) => column.name,
      );
      schema.keys.push(`${table}(${indexed.join(',')})${index.unique ? ' unique' : ''}${index.partial ? ' partial' : ''}`);
    }
    for (const key of await session.all<{ table: string; from: string; to: string }>(
      'SELECT "table", "from", "to" FROM pragma_foreign_key_list(?)',
      [table],
    )) {
      schema.foreignKeys.push(`${table}.${key.from} -> ${key.table}.${key.to}`);
    }
    schema.checks[table] = (sql.match(/\bCHECK\s*\(/gi) ?? []).length;
  }
  schema.keys.sort();
  schema.foreignKeys.sort();
  return schema;
}

async function postgresSchema(session: SqlSession): Promise<Schema> {
  const schema: Schema = { columns: {}, keys: [], foreignKeys: [], checks: {} };
  const columns = await session.all<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    'SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
  );
  for (const column of columns) {
    (schema.columns[column.table_name] ??= []).push(
      `${column.column_name} ${postgresType(column.data_type)}${column.is_nullable === 'NO' ? ' not null' : ''}`,
    );
  }
  const indexes = await session.all<{ table_name: string; columns: string; is_unique: boolean; partial: boolean }>(`
    SELECT t.relname AS table_name, i.indisunique AS is_unique, i.indpred IS NOT NULL AS partial,
      (SELECT string_agg(a.attname, ',' ORDER BY k.position) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = current_schema()`);
  for (const index of indexes)
    schema.keys.push(`${index.table_name}(${index.columns})${index.is_unique ? ' unique' : ''}${index.partial ? ' partial' : ''}`);
  const foreignKeys = await session.all<{ table_name: string; column_name: string; target: string; target_column: string }>(`
    SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name, c.confrelid::regclass::text AS target, af.attname AS target_column
    FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
    WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`);
  for (const key of foreignKeys) schema.foreignKeys.push(`${key.table_name}.${key.column_name} -> ${key.target}.${key.target_column}`);
  const checks = await session.all<{ table_name: string; n: number }>(`
    SELECT c.conrelid::regclass::text AS table_name, COUNT(*) AS n FROM pg_constraint c
    WHERE c.contype = 'c' AND c.connamespace = current_schema()::regnamespace GROUP BY 1`);
  for (const table of Object.keys(schema.columns)) schema.checks[table] = 0;
  for (const check of checks) schema.checks[check.table_name] = check.n;
  schema.keys.sort();
  schema.foreignKeys.sort();
  return schema;
}
