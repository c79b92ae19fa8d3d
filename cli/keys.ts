// `sluice keys init --out DIR`: root.json and one private key per role (DESIGN.md, "CLI").
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKeyPair, writePrivateKeyFile } from '../signing/keys.js';
import { createRoot, roleNames } from '../signing/root.js';
import { signDocument } from '../signing/signed.js';

const oneYear = 365 * 24 * 3600 * 1000;

export function initKeys(directory: string, options: { expires?: Date } = {}) {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const rootPath = join(directory, 'root.json');
  const keyPaths = Object.fromEntries(roleNames.map((role) => [role, join(directory, `${role}.key`)])) as Record<(typeof roleNames)[number], string>;
  for (const path of [rootPath, ...Object.values(keyPaths)]) {
    if (existsSync(path)) throw new Error(`${path} already exists; keys are never overwritten`);
  }
  const pairs = Object.fromEntries(roleNames.map((role) => [role, generateKeyPair()])) as Record<(typeof roleNames)[number], ReturnType<typeof generateKeyPair>>;
  const root = createRoot({
    expires: options.expires ?? new Date(Date.now() + oneYear),
    roles: { root: { keys: [pairs.root.privateKey] }, release: { keys: [pairs.release.privateKey] }, server: { keys: [pairs.server.privateKey] } },
  });
  for (const role of roleNames) writePrivateKeyFile(keyPaths[role], pairs[role].privateKey);
  writeFileSync(rootPath, `${JSON.stringify(signDocument(root, [pairs.root.privateKey]), null, 2)}\n`);
  return { rootPath, keyPaths };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } } });
  if (!values.out) throw new Error('--out DIR is required');
  const { rootPath, keyPaths } = initKeys(resolve(values.out));
  process.stdout.write(`wrote ${rootPath}\n${Object.values(keyPaths).map((path) => `wrote ${path} (mode 0600)`).join('\n')}\n`);
  process.stdout.write('keep root.key and release.key offline; the server needs only root.json and server.key\n');
  return 0;
}
