// Migrations are numbered SQL files, one folder per dialect with the same names in both
// (migrations/sqlite/001_init.sql and migrations/postgres/001_init.sql make the same tables),
// so that a backup's list of applied migrations means the same schema on either.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dialect } from './sql.js';

/**
 * The package's migrations folder: the nearest ancestor of this module's folder that holds
 * one. Found rather than fixed, because this module runs from server/storage/ under tsx and
 * from a chunk in dist/server/ in the built server (`npm run build`).
 */
function findMigrationsRoot(from: string): string {
  for (let directory = from; ; directory = dirname(directory)) {
    const candidate = join(directory, 'migrations');
    if (existsSync(join(candidate, 'sqlite', '001_init.sql'))) return candidate;
    if (dirname(directory) === directory) throw new Error(`no migrations folder above ${from}`);
  }
}

const migrationsRoot = findMigrationsRoot(dirname(fileURLToPath(import.meta.url)));

export function migrationsDirectory(dialect: Dialect): string {
  return join(migrationsRoot, dialect);
}

/** The migrations this code knows, in the order they apply (a backup newer than these is refused). */
export function knownMigrations(directory = migrationsDirectory('sqlite')): string[] {
  return readdirSync(directory)
    .filter((name) => /^\d{3}_[\w-]+\.sql$/.test(name))
    .sort();
}

export function readMigration(directory: string, name: string): string {
  return readFileSync(join(directory, name), 'utf8');
}
