// `sluice backup --out DIR [--data-dir DIR] [--database URL] [--include-keys]`: a consistent
// copy of a data directory, safe while `sluice server` runs on it (server/storage/backup.ts
// says how). A PostgreSQL database is refused with the advice to use pg_dump.
import { parseOptions } from './options.js';
import { createBackup } from '../server/storage/backup.js';
import { describeBackup } from '../server/storage/backup-manifest.js';
import { databaseUrlFrom } from '../server/config.js';
import { artifactStoreUrlFrom } from '../server/storage/artifact-stores.js';

export const options = {
  out: { type: 'string', value: 'DIR', required: true, description: 'a new or empty directory for the backup' },
  'data-dir': { type: 'string', value: 'DIR', default: 'data', description: 'the data directory of the server to back up' },
  database: {
    type: 'string',
    value: 'URL',
    shownDefault: '$SLUICE_DATABASE_URL, else DIR/sluice.db',
    description: "the server's database: sqlite:PATH or postgres://…",
  },
  'artifact-store': {
    type: 'string',
    value: 'URL',
    shownDefault: '$SLUICE_ARTIFACT_STORE, else DIR/artifacts',
    description: "the server's artifact store; s3://… is refused with the advice to back up the bucket with the provider's tools",
  },
  'include-keys': { type: 'boolean', default: false, description: 'copy keys/ and admin.token too, keeping mode 0600' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.out) throw new Error('--out DIR is required: a new or empty directory for the backup');
  const { out, manifest, bytes } = await createBackup({
    dataDir: values['data-dir'],
    databaseUrl: databaseUrlFrom(values.database),
    artifactStoreUrl: artifactStoreUrlFrom(values['artifact-store']),
    out: values.out,
    includeKeys: values['include-keys'],
  });
  process.stdout.write(
    `backed up ${values['data-dir']} into ${out} (${manifest.files.length} files, ${bytes} bytes)\n${describeBackup(manifest)}\n`,
  );
  if (!manifest.includesKeys) {
    process.stdout.write('keys are not in this backup: keep DIR/keys and admin.token safe elsewhere, or back up with --include-keys\n');
  }
  return 0;
}
