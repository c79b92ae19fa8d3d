// `sluice restore --from DIR [--data-dir DIR] [--database URL] [--force]`: a backup back into
// a data directory, verified before anything is written (server/storage/restore.ts). Stop the
// server first.
import { parseOptions } from './options.js';
import { restoreBackup } from '../server/storage/restore.js';
import { describeBackup } from '../server/storage/backup-manifest.js';
import { databaseUrlFrom } from '../server/config.js';
import { artifactStoreUrlFrom } from '../server/storage/artifact-stores.js';

export const options = {
  from: { type: 'string', value: 'DIR', required: true, description: 'a directory written by `sluice backup`' },
  'data-dir': { type: 'string', value: 'DIR', default: 'data', description: 'the data directory to restore into' },
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
    description: "the server's artifact store; s3://… is refused with the advice to restore the bucket with the provider's tools",
  },
  force: { type: 'boolean', default: false, description: 'replace a non-empty data directory, which is moved aside, not deleted' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.from) throw new Error('--from DIR is required: a directory written by `sluice backup`');
  const { dataDir, manifest, previous } = await restoreBackup({
    from: values.from,
    dataDir: values['data-dir'],
    databaseUrl: databaseUrlFrom(values.database),
    artifactStoreUrl: artifactStoreUrlFrom(values['artifact-store']),
    force: values.force,
  });
  const lines = [`restored ${values.from} into ${dataDir}`, describeBackup(manifest)];
  if (previous) lines.push(`the data directory it replaced is now ${previous}; delete it once the restored server works`);
  if (!manifest.includesKeys) {
    lines.push(
      `this backup has no keys: put the server's keys in ${dataDir}/keys (and admin.token beside them), or start the server with --server-key KEY (the trusted roots are in the database)`,
    );
  }
  lines.push(`start the server with: sluice server --data-dir ${dataDir}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
