// First start on an empty data directory (DESIGN.md, "CLI"): without --trust, create
// development keys and root.json under DIR/keys; in every case make sure an admin exists,
// with its token in DIR/admin.token (mode 0600), and say where everything is.
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './storage/store.js';
import type { TrustRoots } from './services/trust-roots.js';
import { dataPaths, type ServerOptions } from './config.js';
import { SluiceError } from './errors.js';
import { initKeys } from '../cli/keys.js';
import { keyIdOf, loadPrivateKeyFile } from '../signing/keys.js';
import { findOfflineKeys, misplacedKeyWarning } from './key-placement.js';
import type { SignedDocument } from '../signing/signed.js';
import type { Root } from '../signing/root.js';

export interface BootstrapReport {
  messages: string[];
}

export async function bootstrap(store: Store, trust: TrustRoots, options: Readonly<ServerOptions>): Promise<BootstrapReport> {
  const paths = dataPaths(options.dataDir);
  const messages: string[] = [];
  const now = options.now();
  // A root whose server role lacks the key this server signs with would freeze the fleet:
  // adopting one is refused (services/trust-roots.ts), here as in POST /trust/root.
  const signing = () => ({
    serverKeyId:
      options.serverKeyPath && existsSync(options.serverKeyPath) ? keyIdOf(loadPrivateKeyFile(options.serverKeyPath)) : undefined,
  });
  if (options.trustRootPath) {
    await trust.adopt(JSON.parse(readFileSync(options.trustRootPath, 'utf8')) as SignedDocument<Root>, now, signing());
  } else if (!(await store.trustRoots.latest())) {
    const rootPath = join(paths.keys, 'root.json');
    if (!existsSync(rootPath)) {
      initKeys(paths.keys);
      messages.push(`created development keys and root.json in ${paths.keys} (for production, sign offline and start with --trust)`);
    }
    await trust.adopt(JSON.parse(readFileSync(rootPath, 'utf8')) as SignedDocument<Root>, now, signing());
  }
  const current = (await trust.current()).root;
  // A restart with another server key than the stored root names would sign answers no device accepts.
  const { serverKeyId } = signing();
  if (serverKeyId && !current.roles.server.keyids.includes(serverKeyId)) {
    throw new Error(
      `the server key ${options.serverKeyPath} (key id ${serverKeyId}) is not in the server role of root version ${current.version}: devices would refuse every check-in answer`,
    );
  }
  const misplaced = findOfflineKeys(current, { dataDir: paths.root, keysDir: paths.keys, serverKeyPath: options.serverKeyPath });
  if (misplaced.length > 0) messages.push(misplacedKeyWarning(misplaced));
  if (!(await store.users.hasAdmin())) {
    try {
      const { token } = await store.users.create({ username: 'admin', role: 'admin' }, now);
      writeFileSync(paths.adminToken, `${token}\n`, { mode: 0o600 });
      chmodSync(paths.adminToken, 0o600);
      messages.push(`created user "admin"; its token is in ${paths.adminToken}`);
    } catch (error) {
      // Another process on the same database created it first; its token is in that one's data directory.
      if (!(error instanceof SluiceError && error.code === 'already_exists')) throw error;
    }
  }
  return { messages };
}
