// `sluice release sign ARTIFACT --key KEY [--key KEY2] --product P --version V --hardware a,b
//  [--fixes F1,F2] [--notes TEXT] [--min-version V] [--expires ISO] [--downgrade] --out MANIFEST`
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { hashFile } from '../signing/digest.js';
import { loadPrivateKeyFile } from '../signing/keys.js';
import { createManifest } from '../signing/manifest.js';
import { signDocument } from '../signing/signed.js';

const list = (value: string | undefined) => (value ? value.split(',').map((item) => item.trim()).filter(Boolean) : []);

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string', multiple: true },
      product: { type: 'string' },
      version: { type: 'string' },
      hardware: { type: 'string' },
      fixes: { type: 'string' },
      notes: { type: 'string' },
      'min-version': { type: 'string' },
      expires: { type: 'string' },
      downgrade: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const artifact = positionals[0];
  if (!artifact) throw new Error('name the ARTIFACT to sign');
  for (const required of ['product', 'version', 'hardware', 'out'] as const) {
    if (!values[required]) throw new Error(`--${required} is required`);
  }
  if (!values.key?.length) throw new Error('--key is required (a release key made by `sluice keys init`; repeat it for a threshold above one)');
  const keys = values.key.map((path) => loadPrivateKeyFile(path));
  const digest = await hashFile(artifact);
  const manifest = createManifest({
    product: values.product!,
    version: values.version!,
    hardware: list(values.hardware),
    artifact: { name: basename(artifact), size: digest.size, sha256: digest.sha256 },
    fixes: list(values.fixes),
    notes: values.notes ?? '',
    ...(values['min-version'] ? { minVersion: values['min-version'] } : {}),
    ...(values.expires ? { expires: new Date(values.expires).toISOString() } : {}),
    ...(values.downgrade ? { downgrade: true } : {}),
  });
  writeFileSync(values.out!, `${JSON.stringify(signDocument(manifest, keys), null, 2)}\n`);
  process.stdout.write(`signed ${manifest.product} ${manifest.version} (${manifest.artifact.size} bytes, sha256 ${manifest.artifact.sha256}) into ${values.out}\n`);
  return 0;
}
