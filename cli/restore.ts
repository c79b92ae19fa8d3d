// `sluice restore --from DIR [--data-dir DIR] [--force]`: a backup back into a data directory,
// verified before anything is written (server/storage/restore.ts). Stop the server first.
import { parseArgs } from 'node:util';
import { restoreBackup } from '../server/storage/restore.js';
import { describeBackup } from '../server/storage/backup-manifest.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      'data-dir': { type: 'string', default: 'data' },
      force: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.from) throw new Error('--from DIR is required: a directory written by `sluice backup`');
  const { dataDir, manifest, previous } = await restoreBackup({ from: values.from, dataDir: values['data-dir'], force: values.force });
  const lines = [`restored ${values.from} into ${dataDir}`, describeBackup(manifest)];
  if (previous) lines.push(`the data directory it replaced is now ${previous}; delete it once the restored server works`);
  if (!manifest.includesKeys) {
    lines.push(`this backup has no keys: put the server's keys in ${dataDir}/keys (and admin.token beside them), or start the server with --server-key KEY (the trusted roots are in the database)`);
  }
  lines.push(`start the server with: sluice server --data-dir ${dataDir}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
