// `sluice backup`: a consistent copy of a data directory while the server keeps running.
// The database is copied with SQLite's online backup API in one step, i.e. one read
// transaction: a snapshot that concurrent writers (WAL) neither block nor tear. The artifact
// store is content-addressed and a file enters it before the row that names it commits, so
// copying exactly the files the snapshot references gives a release that is wholly in or
// wholly out. backup.json goes last: without it, a directory is a backup that did not finish.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dataPaths } from '../config.js';
import { hashFile } from '../../signing/digest.js';
import {
  BackupError,
  copyVerified,
  databaseName,
  flush,
  flushDirectories,
  refuseObjectStore,
  refusePostgres,
  writeBackupManifest,
  type BackupFile,
  type BackupManifest,
} from './backup-manifest.js';
import { databaseLocation } from './open.js';
import { parseArtifactStoreUrl } from './artifact-stores.js';

export interface BackupOptions {
  dataDir: string;
  /** The server's `--database`; absent: DIR/sluice.db. PostgreSQL is refused with advice. */
  databaseUrl?: string;
  out: string;
  /**
   * Also copy DIR/keys (the server's signing key; in a development instance every role's
   * private key) and DIR/admin.token. Off by default: backups travel further than the server,
   * and production keep root and release keys offline (DESIGN.md, "Trust model").
   */
  includeKeys: boolean;
  /** The server's `--artifact-store`; an object store is refused with advice. */
  artifactStoreUrl?: string;
  now?: () => Date;
}

export interface BackupSummary {
  out: string;
  manifest: BackupManifest;
  bytes: number;
}

/** The largest step the API accepts: the whole database is copied in one step, one snapshot. */
const allPages = 0x7fffffff;

export async function createBackup(options: BackupOptions): Promise<BackupSummary> {
  const location = databaseLocation({ url: options.databaseUrl, dataDir: options.dataDir });
  if (parseArtifactStoreUrl(options.artifactStoreUrl).kind === 's3') refuseObjectStore('backup', options.artifactStoreUrl!);
  if (location.kind === 'postgres') refusePostgres('backup', location.url);
  const paths = { ...dataPaths(resolve(options.dataDir)), database: location.path };
  const out = resolve(options.out);
  if (!existsSync(paths.database)) throw new BackupError('no_database', `no database at ${paths.database}: is --data-dir right?`);
  const created = claimEmptyDirectory(out);
  try {
    const snapshot = join(out, databaseName);
    const takenAt = (options.now ?? (() => new Date()))();
    await snapshotDatabase(paths.database, snapshot);
    const references = readReferences(snapshot);
    await chmod(snapshot, 0o600);
    await flush(snapshot);
    const files: BackupFile[] = [{ path: databaseName, mode: 0o600, ...(await hashFile(snapshot)) }];
    // Paths as the data directory lays them out (the artifact store's <2 hex>/<sha256>), so
    // that a restore is a plain copy back.
    const copies = [
      ...references.artifacts.map((artifact) => ({
        path: `artifacts/${artifact.sha256.slice(0, 2)}/${artifact.sha256}`,
        mode: 0o644,
        expected: artifact,
      })),
      ...references.bundles.map((bundle) => ({ path: `bundles/${bundle.id}.gz`, mode: 0o600, expected: bundle })),
    ];
    for (const copy of copies) files.push(await copyVerified(join(paths.root, copy.path), join(out, copy.path), copy));
    const secrets = options.includeKeys ? await copySecrets(paths, out) : [];
    files.push(...secrets);
    await flushDirectories(out, files);
    const manifest: BackupManifest = {
      format: 'sluice-backup',
      formatVersion: 1,
      createdAt: takenAt.toISOString(),
      migrations: references.migrations,
      // False too when asked for but absent: a server started with --trust keeps keys elsewhere.
      includesKeys: secrets.length > 0,
      contents: { ...references.counts, artifacts: references.artifacts.length, bundles: references.bundles.length },
      files,
    };
    writeBackupManifest(out, manifest);
    return { out, manifest, bytes: files.reduce((sum, file) => sum + file.size, 0) };
  } catch (error) {
    // Only what this run wrote: the directory was empty (or absent) when it started.
    if (created) await rm(out, { recursive: true, force: true });
    else for (const name of readdirSync(out)) await rm(join(out, name), { recursive: true, force: true });
    throw error;
  }
}

/** Creates `directory`, or accepts it empty; returns whether it was created. */
function claimEmptyDirectory(directory: string): boolean {
  if (!existsSync(directory)) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    return true;
  }
  if (!statSync(directory).isDirectory() || readdirSync(directory).length > 0) {
    throw new BackupError('target_not_empty', `${directory} is not an empty directory: back up into a new one`);
  }
  return false;
}

async function snapshotDatabase(source: string, destination: string): Promise<void> {
  // Opened without migrating: a backup copies the schema as it is, it never changes it.
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // Several steps would restart whenever the server writes between them, possibly forever.
    await db.backup(destination, { progress: () => allPages });
  } finally {
    db.close();
  }
}

interface References {
  migrations: string[];
  artifacts: { sha256: string; size: number }[];
  bundles: { id: string; sha256: string; size: number }[];
  counts: { releases: number; plans: number; events: number };
}

/** What the snapshot names, read from the snapshot itself, never from the live database. */
function readReferences(path: string): References {
  const db = new Database(path, { fileMustExist: true });
  try {
    // One self-contained file: no -wal or -shm beside the backup.
    db.pragma('journal_mode = DELETE');
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok')
      throw new BackupError('backup_corrupt', `the database copy fails SQLite's integrity check: ${String(integrity)}`);
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      migrations: (db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map((row) => row.name),
      artifacts: db
        .prepare('SELECT sha256, MAX(size) AS size FROM releases GROUP BY sha256 ORDER BY sha256')
        .all() as References['artifacts'],
      bundles: db
        .prepare(
          'SELECT id, bundle_sha256 AS sha256, bundle_size AS size FROM support_sessions WHERE uploaded_at IS NOT NULL AND bundle_sha256 IS NOT NULL ORDER BY id',
        )
        .all() as References['bundles'],
      counts: { releases: count('releases'), plans: count('plans'), events: count('device_events') },
    };
  } finally {
    db.close();
  }
}

/** The keys directory and the admin token, with their permission bits (0600 stays 0600). */
async function copySecrets(paths: ReturnType<typeof dataPaths>, out: string): Promise<BackupFile[]> {
  const files: BackupFile[] = [];
  // Only the files sluice writes there (root.json, *.key): the manifest admits no other names.
  const names = existsSync(paths.keys)
    ? readdirSync(paths.keys).filter((name) => /^[\w-][\w.-]*$/.test(name) && statSync(join(paths.keys, name)).isFile())
    : [];
  const secrets = names.map((name) => ({ source: join(paths.keys, name), path: `keys/${name}` }));
  if (existsSync(paths.adminToken)) secrets.push({ source: paths.adminToken, path: 'admin.token' });
  for (const secret of secrets) {
    files.push(
      await copyVerified(secret.source, join(out, secret.path), { path: secret.path, mode: statSync(secret.source).mode & 0o777 }),
    );
  }
  return files;
}
