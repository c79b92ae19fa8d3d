// backup.json: what a backup holds, with each file's size and sha256. It is written last, so a
// directory without it is a backup that never finished; restore trusts nothing it does not list
// and verifies everything it lists before writing a byte.
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, chmod, mkdir, open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { hashFile } from '../../signing/digest.js';
import { writeFileAtomically } from '../../client/state-file.js';
import { redactDatabaseUrl } from './database-url.js';

export const manifestName = 'backup.json';
export const databaseName = 'sluice.db';

/** Backup and restore failures, each with a stable code so callers and tests act on a kind. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
  constructor(
    readonly code:
      | 'backup_incomplete'
      | 'backup_invalid'
      | 'backup_too_new'
      | 'backup_corrupt'
      | 'file_missing'
      | 'digest_mismatch'
      | 'no_database'
      | 'target_not_empty'
      | 'database_not_sqlite'
      | 'artifacts_in_object_store',
    message: string,
  ) {
    super(message);
  }
}

// Only these paths can appear: a manifest naming "../x" or "/etc/x" is refused, not followed.
const backupPath = '^(sluice\\.db|admin\\.token|artifacts/[0-9a-f]{2}/[0-9a-f]{64}|bundles/[\\w-]+\\.gz|keys/[\\w-][\\w.-]*)$';
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Count = Type.Integer({ minimum: 0 });

const BackupFile = Type.Object(
  {
    path: Type.String({ pattern: backupPath }),
    size: Count,
    sha256: Sha256,
    /** Permission bits, so that keys and the admin token come back as 0600. */
    mode: Type.Integer({ minimum: 0, maximum: 0o777 }),
  },
  { additionalProperties: false },
);

