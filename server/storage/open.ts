// Opens the store a server runs on, named by one URL (database-url.ts): SQLite by default, in
// the data directory's sluice.db as always, or PostgreSQL. Either way the schema is brought
// up to date before the store is handed out.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDatabaseUrl, type DatabaseLocation } from './database-url.js';
import { openDatabase } from './database.js';
import { createSqliteDatabase } from './sqlite/session.js';
import { createPostgresDatabase, type PostgresOptions } from './postgres/session.js';
import { migratePostgres } from './postgres/migrate.js';
import { createStore, type OpenStore } from './store.js';

export interface OpenStoreOptions {
  /** `sqlite:PATH`, `postgres://…` or `postgresql://…`; absent: SQLite in the data directory. */
  url?: string;
  dataDir: string;
  /** Where the URL came from, named in the refusal of a bad one. */
  option?: string;
  postgres?: PostgresOptions;
}

/** Where the store lives: the URL parsed, or the default SQLite file of the data directory. */
export function databaseLocation(options: Pick<OpenStoreOptions, 'url' | 'dataDir' | 'option'>): DatabaseLocation {
  if (options.url === undefined || options.url === '') return { kind: 'sqlite', path: join(resolve(options.dataDir), 'sluice.db') };
  return parseDatabaseUrl(options.url, options.option);
}

export async function openStore(options: OpenStoreOptions): Promise<OpenStore> {
  const location = databaseLocation(options);
  if (location.kind === 'sqlite') {
    mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 });
    return createStore(createSqliteDatabase(openDatabase(location.path)));
  }
  const database = createPostgresDatabase(location.url, options.postgres);
  try {
    await migratePostgres(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return createStore(database);
}
