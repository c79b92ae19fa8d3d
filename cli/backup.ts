// `sluice backup --out DIR [--data-dir DIR] [--include-keys]`: a consistent copy of a data
// directory, safe while `sluice server` runs on it (server/storage/backup.ts says how).
import { parseArgs } from 'node:util';
import { createBackup } from '../server/storage/backup.js';
import { describeBackup } from '../server/storage/backup-manifest.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      'data-dir': { type: 'string', default: 'data' },
      'include-keys': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.out) throw new Error('--out DIR is required: a new or empty directory for the backup');
  const { out, manifest, bytes } = await createBackup({ dataDir: values['data-dir'], out: values.out, includeKeys: values['include-keys'] });
  process.stdout.write(`backed up ${values['data-dir']} into ${out} (${manifest.files.length} files, ${bytes} bytes)\n${describeBackup(manifest)}\n`);
  if (!manifest.includesKeys) {
    process.stdout.write('keys are not in this backup: keep DIR/keys and admin.token safe elsewhere, or back up with --include-keys\n');
  }
  return 0;
}
