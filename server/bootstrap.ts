// First start on an empty data directory (DESIGN.md, "CLI"): without --trust, create
// development keys and root.json under DIR/keys; in every case make sure an admin exists,
// with its token in DIR/admin.token (mode 0600), and say where everything is.
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './storage/database.js';
import type { TrustRoots } from './trust-roots.js';
import { dataPaths, type ServerOptions } from './config.js';
import { createUser } from './storage/identity.js';
import { initKeys } from '../cli/keys.js';
import type { SignedDocument } from '../signing/signed.js';
import type { Root } from '../signing/root.js';

export interface BootstrapReport {
  messages: string[];
}

export function bootstrap(db: Db, trust: TrustRoots, options: Readonly<ServerOptions>): BootstrapReport {
  const paths = dataPaths(options.dataDir);
  const messages: string[] = [];
  const now = options.now();
  const hasRoot = db.prepare('SELECT 1 FROM trust_roots LIMIT 1').get() !== undefined;
  if (options.trustRootPath) {
    trust.adopt(JSON.parse(readFileSync(options.trustRootPath, 'utf8')) as SignedDocument<Root>, now);
  } else if (!hasRoot) {
    const rootPath = join(paths.keys, 'root.json');
    if (!existsSync(rootPath)) {
      initKeys(paths.keys);
      messages.push(`created development keys and root.json in ${paths.keys} (for production, sign offline and start with --trust)`);
    }
    trust.adopt(JSON.parse(readFileSync(rootPath, 'utf8')) as SignedDocument<Root>, now);
  }
  const hasAdmin = db.prepare("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").get() !== undefined;
  if (!hasAdmin) {
    const { token } = createUser(db, { username: 'admin', role: 'admin' }, now);
    writeFileSync(paths.adminToken, `${token}\n`, { mode: 0o600 });
    chmodSync(paths.adminToken, 0o600);
    messages.push(`created user "admin"; its token is in ${paths.adminToken}`);
  }
  return { messages };
}
