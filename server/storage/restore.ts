// `sluice restore`: a backup back into a data directory, all or nothing. The manifest, the
// schema version and every file's digest are checked before anything is written; the files
// are then copied into a sibling directory, hashed again, and renamed into place in one step.
// Run it with the server stopped: a server holds its database open.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { knownMigrations } from './migrations.js';
import { parseDatabaseUrl } from './database-url.js';
import { parseArtifactStoreUrl } from './artifact-stores.js';
import {
  BackupError,
  copyVerified,
  flush,
  flushDirectories,
  readBackupManifest,
  refuseNewerSchema,
  refuseObjectStore,
  refusePostgres,
  verifyBackupFiles,
  type BackupManifest,
} from './backup-manifest.js';

export interface RestoreOptions {
  from: string;
  dataDir: string;
  /** The server's `--database`: a PostgreSQL database is restored with pg_restore instead. */
  databaseUrl?: string;
  /** Replace a data directory that is not empty; the old one is kept aside, not deleted. */
  force: boolean;
  /** The server's `--artifact-store`; an object store is refused with advice. */
  artifactStoreUrl?: string;
  now?: () => Date;
}

export interface RestoreSummary {
  dataDir: string;
  manifest: BackupManifest;
  /** Where the replaced data directory was moved, when --force replaced one. */
  previous: string | null;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreSummary> {
  if (parseArtifactStoreUrl(options.artifactStoreUrl).kind === 's3') refuseObjectStore('restore', options.artifactStoreUrl!);
  if (options.databaseUrl && parseDatabaseUrl(options.databaseUrl).kind === 'postgres') refusePostgres('restore', options.databaseUrl);
  const from = resolve(options.from);
  const target = resolve(options.dataDir);
  const manifest = readBackupManifest(from);
  refuseNewerSchema(manifest, knownMigrations());
  const occupied = existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0);
  if (occupied && !options.force) {
    throw new BackupError(
      'target_not_empty',
      `${target} is not empty: restore into a new directory, or pass --force to replace it (the old one is kept aside)`,
    );
  }
  await verifyBackupFiles(from, manifest);

  // A sibling, so that the final rename stays on one file system and is atomic.
  const staging = join(dirname(target), `.${basename(target)}.restoring-${randomUUID().slice(0, 8)}`);
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    for (const file of manifest.files) {
      await copyVerified(join(from, file.path), join(staging, file.path), { path: file.path, mode: file.mode, expected: file });
    }
    await flushDirectories(staging, manifest.files);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  let previous: string | null = null;
  if (occupied) {
    const stamp = (options.now ?? (() => new Date()))().toISOString().replace(/[:.]/g, '-');
    previous = `${target}.before-restore-${stamp}`;
    await rename(target, previous);
  } else if (existsSync(target)) {
    await rmdir(target);
  }
  await rename(staging, target);
  await flush(dirname(target));
  return { dataDir: target, manifest, previous };
}
