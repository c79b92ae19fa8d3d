// `sluice keys init --out DIR` (docs/trust-model.md): root.json and one private key per role,
// root.key, release.key and server.key (PKCS#8 PEM, mode 0600). The server calls initKeys to
// create development keys on an empty data directory.
import { parseOptions } from './options.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { generateKeyPair, keyIdOf, writePrivateKeyFile } from '../signing/keys.js';
import { createRoot, roleNames, type RoleName } from '../signing/root.js';
import { signDocument } from '../signing/signed.js';

const oneYear = 365 * 24 * 3600 * 1000;

export interface InitKeysOptions {
  /** Defaults to one year after `now`. */
  expires?: Date;
  now?: Date;
}

export interface InitializedKeys {
  rootPath: string;
  keyPaths: Record<RoleName, string>;
  keyIds: Record<RoleName, string>;
}

/** Root version 1, one key per role, thresholds 1. Refuses to overwrite any of the four files. */
export function initKeys(directory: string, options: InitKeysOptions = {}): InitializedKeys {
  const rootPath = join(directory, 'root.json');
  const keyPaths = Object.fromEntries(roleNames.map((role) => [role, join(directory, `${role}.key`)])) as Record<RoleName, string>;
  // All checked before anything is written: a half-replaced key set would lock devices out.
  for (const path of [rootPath, ...Object.values(keyPaths)]) {
    if (existsSync(path)) throw new Error(`${path} already exists; keys are never overwritten`);
  }
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const privateKeys = Object.fromEntries(roleNames.map((role) => [role, generateKeyPair().privateKey])) as Record<RoleName, KeyObject>;
  const now = options.now ?? new Date();
  const root = createRoot({
    expires: options.expires ?? new Date(now.getTime() + oneYear),
    roles: { root: { keys: [privateKeys.root] }, release: { keys: [privateKeys.release] }, server: { keys: [privateKeys.server] } },
  });
  // Keys first (each opened with "wx", so a concurrent init fails instead of mixing key sets),
  // root.json last: a root.json on disk always names keys that exist beside it.
  for (const role of roleNames) writePrivateKeyFile(keyPaths[role], privateKeys[role]);
  writeFileSync(rootPath, `${JSON.stringify(signDocument(root, [privateKeys.root]), null, 2)}\n`, { flag: 'wx', mode: 0o644 });
  const keyIds = Object.fromEntries(roleNames.map((role) => [role, keyIdOf(privateKeys[role])])) as Record<RoleName, string>;
  return { rootPath, keyPaths, keyIds };
}

export const options = {
  out: {
    type: 'string',
    value: 'DIR',
    required: true,
    description: 'the directory for root.json and the three keys, created; keys are never overwritten',
  },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.out) throw new Error('--out DIR is required (the directory for root.json and the three keys)');
  const { rootPath, keyPaths, keyIds } = initKeys(resolve(values.out));
  const lines = [`wrote ${rootPath} (version 1, expires in one year)`];
  for (const role of roleNames) lines.push(`wrote ${keyPaths[role]} (mode 0600, key id ${keyIds[role]})`);
  lines.push('keep root.key and release.key offline; the server needs only root.json and server.key');
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