const BackupManifest = Type.Object(
  {
    format: Type.Literal('sluice-backup'),
    formatVersion: Type.Literal(1),
    createdAt: Type.String({ minLength: 1 }),
    /** The migrations applied to the backed-up database; the last one is its schema version. */
    migrations: Type.Array(Type.String({ pattern: '^\\d{3}_[\\w-]+\\.sql$' }), { minItems: 1 }),
    includesKeys: Type.Boolean(),
    contents: Type.Object(
      { releases: Count, plans: Count, events: Count, artifacts: Count, bundles: Count },
      { additionalProperties: false },
    ),
    files: Type.Array(BackupFile, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type BackupFile = Static<typeof BackupFile>;
export type BackupManifest = Static<typeof BackupManifest>;

export function writeBackupManifest(directory: string, manifest: BackupManifest): void {
  writeFileAtomically(join(directory, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readBackupManifest(directory: string): BackupManifest {
  const path = join(directory, manifestName);
  if (!existsSync(path)) {
    throw new BackupError('backup_incomplete', `${path} is missing: not a sluice backup, or one that did not finish`);
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new BackupError('backup_invalid', `${path} is not JSON`);
  }
  if (!Value.Check(BackupManifest, document)) {
    const first = [...Value.Errors(BackupManifest, document)][0];
    throw new BackupError(
      'backup_invalid',
      `${path} is not a sluice backup manifest (format 1): ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(),
    );
  }
  const paths = document.files.map((file) => file.path);
  if (!paths.includes(databaseName)) throw new BackupError('backup_invalid', `${path} lists no ${databaseName}`);
  if (new Set(paths).size !== paths.length) throw new BackupError('backup_invalid', `${path} lists a file twice`);
  return document;
}

/**
 * `sluice backup` and `restore` copy a SQLite data directory. A PostgreSQL database is backed
 * up with PostgreSQL's own tools, which copy it consistently while it serves; the artifact
 * store beside it holds bytes the database only names.
 */
export function refusePostgres(command: 'backup' | 'restore', url: string): never {
  const advice =
    command === 'backup'
      ? 'back it up with pg_dump (pg_dump --format=custom --file=sluice.dump "$DATABASE_URL") and copy the artifact store (DIR/artifacts and DIR/bundles, or the bucket) and DIR/keys after it'
      : 'restore its pg_dump with pg_restore (pg_restore --clean --if-exists --dbname="$DATABASE_URL" sluice.dump) and copy the artifact store back';
  throw new BackupError(
    'database_not_sqlite',
    `sluice ${command} copies a SQLite data directory, and this server's database is PostgreSQL (${redactDatabaseUrl(url)}): ${advice} (README, "Running on PostgreSQL")`,
  );
}

/**
 * `sluice backup` and `restore` copy the data directory's artifacts/ and bundles/; in an
 * object store they are not there. The bucket is backed up with the provider's own tools,
 * which copy it while it serves (versioning, replication, `aws s3 sync`); its objects are
 * never rewritten (content-addressed keys), so a copy taken after the database's is complete.
 */
export function refuseObjectStore(command: 'backup' | 'restore', location: string): never {
  const advice =
    command === 'backup'
      ? `back up the bucket with the provider's tools (bucket versioning or replication, or \`aws s3 sync ${location} DIR\`) after the database (sqlite3 DIR/sluice.db ".backup FILE", or pg_dump)`
      : `restore the database, then the bucket's objects with the provider's tools (\`aws s3 sync DIR ${location}\`)`;
  throw new BackupError(
    'artifacts_in_object_store',
    `sluice ${command} copies a data directory with its artifacts, and this server keeps them in ${location}: ${advice} (README, "Running on PostgreSQL and S3")`,
  );
}

/** A backup taken by newer code has migrations this code cannot undo or understand. */
export function refuseNewerSchema(manifest: BackupManifest, known: readonly string[]): void {
  const unknown = manifest.migrations.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new BackupError(
      'backup_too_new',
      `the backup's database has migrations this sluice does not know (${unknown.join(', ')}): restore it with the sluice version that made it, or a newer one`,
    );
  }
}

/** Every listed file exists with its recorded size and sha256; the first that does not is named. */
export async function verifyBackupFiles(directory: string, manifest: BackupManifest): Promise<void> {
  for (const file of manifest.files) await verifyFile(join(directory, file.path), file);
}

async function verifyFile(path: string, expected: { size: number; sha256: string }, name = path): Promise<void> {
  if (!existsSync(path)) throw new BackupError('file_missing', `${path} is missing`);
  const actual = await hashFile(path);
  if (actual.size !== expected.size || actual.sha256 !== expected.sha256) {
    throw new BackupError(
      'digest_mismatch',
      `${name} has ${actual.size} bytes with sha256 ${actual.sha256}; expected ${expected.size} bytes with sha256 ${expected.sha256}`,
    );
  }
}

/**
 * Copies `source` to `destination` (never over an existing file) and hashes the copy, so what
 * lands on disk is what was verified. `expected` absent: whatever the source holds is recorded.
 */
export async function copyVerified(
  source: string,
  destination: string,
  entry: { path: string; mode: number; expected?: { size: number; sha256: string } },
): Promise<BackupFile> {
  if (!existsSync(source)) throw new BackupError('file_missing', `${source} is missing`);
  await mkdir(dirname(destination), { recursive: true, mode: 0o700 });
  await copyFile(source, destination, constants.COPYFILE_EXCL);
  await chmod(destination, entry.mode);
  await flush(destination);
  if (entry.expected) await verifyFile(destination, entry.expected, source);
  const { size, sha256 } = entry.expected ?? (await hashFile(destination));
  return { path: entry.path, size, sha256, mode: entry.mode };
}

/** One line for operators: what a backup holds. */
export function describeBackup(manifest: BackupManifest): string {
  const { releases, artifacts, plans, events, bundles } = manifest.contents;
  const keys = manifest.includesKeys ? 'keys and admin token included' : 'no keys or admin token';
  return `${releases} releases (${artifacts} artifacts), ${plans} plans, ${events} device events, ${bundles} diagnostics bundles; schema ${manifest.migrations.at(-1)}; ${keys}; taken ${manifest.createdAt}`;
}

/** fsync: the manifest (written last) must never reach the disk before the files it lists. */
export async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The directory entries of `files` below `root`, so that the files are found after a crash. */
export async function flushDirectories(root: string, files: readonly BackupFile[]): Promise<void> {
  const directories = new Set([root, ...files.map((file) => dirname(join(root, file.path)))]);
  for (const directory of directories) await flush(directory);
}
