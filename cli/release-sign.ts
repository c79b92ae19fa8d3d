// `sluice release sign ARTIFACT --key KEY [--key KEY2] --product P --version V --hardware a,b
//  [--fixes F1,F2] [--notes TEXT] [--min-version V] [--expires ISO] [--downgrade --replaces RANGE]
//  --out MANIFEST` (docs/trust-model.md): signed offline by one or more release
// keys. The artifact is hashed as a stream, never read whole: an image may be a gibibyte.
import { parseOptions } from './options.js';
import { statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { hashFile } from '../signing/digest.js';
import { leastSaving, writeChunkPack } from '../signing/chunk-pack-file.js';
import { keyIdOf, loadPrivateKeyFile } from '../signing/keys.js';
import { createManifest } from '../signing/manifest.js';
import { signDocument } from '../signing/signed.js';

const usage =
  'sluice release sign ARTIFACT --key KEY [--key KEY2] --product P --version V --hardware a,b [--fixes F1,F2] [--notes TEXT] [--min-version V] [--expires ISO] [--downgrade --replaces RANGE] [--chunk-index FILE --chunk-pack FILE | --no-chunk-index] --out MANIFEST';

const list = (value: string | undefined) =>
  value
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : [];

export const options = {
  key: {
    type: 'string',
    value: 'KEY',
    multiple: true,
    required: true,
    description: 'a release key (PKCS#8 PEM) from `sluice keys init`; repeat for a threshold above one',
  },
  product: { type: 'string', value: 'P', required: true, description: 'the product id the release is for' },
  version: { type: 'string', value: 'V', required: true, description: "the build's semantic version" },
  hardware: { type: 'string', value: 'a,b', required: true, description: 'the hardware ids the build runs on, comma-separated' },
  fixes: { type: 'string', value: 'F1,F2', description: 'ids of the faults the release fixes, comma-separated' },
  notes: { type: 'string', value: 'TEXT', default: '', shownDefault: 'empty', description: 'release notes for the written plan' },
  'min-version': { type: 'string', value: 'V', description: 'the lowest running version the update may be applied over' },
  expires: { type: 'string', value: 'ISO', description: 'when devices stop accepting the manifest' },
  downgrade: { type: 'boolean', default: false, description: 'sign an explicit downgrade; needs --replaces' },
  replaces: { type: 'string', value: 'RANGE', description: 'semver range of the running versions a downgrade may replace' },
  out: { type: 'string', value: 'MANIFEST', required: true, description: 'where to write the signed manifest' },
  'chunk-index': {
    type: 'string',
    value: 'FILE',
    shownDefault: 'MANIFEST.chunks',
    description:
      'where to write the chunk index that lets devices update by delta (docs/delta-updates.md); `sluice release publish` uploads it',
  },
  'chunk-pack': {
    type: 'string',
    value: 'FILE',
    shownDefault: 'MANIFEST.pack',
    description: "where to write the chunk pack (the artifact's chunks, each compressed) that devices fetch their ranges from",
  },
  'no-chunk-index': {
    type: 'boolean',
    default: false,
    description: 'sign without a chunk index and pack: devices always download the whole artifact',
  },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(options, argv, { positionals: true });
  if (positionals.length !== 1) throw new Error(`name exactly one ARTIFACT to sign; usage: ${usage}`);
  const artifact = positionals[0];
  if (!values.key?.length)
    throw new Error('--key is required: a release key from `sluice keys init` (repeat --key for a threshold above one)');
  if (!values.product) throw new Error('--product is required (the product id the release is for)');
  if (!values.version) throw new Error('--version is required (the semantic version of the build)');
  // Required on purpose: a manifest without hardware ids would install on no device at all.
  const hardware = list(values.hardware);
  if (hardware.length === 0)
    throw new Error('--hardware is required: the hardware ids this build runs on, comma-separated (e.g. --hardware emu-hw-1,emu-hw-2)');
  // Asked here rather than left to the manifest's check, to say which option is missing.
  if (values.downgrade && !values.replaces)
    throw new Error(
      '--downgrade needs --replaces RANGE: the running versions this downgrade may replace (e.g. --replaces ">=3.0.0 <3.2.0")',
    );
  if (!values.out) throw new Error('--out MANIFEST is required (where to write the signed manifest)');
  let expires: string | undefined;
  if (values.expires !== undefined) {
    const date = new Date(values.expires);
    if (Number.isNaN(date.getTime()))
      throw new Error(`--expires "${values.expires}" is not a date (use ISO 8601, e.g. 2027-06-30T00:00:00Z)`);
    expires = date.toISOString();
  }
  let isFile = false;
  try {
    isFile = statSync(artifact).isFile();
  } catch {
    /* reported below */
  }
  if (!isFile) throw new Error(`the artifact ${artifact} is not a readable file`);

  // The same key named twice signs once: a second signature by it would count for nothing.
  const keys = [...new Map(values.key.map((path) => loadPrivateKeyFile(path)).map((key) => [keyIdOf(key), key])).values()];
  const indexPath = values['chunk-index'] ?? `${values.out}.chunks`;
  const packPath = values['chunk-pack'] ?? `${values.out}.pack`;
  // One read gives the artifact's digest, its chunk index and its chunk pack.
  const indexed = values['no-chunk-index'] ? null : await writeChunkPack(artifact, packPath);
  const digest = indexed ?? (await hashFile(artifact));
  const chunkIndex = indexed ? { sha256: createHash('sha256').update(indexed.index).digest('hex'), size: indexed.index.length } : undefined;
  const manifest = createManifest({
    product: values.product,
    version: values.version,
    hardware,
    artifact: { name: basename(artifact), size: digest.size, sha256: digest.sha256 },
    fixes: list(values.fixes),
    notes: values.notes ?? '',
    ...(values['min-version'] ? { minVersion: values['min-version'] } : {}),
    ...(expires ? { expires } : {}),
    ...(values.downgrade ? { downgrade: true } : {}),
    ...(values.replaces !== undefined ? { replaces: values.replaces } : {}),
    ...(chunkIndex ? { chunkIndex } : {}),
    ...(indexed ? { chunkPack: indexed.pack } : {}),
  });
  if (indexed) writeFileSync(indexPath, indexed.index);
  writeFileSync(values.out, `${JSON.stringify(signDocument(manifest, keys), null, 2)}\n`);
  const keyIds = keys.map((key) => keyIdOf(key));
  process.stdout.write(
    `signed ${manifest.product} ${manifest.version} (${manifest.artifact.size} bytes, sha256 ${manifest.artifact.sha256}) with ${keyIds.length} key(s) ${keyIds.join(', ')} into ${values.out}${indexed ? `; chunk index (${indexed.index.length} bytes) in ${indexPath}, ${packNote(indexed)}` : ''}\n`,
  );
  return 0;
}

function packNote(indexed: { pack: { size: number }; packFile: string | null }): string {
  return indexed.packFile
    ? `chunk pack (${indexed.pack.size} bytes) in ${indexed.packFile}`
    : `no chunk pack: compressing saved less than ${leastSaving * 100} %, so devices fetch their ranges from the artifact itself`;
}
