// Offline keys found where the online server can read them (issue 15, "Limit what a stolen
// online key can do"). Whoever takes the server then holds more than the server key: with a
// release key they sign any software for the fleet, with the root keys they rewrite whom the
// fleet trusts. The development bootstrap puts all three in DIR/keys, which is fine for a
// trial and wrong for production, so `sluice server` says so at every start.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { keyIdOf } from '../signing/keys.js';
import type { Root } from '../signing/root.js';

export interface MisplacedKey {
  path: string;
  role: 'root' | 'release';
}

/**
 * Private keys of the root's `root` or `release` role in the data directory, its keys/
 * folder or the server key's folder (not recursive). Found by key id, not by file name, so
 * a renamed copy is found too; unreadable and non-key files are passed over.
 */
export function findOfflineKeys(root: Root, places: { dataDir: string; keysDir: string; serverKeyPath?: string }): MisplacedKey[] {
  const directories = new Set(
    [places.dataDir, places.keysDir, ...(places.serverKeyPath ? [dirname(places.serverKeyPath)] : [])].map((path) => resolve(path)),
  );
  const found: MisplacedKey[] = [];
  for (const directory of directories) {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch {
      continue;
    }
    for (const name of names.filter((entry) => /\.(key|pem)$/i.test(entry))) {
      const path = join(directory, name);
      const role = roleOf(path, root);
      if (role) found.push({ path, role });
    }
  }
  return found;
}

function roleOf(path: string, root: Root): MisplacedKey['role'] | null {
  try {
    if (!statSync(path).isFile() || statSync(path).size > 16 * 1024) return null;
    const keyid = keyIdOf(createPrivateKey(readFileSync(path)));
    if (root.roles.root.keyids.includes(keyid)) return 'root';
    if (root.roles.release.keyids.includes(keyid)) return 'release';
  } catch {
    /* not a private key we can read */
  }
  return null;
}

export function misplacedKeyWarning(keys: readonly MisplacedKey[]): string {
  const list = keys.map((key) => `${key.role} key ${key.path}`).join(', ');
  return (
    `warning: ${list} beside the server key: anyone who takes this server could sign releases or new roots. ` +
    'That suits development only; in production keep root and release keys offline (README, "Running in production")'
  );
}
